/**
 * The lab socket (/ws): hello on connect, a snapshot per subscribed lab and patches
 * after, and apply/edit/destroy requests answered with plan, progress and result.
 * Every inbound message is validated; a bad one is answered with an error and the
 * socket stays open. An oversized one closes that socket (1009) and nothing else.
 */
import type { WebSocket } from 'ws';
import type { Change, ClientMessage, LabInfo, PlannedOp, Problem, ServerMessage, Topology } from '@nslab/model';
import { netnsName, own, parseClientMessage, PROTOCOL_VERSION } from '@nslab/model';
import type { OpEvent } from '../kernel/apply';
import type { LabFeed } from '../live/feed';
import type { LabSummary } from '../kernel/observe';
import type { LabService } from '../labs';
import type { PacketService } from '../packets';
import type { ConntrackService } from '../capture/conntrack-live';
import { readSysctls } from '../kernel/observe';
import { readOtherSysctls } from '../kernel/sysctl-other';
import { PingTraceError, traceInLab } from '../capture/index';
import { LabError } from '../labs';
import type { LessonEngine } from '../lesson/engine';
import type { LessonLive } from '../lesson/live';
import type { Classroom } from '../classroom/classroom';
import type { Principal } from '../classroom/scope';
import { INSTRUCTOR, kernelLab, ownMessage } from '../classroom/scope';
import { admitViewerMessage } from '../liveview/policy';

/** Bytes a socket may have queued before patches to it are coalesced into a fresh snapshot (1 MiB). */
const MAX_BUFFERED = 1024 * 1024;

interface Client {
  ws: WebSocket;
  labs: Set<string>;
  packets: Map<string, () => void>;
  /** Labs whose patches this client missed (its socket was congested): it gets a fresh snapshot of each. */
  resync: Set<string>;
  /** Labs whose fresh snapshot is being prepared: their patches are held back, the snapshot will include them. */
  resyncing: Set<string>;
  /** Where this client's lesson messages go, while it follows a lesson. */
  lessonSend?: (m: ServerMessage) => void;
  /** The conntrack tables this client follows, by "lab\nnode": the function that stops each. */
  conntrack: Map<string, () => void>;
  /** Whose labs it sees: a trainee names their own labs only, and sees only them (classroom/scope.ts). */
  principal: Principal;
}

/** The kernel name of a lab a principal named, for an error about it; undefined when the name itself is wrong. */
function knownAs(principal: Principal, lab: string): string | undefined {
  try {
    return kernelLab(principal, lab);
  } catch {
    return undefined;
  }
}

