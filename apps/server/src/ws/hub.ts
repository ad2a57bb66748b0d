/**
 * The lab socket (/ws): hello on connect, a snapshot per subscribed lab and patches
 * after, and apply/edit/destroy requests answered with plan, progress and result.
 * Every inbound message is validated; a bad one is answered with an error and the
 * socket stays open. An oversized one closes that socket (1009) and nothing else.
 */
import type { WebSocket } from 'ws';
import type { Change, ClientMessage, LabInfo, PlannedOp, ServerMessage } from '@nslab/model';
import { nameProblem, netnsName, parseClientMessage, PROTOCOL_VERSION } from '@nslab/model';
import type { OpEvent } from '../kernel/apply';
import type { LabFeed } from '../live/feed';
import type { LabSummary } from '../kernel/observe';
import type { LabService } from '../labs';
import type { PacketService } from '../packets';
import { pingTrace, PingTraceError } from '../capture/index';
import { LabError } from '../labs';
import type { LessonEngine } from '../lesson/engine';
import type { LessonLive } from '../lesson/live';

/** Bytes a socket may have queued before patches to it are coalesced into a fresh snapshot (1 MiB). */
const MAX_BUFFERED = 1024 * 1024;

interface Client { ws: WebSocket; labs: Set<string>; packets: Map<string, () => void>; lessonSend?: (m: ServerMessage) => void }

/** Fans lab state out to sockets and runs their requests. */
export class Hub {
  private readonly clients = new Set<Client>();
  private readonly resync = new Set<Client>();

  constructor(
    private readonly feed: LabFeed,
    private readonly labs: LabService,
    private readonly packets: PacketService,
    private readonly version: string,
    /** Lessons: the engine and their live status (absent in servers built without them). */
    private readonly lessons?: { engine: LessonEngine; live: LessonLive },
  ) {}

  /** Lab list in the protocol's shape. */
  static labInfo(labs: LabSummary[]): LabInfo[] {
    return labs.map((l) => ({ name: l.name, nodes: l.nodes.length }));
  }

