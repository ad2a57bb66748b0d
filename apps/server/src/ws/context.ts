/** What the hub lends the modules that answer its requests: its services, its clients, and how to reach them. */
import type { ServerMessage } from '@nslab/model';
import type { LabFeed } from '../live/feed';
import type { LabService } from '../labs';
import type { ConntrackService } from '../capture/conntrack-live';
import type { LessonEngine } from '../lesson/engine';
import type { LessonLive } from '../lesson/live';
import type { Classroom } from '../classroom/classroom';
import type { Client } from './client';

/** The hub as a request handler sees it. */
export interface HubContext {
  readonly feed: LabFeed;
  readonly labs: LabService;
  /** Lessons: the engine and their live status (absent in servers built without them). */
  readonly lessons: { engine: LessonEngine; live: LessonLive } | undefined;
  /** Live conntrack tables (absent in servers built without them). */
  readonly conntrack: ConntrackService | undefined;
  /** Classroom mode: trainees' quotas, checked before a change runs. */
  readonly classroom: Classroom | undefined;
  /** Every connected client. */
  readonly clients: ReadonlySet<Client>;
  /** Sends a message to a client, as much of it as the client's principal may see; nothing once its socket closed. */
  send(client: Client, message: ServerMessage): void;
  /** Stops watching a lab that no client subscribes to or watches packets of any more. */
  release(lab: string): void;
  /** Sends a client a fresh snapshot of a lab it subscribes to. */
  resend(client: Client, lab: string): void;
}