/** Fans lab state out to sockets and runs their requests. */
export class Hub {
  private readonly clients = new Set<Client>();
  /** Per lab, the stamp of its metadata last seen: a `docker` command in a shell changes it with the kernel. */
  private readonly seenMeta = new Map<string, string>();
  /** Per lab, requests between their feed.watch() and joining the lab: a client leaving meanwhile must not unwatch it under them. */
  private readonly joining = new Map<string, number>();

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
  ) {}

  /** Lab list in the protocol's shape. */
  static labInfo(labs: LabSummary[]): LabInfo[] {
    return labs.map((l) => ({ name: l.name, nodes: l.nodes.length }));
  }

  /** Takes a new authenticated socket, of the instructor (or the one user outside classroom mode), a trainee or a live view's viewer. */
  connect(ws: WebSocket, principal: Principal = INSTRUCTOR): void {
    const client: Client = { ws, labs: new Set(), packets: new Map(), resync: new Set(), resyncing: new Set(), conntrack: new Map(), principal };
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
    const admit = this.classroom ? (t: Topology) => this.classroom?.admitTopology(t) : undefined;
    const rename = client.principal.kind === 'trainee' ? (name: string) => kernelLab(client.principal, name) : undefined;
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
      case 'edit': {
        const id = message.id;
        const hooks = {
          plan: (lab: string, ops: PlannedOp[], warnings: Problem[]) => this.send(client, {
            type: 'plan', lab, ops, dryRun: message.dryRun ?? false, ...(warnings.length > 0 ? { warnings } : {}), ...(id ? { id } : {}),
          }),
          progress: (lab: string, e: OpEvent) => this.send(client, {
            type: 'progress', lab, index: e.index, argv: e.argv, status: e.status, code: e.code, stdout: e.stdout, stderr: e.stderr, ...(id ? { id } : {}),
          }),
        };
        const result = message.type === 'apply'
          ? await this.labs.apply(message.topology, { dryRun: message.dryRun ?? false, ...(rename ? { rename } : {}), ...(admit ? { admit } : {}), ...hooks })
          : await this.labs.edit(message.lab, message.edits, { dryRun: message.dryRun ?? false, ...(admit ? { admit } : {}), ...hooks });
        // Sent once the lab's live state includes the change (LabService waits for the confirming read),
        // so this client's next edit plans against its own write.
        this.send(client, { type: 'result', lab: result.lab, ok: true, ran: result.ran, ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}), ...(id ? { id } : {}) });
        // A file applied brings its description and commands to try: subscribers get them with a fresh snapshot (the lab guide).
        if (message.type === 'apply' && !result.dryRun) for (const c of this.clients) if (c.labs.has(result.lab)) this.resend(c, result.lab);
        // Namespaces that came or went are picked up by the feed's watch of /run/netns.
        return;
      }
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
      case 'trace': {
        const topology = await this.feed.watch(message.lab);
        if (!own(topology.nodes, message.node)) throw new LabError('not-found', `lab ${message.lab} has no node "${message.node}" to trace from`);
        try {
          const result = await traceInLab({
            lab: message.lab, nodes: Object.keys(topology.nodes), source: message.node, destination: message.destination,
            ...(message.proto !== undefined ? { proto: message.proto } : {}), ...(message.port !== undefined ? { port: message.port } : {}),
          });
          this.send(client, { type: 'trace', lab: message.lab, result, ...(message.id ? { id: message.id } : {}) });
          // Every other view of the lab shows the trace too: the owner's other pages, the instructor's and live views
          // (without the asker's id: it answers no request of theirs). Only a lab's own principals subscribe to it.
          for (const c of this.clients) {
            if (c !== client && c.labs.has(message.lab)) this.send(c, { type: 'trace', lab: message.lab, result });
          }
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
      case 'conntrack-watch': {
        const conntrack = this.conntrack;
        if (!conntrack) throw new LabError('not-found', 'this server does not read conntrack tables');
        const topology = await this.feed.watch(message.lab);
        try {
          if (!own(topology.nodes, message.node)) throw new LabError('not-found', `lab ${message.lab} has no node "${message.node}" whose conntrack table could be shown`);
          if (!this.clients.has(client)) return;
          const key = `${message.lab}\n${message.node}`;
          // Asked again (the lab applied anew after a destroy ended its table): the follow starts afresh.
          client.conntrack.get(key)?.();
          client.conntrack.set(key, conntrack.watch(message.lab, message.node, (m) => this.send(client, m)));
        } finally {
          this.release(message.lab);
        }
        return;
      }
      case 'sysctl-read': {
        const topology = await this.feed.watch(message.lab);
        try {
          const ns = own(topology.nodes, message.node) ? topology.nodes[message.node] : undefined;
          if (!ns) throw new LabError('not-found', `lab ${message.lab} has no node "${message.node}" whose kernel knobs could be read`);
          const netns = netnsName(message.lab, message.node);
          const [knobs, other] = await Promise.all([readSysctls(netns, Object.keys(ns.interfaces)), readOtherSysctls(netns)]);
          const values = Object.assign(knobs, other);
          this.send(client, { type: 'sysctls', lab: message.lab, node: message.node, values, ...(message.id ? { id: message.id } : {}) });
        } finally {
          this.release(message.lab);
        }
        return;
      }
      case 'conntrack-unwatch':
        for (const [key, stop] of client.conntrack) {
          const [lab, node] = key.split('\n');
          if (lab === message.lab && (message.node === undefined || node === message.node)) {
            stop();
            client.conntrack.delete(key);
          }
        }
        return;
      case 'destroy': {
        await this.labs.destroy(message.lab);
        this.send(client, { type: 'result', lab: message.lab, ok: true, ran: 0, ...(message.id ? { id: message.id } : {}) });
        // The answer is sent; a listing that fails here is listed again on the next change of /run/netns.
        this.feed.refreshLabs().catch((err: unknown) => console.error(`nslab: listing labs after destroying ${message.lab} failed: ${err instanceof Error ? err.message : String(err)}`));
        return;
      }
    }
  }

  private async handleLesson(client: Client, message: Extract<ClientMessage, { type: `lesson-${string}` }>): Promise<void> {
    const lessons = this.lessons;
    if (!lessons) throw new LabError('not-found', 'this server offers no lessons');
    const id = 'id' in message && message.id ? { id: message.id } : {};
    const hooks = {
      // A lesson's lab counts against a trainee's quotas like any other.
      ...(this.classroom ? { admit: (t: Topology) => this.classroom?.admitTopology(t) } : {}),
      plan: (lab: string, ops: PlannedOp[]) => this.send(client, { type: 'plan', lab, ops, dryRun: false, ...id }),
      progress: (lab: string, e: OpEvent) => this.send(client, { type: 'progress', lab, index: e.index, argv: e.argv, status: e.status, code: e.code, stdout: e.stdout, stderr: e.stderr, ...id }),
    };
    client.lessonSend ??= (m) => this.send(client, m);
    switch (message.type) {
      case 'lesson-list':
        return this.send(client, { type: 'lessons', lessons: await lessons.engine.catalog.infos(), ...id });
      case 'lesson-start': {
        // A trainee's lesson takes the trainee's own values unless the page says otherwise: classmates' labs differ.
        const vary = message.vary ?? client.principal.kind === 'trainee';
        await lessons.engine.start(message.lesson, message.lab, { params: new Map(Object.entries(message.params ?? {})), vary, ...hooks });
        this.send(client, { type: 'result', lab: message.lab, ok: true, ran: 0, ...id });
        this.feed.refreshLabs().catch((err: unknown) => console.error(`nslab: listing labs after starting a lesson in ${message.lab} failed: ${err instanceof Error ? err.message : String(err)}`));
        await lessons.live.started(message.lab);
        return;
      }
      case 'lesson-watch':
        await this.feed.watch(message.lab);
        return lessons.live.watch(message.lab, client.lessonSend);
      case 'lesson-unwatch':
        return lessons.live.unwatch(client.lessonSend, message.lab);
      case 'lesson-solve': {
        if (message.dryRun) {
          // One plan for the whole step, sent here: a step made of commands alone has no edits to plan.
          const r = await lessons.engine.solveStep(message.lab, message.step, { dryRun: true });
          this.send(client, { type: 'plan', lab: message.lab, ops: r.ops, dryRun: true, ...id });
          this.send(client, { type: 'result', lab: message.lab, ok: true, ran: 0, ...id });
          return;
        }
        const r = await lessons.engine.solveStep(message.lab, message.step, { dryRun: false, ...hooks });
        this.send(client, { type: 'result', lab: message.lab, ok: true, ran: r.ops.length + r.commands.length, ...id });
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
