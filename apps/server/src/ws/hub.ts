/**
 * The lab socket (/ws): hello on connect, a snapshot per subscribed lab and patches
 * after, and apply/edit/destroy requests answered with plan, progress and result.
 * Every inbound message is validated; a bad one is answered with an error and the
 * socket stays open. An oversized one closes that socket (1009) and nothing else.
 *
 * The hub keeps the clients, their subscriptions and the fan-out of patches; the
 * requests are answered beside it: changes.ts (apply, edit, destroy), lessons.ts,
 * trace.ts (ping traces), kernel-reads.ts (sysctls, conntrack tables).
 */
import type { WebSocket } from 'ws';
import type { Change, ClientMessage, LabInfo, ServerMessage } from '@nslab/model';
import { parseClientMessage, PROTOCOL_VERSION } from '@nslab/model';
import type { LabFeed } from '../live/feed';
import type { LabSummary } from '../kernel/observe';
import type { LabService } from '../labs';
import type { PacketService } from '../packets';
import type { ConntrackService } from '../capture/conntrack-live';
import { LabError } from '../labs';
import type { LessonEngine } from '../lesson/engine';
import type { LessonLive } from '../lesson/live';
import type { Classroom } from '../classroom/classroom';
import type { Principal } from '../classroom/scope';
import { INSTRUCTOR, kernelLab, ownMessage } from '../classroom/scope';
import { admitViewerMessage } from '../liveview/policy';
import type { Client } from './client';
import { knownAs, newClient } from './client';
import type { HubContext } from './context';
import { answerChange, answerDestroy } from './changes';
import { answerLesson } from './lessons';
import { answerTrace } from './trace';
import { answerSysctls, unwatchConntrack, watchConntrack } from './kernel-reads';

/** Bytes a socket may have queued before patches to it are coalesced into a fresh snapshot (1 MiB). */
const MAX_BUFFERED = 1024 * 1024;

/** Fans lab state out to sockets and runs their requests. */
export class Hub {
  private readonly clients = new Set<Client>();
  /** Per lab, the stamp of its metadata last seen: a `docker` command in a shell changes it with the kernel. */
  private readonly seenMeta = new Map<string, string>();
  /** Per lab, requests between their feed.watch() and joining the lab: a client leaving meanwhile must not unwatch it under them. */
  private readonly joining = new Map<string, number>();
  /** What the modules answering requests (changes, lessons, trace, kernel-reads) use of the hub. */
  private readonly context: HubContext;

  constructor(
    private readonly feed: LabFeed,
    private readonly labs: LabService,
    private readonly packets: PacketService,
    private readonly version: string,
    /** Lessons: the engine and their live status (absent in servers built without them). */
    private readonly lessons?: { engine: LessonEngine; live: LessonLive },
    /** Live conntrack tables (absent in servers built without them). */
    private readonly conntrack?: ConntrackService,
    /** Classroom mode: trainees' quotas, checked before a change runs. */
    private readonly classroom?: Classroom,
  ) {
    this.context = {
      feed, labs, lessons, conntrack, classroom, clients: this.clients,
      send: (client, message) => this.send(client, message),
      release: (lab) => this.release(lab),
      resend: (client, lab) => this.resend(client, lab),
    };
  }

  /** Lab list in the protocol's shape. */
  static labInfo(labs: LabSummary[]): LabInfo[] {
    return labs.map((l) => ({ name: l.name, nodes: l.nodes.length }));
  }

