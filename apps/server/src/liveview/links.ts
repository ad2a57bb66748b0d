/**
 * Live-view links: a token that shows one lab (canvas, packets, lesson status, terminal output)
 * and changes nothing, for a projector or a stream. The instructor makes one for any lab, a
 * trainee for their own. Kept in the server's memory only: a restarted server ends every link.
 *
 * Each link's open sockets are tracked here, so that revoking it (or its end) closes them: a
 * link that stops working must also stop showing.
 */
import { randomBytes } from 'node:crypto';
import { newToken, tokenMatches } from '../http/auth';
import type { Principal } from '../classroom/scope';

/** A link's lifetime unless asked otherwise: 12 hours, a school day with its evening. */
export const DEFAULT_VIEW_HOURS = 12;

/** The longest lifetime a link may be given: 72 hours, a long weekend's workshop. */
export const MAX_VIEW_HOURS = 72;

/** Links open at once for one lab: 20 (a room's projectors and a stream or two; memory stays bounded). */
export const MAX_VIEWS_PER_LAB = 20;

/** Close code of a socket whose link was revoked or ended (4000-4999 are the application's). */
export const VIEW_ENDED_CLOSE = 4403;

/** Something a link's socket can be closed by (a lab socket or a terminal socket). */
export interface Closable {
  close(code?: number, reason?: string): void;
}

/** One link as the server holds it. `lab` is the kernel's name; `name` the name its maker knows the lab by. */
export interface ViewRecord {
  id: string;
  token: string;
  lab: string;
  name: string;
  expires: number;
  /** Who made it: a trainee's link is listed to them and to the instructor. */
  maker: Principal;
}

/** Why the hours asked for a link are refused, or undefined. */
export function hoursProblem(hours: unknown): string | undefined {
  if (hours === undefined) return undefined;
  if (typeof hours !== 'number' || !Number.isFinite(hours) || hours <= 0 || hours > MAX_VIEW_HOURS) {
    return `"hours" must be a number of hours above 0 and at most ${MAX_VIEW_HOURS} (the default is ${DEFAULT_VIEW_HOURS})`;
  }
  return undefined;
}

/** The live-view links of a server, by id. */
export class ViewLinks {
  private readonly links = new Map<string, ViewRecord>();
  private readonly sockets = new Map<string, Set<Closable>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Makes a link to kernel lab `lab` (known to its maker as `name`); throws a sentence when the lab has too many. */
  make(lab: string, name: string, maker: Principal, hours = DEFAULT_VIEW_HOURS): ViewRecord {
    const problem = hoursProblem(hours);
    if (problem) throw new ViewLinkError('invalid', problem);
    if (this.list(lab).length >= MAX_VIEWS_PER_LAB) {
      throw new ViewLinkError('full', `lab ${name} has ${MAX_VIEWS_PER_LAB} live-view links, the most one lab may have: revoke one before making another`);
    }
    const record: ViewRecord = { id: randomBytes(8).toString('hex'), token: newToken(), lab, name, expires: this.now() + hours * 3_600_000, maker };
    this.links.set(record.id, record);
    // Ends on time even if nobody asks again: its open sockets close at the minute it expires.
    const timer = setTimeout(() => this.revoke(record.id), hours * 3_600_000);
    timer.unref();
    this.timers.set(record.id, timer);
    return record;
  }

  /** The unexpired links of kernel lab `lab`, oldest first. */
  list(lab: string): ViewRecord[] {
    return [...this.links.values()].filter((l) => l.lab === lab && l.expires > this.now());
  }

  /** A link by id, if it is unexpired. */
  get(id: string): ViewRecord | undefined {
    const link = this.links.get(id);
    return link && link.expires > this.now() ? link : undefined;
  }

  /** Ends a link and closes its open sockets; false when there was no such link. */
  revoke(id: string, reason = 'this live-view link was revoked'): boolean {
    const link = this.links.get(id);
    if (!link) return false;
    this.links.delete(id);
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    const open = this.sockets.get(id) ?? new Set();
    this.sockets.delete(id);
    for (const socket of open) socket.close(VIEW_ENDED_CLOSE, link.expires <= this.now() ? 'this live-view link has expired' : reason);
    return true;
  }

  /** Ends every link (server stop). */
  revokeAll(): void {
    for (const id of [...this.links.keys()]) this.revoke(id, 'the server is stopping');
  }

  /** The viewer a token is, or undefined (no such link, or it has expired). Compared in constant time. */
  principal(token: string | undefined): Principal | undefined {
    if (token === undefined) return undefined;
    for (const link of this.links.values()) {
      if (tokenMatches(token, link.token)) return link.expires > this.now() ? { kind: 'viewer', id: link.id, lab: link.lab, name: link.name } : undefined;
    }
    return undefined;
  }

  /** Closes `socket` when link `id` ends; a link already gone closes it now. */
  track(id: string, socket: Closable & { once(event: 'close', fn: () => void): unknown }): void {
    if (!this.get(id)) {
      socket.close(VIEW_ENDED_CLOSE, 'this live-view link has ended');
      return;
    }
    const set = this.sockets.get(id) ?? new Set<Closable>();
    set.add(socket);
    this.sockets.set(id, set);
    socket.once('close', () => this.sockets.get(id)?.delete(socket));
  }
}

/** A refusal to make a link. */
export class ViewLinkError extends Error {
  constructor(readonly code: 'invalid' | 'full', message: string) {
    super(message);
    this.name = 'ViewLinkError';
  }
}