  /** Takes a new authenticated socket. */
  connect(ws: WebSocket): void {
    const client: Client = { ws, labs: new Set(), packets: new Map() };
    this.clients.add(client);
    this.send(client, { type: 'hello', protocol: PROTOCOL_VERSION, server: this.version, labs: Hub.labInfo(this.feed.labs()) });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return this.send(client, { type: 'error', code: 'bad-message', message: 'messages are JSON text, not binary' });
      void this.onMessage(client, data.toString());
    });
    ws.on('close', () => this.disconnect(client));
    ws.on('error', () => this.disconnect(client));
  }

  private disconnect(client: Client): void {
    if (!this.clients.delete(client)) return;
    if (client.lessonSend) this.lessons?.live.unwatch(client.lessonSend);
    for (const stop of client.packets.values()) stop();
    const labs = new Set([...client.labs, ...client.packets.keys()]);
    client.packets.clear();
    client.labs.clear();
    for (const lab of labs) this.release(lab);
  }

  /** Stops watching a lab that no client subscribes to or watches packets of any more. */
  private release(lab: string): void {
    if (![...this.clients].some((c) => c.labs.has(lab) || c.packets.has(lab))) this.feed.unwatch(lab);
  }

  private send(client: Client, message: ServerMessage): void {
    if (client.ws.readyState !== client.ws.OPEN) return;
    client.ws.send(JSON.stringify(message));
  }

  private async onMessage(client: Client, text: string): Promise<void> {
    const parsed = parseClientMessage(text);
    if (!parsed.ok) return this.send(client, { type: 'error', code: 'bad-message', message: parsed.error });
    const message = parsed.message;
    try {
      await this.handle(client, message);
    } catch (err) {
      const id = 'id' in message ? message.id : undefined;
      const lab = 'lab' in message ? message.lab : undefined;
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

  private async handle(client: Client, message: ClientMessage): Promise<void> {
    if ('lab' in message) {
      const problem = nameProblem(message.lab, 'lab');
      if (problem) throw new LabError('invalid', problem);
    }
    switch (message.type) {
      case 'ping':
        return this.send(client, { type: 'pong', ...(message.id ? { id: message.id } : {}) });
      case 'subscribe': {
        await this.feed.watch(message.lab);
        const meta = await this.labs.meta(message.lab);
        // Snapshot and subscription in one tick: every later patch applies on top of this snapshot.
        const topology = this.feed.current(message.lab);
        if (!topology || !this.clients.has(client)) return;
        client.labs.add(message.lab);
        this.send(client, { type: 'snapshot', lab: message.lab, topology, meta });
        return;
      }
      case 'unsubscribe':
        client.labs.delete(message.lab);
        this.release(message.lab);
        return;
      case 'apply':
      case 'edit': {
        const id = message.id;
        const hooks = {
          plan: (lab: string, ops: PlannedOp[]) => this.send(client, { type: 'plan', lab, ops, dryRun: message.dryRun ?? false, ...(id ? { id } : {}) }),
          progress: (lab: string, e: OpEvent) => this.send(client, {
            type: 'progress', lab, index: e.index, argv: e.argv, status: e.status, code: e.code, stdout: e.stdout, stderr: e.stderr, ...(id ? { id } : {}),
          }),
        };
        const result = message.type === 'apply'
          ? await this.labs.apply(message.topology, { dryRun: message.dryRun ?? false, ...hooks })
          : await this.labs.edit(message.lab, message.edits, { dryRun: message.dryRun ?? false, ...hooks });
        this.send(client, { type: 'result', lab: result.lab, ok: true, ran: result.ran, ...(id ? { id } : {}) });
        // Namespaces that came or went are picked up by the feed's watch of /run/netns.
        return;
      }
      case 'watch-packets': {
        const topology = await this.feed.watch(message.lab);
        if (client.packets.has(message.lab) || !this.clients.has(client)) return;
        client.packets.set(message.lab, this.packets.watch(message.lab, Object.keys(topology.nodes), (m) => this.send(client, m)));
        return;
      }
      case 'unwatch-packets':
        client.packets.get(message.lab)?.();
        client.packets.delete(message.lab);
        this.release(message.lab);
        return;
      case 'trace': {
        const topology = await this.feed.watch(message.lab);
        if (!topology.nodes[message.node]) throw new LabError('not-found', `lab ${message.lab} has no node "${message.node}" to ping from`);
        try {
          const result = await pingTrace({
            namespaces: Object.keys(topology.nodes).map((node) => ({ node, netns: netnsName(message.lab, node) })),
            source: message.node,
            destination: message.destination,
          });
          this.send(client, { type: 'trace', lab: message.lab, result, ...(message.id ? { id: message.id } : {}) });
        } catch (err) {
          if (err instanceof PingTraceError) throw new LabError('invalid', err.message);
          throw err;
        } finally {
          this.release(message.lab);
        }
        return;
      }
      case 'lesson-list':
      case 'lesson-start':
      case 'lesson-watch':
      case 'lesson-unwatch':
      case 'lesson-solve':
      case 'lesson-reset':
        return this.handleLesson(client, message);
      case 'destroy': {
        await this.labs.destroy(message.lab);
        this.send(client, { type: 'result', lab: message.lab, ok: true, ran: 0, ...(message.id ? { id: message.id } : {}) });
        void this.feed.refreshLabs();
        return;
      }
    }
  }

  private async handleLesson(client: Client, message: Extract<ClientMessage, { type: `lesson-${string}` }>): Promise<void> {
    const lessons = this.lessons;
    if (!lessons) throw new LabError('not-found', 'this server offers no lessons');
    const id = 'id' in message && message.id ? { id: message.id } : {};
    const hooks = {
      plan: (lab: string, ops: PlannedOp[]) => this.send(client, { type: 'plan', lab, ops, dryRun: message.type === 'lesson-solve' && (message.dryRun ?? false), ...id }),
      progress: (lab: string, e: OpEvent) => this.send(client, { type: 'progress', lab, index: e.index, argv: e.argv, status: e.status, code: e.code, stdout: e.stdout, stderr: e.stderr, ...id }),
    };
    client.lessonSend ??= (m) => this.send(client, m);
    switch (message.type) {
      case 'lesson-list':
        return this.send(client, { type: 'lessons', lessons: await lessons.engine.catalog.infos(), ...id });
      case 'lesson-start': {
        await lessons.engine.start(message.lesson, message.lab, { params: new Map(Object.entries(message.params ?? {})), vary: message.vary ?? false, ...hooks });
        this.send(client, { type: 'result', lab: message.lab, ok: true, ran: 0, ...id });
        void this.feed.refreshLabs();
        return;
      }
      case 'lesson-watch':
        await this.feed.watch(message.lab);
        return lessons.live.watch(message.lab, client.lessonSend);
      case 'lesson-unwatch':
        return lessons.live.unwatch(client.lessonSend, message.lab);
      case 'lesson-solve': {
        const r = await lessons.engine.solveStep(message.lab, message.step, { dryRun: message.dryRun ?? false, ...hooks });
        this.send(client, { type: 'result', lab: message.lab, ok: true, ran: message.dryRun ? 0 : r.ops.length + r.commands.length, ...id });
        lessons.live.changed(message.lab);
        return;
      }
      case 'lesson-reset':
        await lessons.engine.reset(message.lab, message.step, hooks);
        this.send(client, { type: 'result', lab: message.lab, ok: true, ran: 0, ...id });
        lessons.live.changed(message.lab);
        return;
    }
  }

  /** A watched lab changed: send the patch to its subscribers (a snapshot to any that fell behind). */
  patch(lab: string, changes: Change[]): void {
    this.lessons?.live.changed(lab);
    const topology = this.feed.current(lab);
    if (topology && changes.some((c) => c.path.length === 2 && c.path[0] === 'nodes')) this.packets.sync(lab, Object.keys(topology.nodes));
    for (const client of this.clients) {
      if (!client.labs.has(lab)) continue;
      if (client.ws.bufferedAmount > MAX_BUFFERED) {
        this.resync.add(client);
        continue;
      }
      if (this.resync.delete(client)) {
        const topology = this.feed.current(lab);
        if (topology) void this.labs.meta(lab).then((meta) => this.send(client, { type: 'snapshot', lab, topology, meta }));
        continue;
      }
      this.send(client, { type: 'patch', lab, changes });
    }
  }

  /** The list of labs changed: tell everyone. */
  labList(labs: LabSummary[]): void {
    for (const client of this.clients) this.send(client, { type: 'labs', labs: Hub.labInfo(labs) });
  }

  /** Closes every socket (server stop). */
  close(): void {
    for (const client of this.clients) client.ws.close(1001, 'server stopping');
  }
}