  /** Takes a new authenticated socket, of the instructor (or the one user outside classroom mode), a trainee or a live view's viewer. */
  connect(ws: WebSocket, principal: Principal = INSTRUCTOR): void {
    const client = newClient(ws, principal);
    this.clients.add(client);
    this.send(client, { type: 'hello', protocol: PROTOCOL_VERSION, server: this.version, labs: Hub.labInfo(this.feed.labs()) });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return this.send(client, { type: 'error', code: 'bad-message', message: 'messages are JSON text, not binary' });
      // ws hands a Buffer while binaryType is its default, 'nodebuffer' (ArrayBuffer and Buffer[] are the other binaryTypes).
      this.onMessage(client, (data as Buffer).toString()).catch((err: unknown) => {
        // onMessage answers every failure of a request itself; this is a failure to answer.
        console.error(`nslab: a message on a lab socket could not be answered: ${err instanceof Error ? err.message : String(err)}`);
      });
    });
    ws.on('close', () => this.disconnect(client));
    ws.on('error', () => this.disconnect(client));
  }

  private disconnect(client: Client): void {
    if (!this.clients.delete(client)) return;
    if (client.lessonSend) this.lessons?.live.unwatch(client.lessonSend);
    for (const stop of client.packets.values()) stop();
    for (const stop of client.conntrack.values()) stop();
    client.conntrack.clear();
    const labs = new Set([...client.labs, ...client.packets.keys()]);
    client.packets.clear();
    client.labs.clear();
    for (const lab of labs) this.release(lab);
  }

  /** Stops watching a lab that no client subscribes to or watches packets of any more. */
  private release(lab: string): void {
    if ((this.joining.get(lab) ?? 0) > 0) return;
    if (![...this.clients].some((c) => c.labs.has(lab) || c.packets.has(lab))) this.feed.unwatch(lab);
  }

  /** Runs `join` (which awaits the lab's watch and then adds the client to it) with the lab held watched meanwhile. */
  private async joiningLab<T>(lab: string, join: () => Promise<T>): Promise<T> {
    this.joining.set(lab, (this.joining.get(lab) ?? 0) + 1);
    try {
      return await join();
    } finally {
      const left = (this.joining.get(lab) ?? 1) - 1;
      if (left > 0) this.joining.set(lab, left);
      else this.joining.delete(lab);
      // A client that left while this one joined (or this one gone too): release what nobody holds.
      this.release(lab);
    }
  }

  private send(client: Client, message: ServerMessage): void {
    if (client.ws.readyState !== client.ws.OPEN) return;
    const seen = ownMessage(client.principal, message);
    if (seen) client.ws.send(JSON.stringify(seen));
  }

  private async onMessage(client: Client, text: string): Promise<void> {
    const parsed = parseClientMessage(text);
    if (!parsed.ok) return this.send(client, { type: 'error', code: 'bad-message', message: parsed.error });
    const message = parsed.message;
    try {
      await this.handle(client, message);
    } catch (err) {
      const id = 'id' in message ? message.id : undefined;
      const lab = 'lab' in message ? knownAs(client.principal, message.lab) : undefined;
      if (err instanceof LabError) {
        this.send(client, {
          type: 'error', code: err.code, message: err.message,
          ...(id ? { id } : {}), ...(lab ? { lab } : {}),
          ...(err.problems ? { problems: err.problems } : {}), ...(err.op ? { op: err.op } : {}), ...(err.stderr ? { stderr: err.stderr } : {}),
        });
      } else {
        this.send(client, { type: 'error', code: 'internal', message: err instanceof Error ? err.message : String(err), ...(id ? { id } : {}) });
      }
    }
  }

  private async handle(client: Client, asked: ClientMessage): Promise<void> {
    // A live view shows its lab and changes nothing, whatever lab a change names (liveview/policy.ts).
    if (client.principal.kind === 'viewer') admitViewerMessage(client.principal.name, asked);
    // The lab named in the principal's space, as the kernel knows it (validated; a trainee's always theirs).
    const message = 'lab' in asked ? { ...asked, lab: kernelLab(client.principal, asked.lab) } : asked;
    switch (message.type) {
      case 'ping':
        return this.send(client, { type: 'pong', ...(message.id ? { id: message.id } : {}) });
      case 'subscribe':
        return this.joiningLab(message.lab, async () => {
          await this.feed.watch(message.lab);
          // The stamp before the read: a layer written in between is newer than the stamp, so the next patch resends it.
          const stamp = (await this.labs.metaStamp(message.lab)) ?? '';
          const meta = await this.labs.meta(message.lab);
          if (!this.seenMeta.has(message.lab)) this.seenMeta.set(message.lab, stamp);
          // Snapshot and subscription in one tick: every later patch applies on top of this snapshot.
          const topology = this.feed.current(message.lab);
          if (!this.clients.has(client)) return;
          if (!topology) throw new Error(`lab ${message.lab} stopped being watched while it was read: subscribe again`);
          client.labs.add(message.lab);
          this.send(client, { type: 'snapshot', lab: message.lab, topology, meta });
        });
      case 'unsubscribe':
        client.labs.delete(message.lab);
        client.resync.delete(message.lab);
        this.release(message.lab);
        return;
      case 'apply':
      case 'edit':
        return answerChange(this.context, client, message);
      case 'watch-packets':
        return this.joiningLab(message.lab, async () => {
          const topology = await this.feed.watch(message.lab);
          if (!this.clients.has(client)) return;
          // A trainee captures a few labs at once (quota captures); this client's own watch of the lab is counted already.
          if (!client.packets.has(message.lab)) this.classroom?.admitCapture(client.principal, message.lab);
          // Asked again (a page that saw its lab destroyed and applied anew): the watch starts afresh.
          client.packets.get(message.lab)?.();
          client.packets.set(message.lab, this.packets.watch(message.lab, Object.keys(topology.nodes), (m) => this.send(client, m)));
        });
      case 'unwatch-packets':
        client.packets.get(message.lab)?.();
        client.packets.delete(message.lab);
        this.release(message.lab);
        return;
      case 'trace':
        return answerTrace(this.context, client, message);
      case 'lesson-list':
      case 'lesson-start':
      case 'lesson-watch':
      case 'lesson-unwatch':
      case 'lesson-solve':
      case 'lesson-reset':
        return answerLesson(this.context, client, message);
      case 'conntrack-watch':
        return watchConntrack(this.context, client, message);
      case 'sysctl-read':
        return answerSysctls(this.context, client, message);
      case 'conntrack-unwatch':
        return unwatchConntrack(client, message);
      case 'destroy':
        return answerDestroy(this.context, client, message);
    }
  }

  /** A watched lab changed: send the patch to its subscribers (a snapshot to any that fell behind). */
  patch(lab: string, changes: Change[]): void {
    this.lessons?.live.changed(lab);
    const topology = this.feed.current(lab);
    if (topology && changes.some((c) => c.path.length === 2 && c.path[0] === 'nodes')) {
      this.packets.sync(lab, Object.keys(topology.nodes));
      this.conntrack?.sync(lab, Object.keys(topology.nodes));
    }
    for (const client of this.clients) {
      if (!client.labs.has(lab) || client.resyncing.has(lab)) continue; // a snapshot on its way will hold this change
      if (client.ws.bufferedAmount > MAX_BUFFERED) {
        client.resync.add(lab);
        continue;
      }
      if (client.resync.delete(lab)) {
        this.resend(client, lab);
        continue;
      }
      this.send(client, { type: 'patch', lab, changes });
    }
    this.metaChanged(lab);
  }

  /**
   * The container layer lives in the lab's metadata file: when it was rewritten (docker run or network
   * create in a shell, with a kernel change or, as `--net=container:` is, without one), subscribers are
   * resent the lab, layer included. Called on every patch and when the file is seen written (kernel/meta.ts).
   */
  metaChanged(lab: string): void {
    if (!this.seenMeta.has(lab)) return; // nobody has subscribed to it
    void this.labs.metaStamp(lab).then((stamp) => {
      const before = this.seenMeta.get(lab);
      if (before === undefined || before === (stamp ?? '')) return;
      this.seenMeta.set(lab, stamp ?? '');
      for (const client of this.clients) if (client.labs.has(lab) && !client.resyncing.has(lab)) this.resend(client, lab);
    }).catch(() => undefined);
  }

  /**
   * Sends a client a fresh snapshot of a lab whose patches it missed. The state is read in the same
   * tick as the send, after the metadata has been read, and the lab's patches to this client are held
   * back meanwhile: so the snapshot holds every change before it, and every patch after it is newer.
   */
  private resend(client: Client, lab: string): void {
    client.resyncing.add(lab);
    void this.labs.meta(lab).catch(() => ({})).then((meta) => {
      client.resyncing.delete(lab);
      const topology = this.feed.current(lab);
      if (!topology || !client.labs.has(lab)) return;
      this.send(client, { type: 'snapshot', lab, topology, meta });
    });
  }

  /** The list of labs changed: tell everyone. */
  labList(labs: LabSummary[]): void {
    for (const client of this.clients) this.send(client, { type: 'labs', labs: Hub.labInfo(labs) });
  }

  /** Closes the sockets of one principal (a trainee removed from the class): `code` and `reason` say why. */
  closeWhere(match: (principal: Principal) => boolean, code: number, reason: string): void {
    for (const client of this.clients) if (match(client.principal)) client.ws.close(code, reason);
  }

  /** Closes every socket (server stop). */
  close(): void {
    for (const client of this.clients) client.ws.close(1001, 'server stopping');
  }
}
