/**
 * The terminal manager: opens shells in lab nodes, attaches WebSockets to them, enforces the
 * per-lab limit, and ends shells when their lab is closed, their namespace disappears, or nothing
 * happened for the idle timeout (a shell with no socket attached runs on: a reload, or a page that
 * shows another lab, does not end it).
 *
 * Wiring (apps/server/src/main.ts):
 *   const terminals = new TerminalManager({ maxPerLab: config.maxTerminals });
 *   POST /api/labs/:lab/terminals {node, cols, rows}  ->  await terminals.open({ lab, node, cols, rows, cgroupProcs, user })  (a trainee's cgroups and user namespace)
 *   upgrade /ws/term/:id (after token and Origin checks; WebSocketServer maxPayload: MAX_CLIENT_FRAME_BYTES)
 *                                                     ->  terminals.attach(id, ws)
 *   GET /api/labs/:lab/terminals                      ->  terminals.list(lab)
 *   DELETE /api/terminals/:id                         ->  await terminals.close(id)
 *   lab destroyed                                     ->  await terminals.closeLab(lab)  (before deleting its namespaces)
 *   server stop                                       ->  await terminals.closeAll()
 * TerminalError.code maps to HTTP: bad-name 400, no-namespace / no-host-node 404, limit 429,
 * closed 503, command / spawn 500; its message is the sentence to show.
 *
 * Nothing starts on construction: the namespace watch timer, the rc file and the lab views are
 * created by the first `open`.
 */
import { randomUUID } from 'node:crypto';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NAME_PATTERN, netnsName as defaultNetnsName } from '@nslab/model';
import { OutputBudget } from './budget';
import { SocketChannel, type TerminalSocket } from './channel';
import { TerminalError, terminalMessages } from './errors';
import { LabView, netnsInode } from './labview';
import { labNodes, NETNS_DIR, type OwnerCache } from '../kernel/observe';
import { controlHandler, LabControl, type LabHands } from './control';
import { TerminalCloseCode, clampTerminalSize } from '@nslab/model';
import { DEFAULT_REPLAY_BYTES } from './replay';
import { SHELL_RC, SHELL_TERM, shellCommand, shellEnv } from './shell';
import { ownsNetns, type TraineeUser } from '../classroom/contain';
import { startShell } from '../kernel/runner';
import { DEFAULT_KILL_DELAY_MS, Terminal, type TerminalExit } from './terminal';

/** Default live terminals per lab (the --max-terminals flag): enough for every node of a tutorial lab, few enough that a stuck tab cannot fork-bomb the server. */
export const DEFAULT_MAX_TERMINALS_PER_LAB = 16;

/** Default time the record of a shell that ended with no socket attached waits for a client to see its exit (60 s: a page reload or a laptop waking up). */
export const DEFAULT_GRACE_MS = 60_000;

/** Default idle timeout: a shell with no input and no output for 30 minutes is ended (a forgotten tab). */
export const DEFAULT_IDLE_MS = 30 * 60_000;

/** How often namespaces are checked for deletion and lab views refreshed (a deleted node is reported within about a second). */
export const DEFAULT_WATCH_INTERVAL_MS = 1_000;

/** Terminal size when the client does not say (the VT100's 80 x 24). */
const DEFAULT_SIZE = { cols: 80, rows: 24 } as const;

/** Where the shells' rc file lives: beside the lab metadata in /run/nslab, which every lab mount namespace sees. */
const RC_DIR = '/run/nslab/shell';

/** Options of a TerminalManager; every one has a default. */
export interface TerminalManagerOptions {
  /** Live terminals per lab (default 16). */
  maxPerLab?: number;
  /** How long the record of a shell that ended with no socket attached waits for one, in ms (default 60 s). */
  graceMs?: number;
  /** No input and no output for this long ends a shell, in ms (default 30 min). */
  idleMs?: number;
  /** Output kept for re-attaching sockets, in bytes (default 256 KiB). */
  replayBytes?: number;
  /** Delay between SIGHUP and SIGKILL when a shell is ended, in ms (default 2 s). */
  killDelayMs?: number;
  /** Period of the namespace watch, in ms (default 1 s). */
  watchIntervalMs?: number;
  /** Kernel namespace name of a node (default nslab.<lab>.<node>, from @nslab/model). */
  netnsName?: (lab: string, node: string) => string;
  /** The nodes of a lab (default: the nslab.<lab>.* namespaces that carry the lab's ownership marker). Give it with a custom netnsName. */
  labNodes?: (lab: string) => Promise<string[]>;
  /**
   * How the lab adds and removes nodes. With it, `ip netns add|delete NAME` in a lab shell makes or
   * deletes a node of the lab (control.ts), and a host terminal of a lab without a node called host
   * creates that node. Without it, those commands stay inside the shell's own view.
   */
  hands?: LabHands;
}

/** What to open a terminal on. */
export interface OpenRequest {
  lab: string;
  /**
   * A node name, or 'host' for the lab's host terminal. Every lab shell sees the lab's nodes in
   * `ip netns list` (labview.ts); 'host' says which network it sits in: the node called host (the
   * tutorials' "host" is played by a lab namespace, never the root namespace). A lab without one
   * gets one, empty, when the manager has `hands`; otherwise `hostFallback` is used.
   */
  node: string;
  /** For node 'host' in a lab with no node called host, when the manager cannot create one: the node whose network to use. */
  hostFallback?: string;
  cols?: number;
  rows?: number;
  /**
   * cgroup.procs files the shell joins before it runs (a classroom trainee's limits,
   * classroom/cgroups.ts); everything the shell starts inherits them. None: no limits.
   */
  cgroupProcs?: readonly string[];
  /**
   * A classroom trainee's user namespace: the shell is contained in it (classroom/contain.ts), and
   * the lab's control socket is made the trainee's (only their shells, and root, can reach it).
   */
  user?: TraineeUser;
}

/** A terminal as listed to the UI. */
export interface TerminalInfo {
  id: string;
  lab: string;
  /** The node whose network namespace the shell is in. */
  node: string;
  pid: number;
  cols: number;
  rows: number;
  attached: boolean;
  createdAt: number;
  /** Set once the shell has ended (its record stays until a client has seen the exit or the grace period passes). */
  exit: TerminalExit | undefined;
}

/** Owns every lab shell of the server. */
export class TerminalManager {
  private readonly maxPerLab: number;
  private readonly graceMs: number;
  private readonly idleMs: number;
  private readonly replayBytes: number;
  private readonly killDelayMs: number;
  private readonly watchIntervalMs: number;
  private readonly netnsName: (lab: string, node: string) => string;
  private readonly labNodes: (lab: string) => Promise<string[]>;
  /** Ownership markers already read, per lab (kernel/observe.ts labNodes). */
  private readonly owners = new Map<string, OwnerCache>();
  private readonly hands: LabHands | undefined;
  private readonly controls = new Map<string, Promise<LabControl | undefined>>();

  private readonly terminals = new Map<string, Terminal>();
  /** Output queued to every terminal socket of this server, bounded together (budget.ts). */
  readonly budget = new OutputBudget();
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  private readonly pending = new Map<string, number>(); // lab -> opens in progress
  private readonly views = new Map<string, Promise<LabView>>();
  private readonly labEpoch = new Map<string, number>(); // bumped by closeLab, so a racing open knows
  private rcFile: string | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private watching = false;
  private closed = false;

  constructor(options: TerminalManagerOptions = {}) {
    this.maxPerLab = options.maxPerLab ?? DEFAULT_MAX_TERMINALS_PER_LAB;
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.replayBytes = options.replayBytes ?? DEFAULT_REPLAY_BYTES;
    this.killDelayMs = options.killDelayMs ?? DEFAULT_KILL_DELAY_MS;
    this.watchIntervalMs = options.watchIntervalMs ?? DEFAULT_WATCH_INTERVAL_MS;
    this.netnsName = options.netnsName ?? defaultNetnsName;
    this.labNodes = options.labNodes ?? ((lab) => {
      const cache = this.owners.get(lab) ?? (new Map() as OwnerCache);
      this.owners.set(lab, cache);
      return labNodes(lab, cache);
    });
    this.hands = options.hands;
  }

  /**
   * Starts a shell in a node of a lab and returns its id (for `/ws/term/:id`). Throws TerminalError:
   * bad-name, limit, no-namespace, no-host-node, closed, command, spawn. The shell runs until its
   * lab is closed or its idle timeout passes, even if no socket ever attaches.
   */
  async open(request: OpenRequest): Promise<{ id: string; node: string; pid: number }> {
    const { lab } = request;
    if (this.closed) throw new TerminalError('closed', terminalMessages.closed(), { lab });
    for (const [what, name] of [['lab', lab], ['node', request.node], ['node', request.hostFallback]] as const) {
      if (name !== undefined && !NAME_PATTERN.test(name)) throw new TerminalError('bad-name', terminalMessages.badName(what, name), { lab });
    }
    if (this.liveCount(lab) + (this.pending.get(lab) ?? 0) >= this.maxPerLab) {
      throw new TerminalError('limit', terminalMessages.limit(lab, this.maxPerLab), { lab });
    }
    this.pending.set(lab, (this.pending.get(lab) ?? 0) + 1);
    try {
      return await this.start(request);
    } finally {
      const left = (this.pending.get(lab) ?? 1) - 1;
      if (left > 0) this.pending.set(lab, left);
      else this.pending.delete(lab);
    }
  }

  /**
   * Attaches a WebSocket (from `ws`, after the server's own auth and Origin checks) to terminal
   * `id`. The socket then speaks protocol.ts; an unknown id gets `error` and close 4404. A socket
   * attached while another owns the terminal is a read-only mirror, and owns it once the owner
   * goes (terminal.ts). With `watchOnly` (a live view) it only ever watches, and its input is
   * answered with the sentence given. Never throws.
   */
  attach(id: string, ws: TerminalSocket, options: { watchOnly?: { readOnly: string } } = {}): void {
    const channel = new SocketChannel(ws, {
      resolve: () => {
        const terminal = this.terminals.get(id);
        if (!terminal) return terminalMessages.notFound(id);
        this.clearGrace(id);
        return terminal;
      },
      detached: (terminal) => this.startGrace(terminal),
      exitDelivered: (terminal) => this.forget(terminal),
    }, this.budget, options.watchOnly);
    if (this.closed) channel.fail(TerminalCloseCode.serverStopping, terminalMessages.closed());
    else if (!this.terminals.has(id)) channel.fail(TerminalCloseCode.notFound, terminalMessages.notFound(id));
  }

  /** Closes terminal `id`'s socket, if any; the shell keeps running. */
  detach(id: string): void {
    const terminal = this.terminals.get(id);
    const sink = terminal?.release();
    if (!terminal || !sink) return;
    sink.dropped(TerminalCloseCode.ended, terminalMessages.detached());
    this.startGrace(terminal);
  }

  /** Ends terminal `id` (the learner closed it). Resolves when the shell has exited. */
  async close(id: string): Promise<void> {
    const terminal = this.terminals.get(id);
    if (!terminal) return;
    await terminal.kill(terminalMessages.closedByUser());
    if (!terminal.attached) this.forget(terminal);
  }

  /** Ends every shell of `lab` and its lab view; resolves when they have exited. Call it when the lab is destroyed. */
  async closeLab(lab: string): Promise<void> {
    this.labEpoch.set(lab, (this.labEpoch.get(lab) ?? 0) + 1);
    const mine = [...this.terminals.values()].filter((t) => t.identity.lab === lab);
    await Promise.all(mine.map((t) => t.kill(terminalMessages.labClosed(lab))));
    for (const t of mine) this.forget(t);
    await this.closeView(lab);
  }

  /** Ends every shell and lab view and stops the watch timer; resolves when all shells have exited. Call it on server stop. */
  async closeAll(): Promise<void> {
    this.closed = true;
    if (this.watchTimer !== undefined) clearInterval(this.watchTimer);
    this.watchTimer = undefined;
    const all = [...this.terminals.values()];
    await Promise.all(all.map((t) => t.kill(terminalMessages.serverStopping())));
    for (const t of all) this.forget(t);
    await Promise.all([...new Set([...this.views.keys(), ...this.controls.keys()])].map((lab) => this.closeView(lab)));
  }

  /** The terminals of `lab` (or of every lab), including ended ones whose exit nobody has seen yet. */
  list(lab?: string): TerminalInfo[] {
    return [...this.terminals.values()]
      .filter((t) => lab === undefined || t.identity.lab === lab)
      .map((t) => ({
        id: t.identity.id,
        lab: t.identity.lab,
        node: t.identity.node,
        pid: t.pid,
        cols: t.cols,
        rows: t.rows,
        attached: t.attached,
        createdAt: t.createdAt,
        exit: t.exit,
      }));
  }

  /** The Terminal object itself, for tests and diagnostics. */
  get(id: string): Terminal | undefined {
    return this.terminals.get(id);
  }

  private liveCount(lab: string): number {
    let n = 0;
    for (const t of this.terminals.values()) if (t.identity.lab === lab && t.exit === undefined) n++;
    return n;
  }

  private async start(request: OpenRequest): Promise<{ id: string; node: string; pid: number }> {
    const { lab } = request;
    const epoch = this.labEpoch.get(lab) ?? 0;
    let nodes = await this.nodesOf(lab);
    let node = request.node;
    if (node === 'host' && !nodes.has('host') && this.hands) {
      // Every lab has a host terminal: its commands build inside the lab, never in the machine's root namespace.
      await this.hands.addNode(lab, 'host').catch((cause: unknown) => {
        if (!netnsInode(`${NETNS_DIR}/${this.netnsName(lab, 'host')}`)) throw new TerminalError('command', terminalMessages.hostNode(lab, cause instanceof Error ? cause.message : String(cause)), { lab, node, cause });
      });
      nodes = await this.nodesOf(lab);
    }
    if (node === 'host' && !nodes.has('host')) {
      if (request.hostFallback === undefined) throw new TerminalError('no-host-node', terminalMessages.noHostNode(lab), { lab, node });
      node = request.hostFallback;
    }
    const netns = this.netnsName(lab, node);
    const inode = netnsInode(`${NETNS_DIR}/${netns}`);
    if (!nodes.has(node) || inode === undefined) throw new TerminalError('no-namespace', terminalMessages.noNamespace(lab, node), { lab, node });

    const view = await this.viewFor(lab);
    const failures = await view.sync(nodes);
    const failure = failures.get(node);
    if (failure) throw failure;
    this.startWatch();

    const { cols, rows } = clampTerminalSize(request.cols ?? DEFAULT_SIZE.cols, request.rows ?? DEFAULT_SIZE.rows);
    // A trainee's root can enter only namespaces their user namespace owns (classroom/contain.ts).
    if (request.user && !ownsNetns(request.user, `${NETNS_DIR}/${netns}`)) throw new TerminalError('not-contained', terminalMessages.notContained(lab), { lab, node });
    const control = await this.controlFor(lab, request.user);
    const { file, args } = shellCommand(view.mountNamespace, node, this.rcPath(), request.cgroupProcs, request.user, control?.path);
    let pty;
    try {
      // startShell gives raw bytes (encoding null), so output is passed on byte for byte (terminal.ts frames it).
      pty = startShell([file, ...args], { name: SHELL_TERM, cols, rows, cwd: '/', env: shellEnv(lab, node, control?.path, request.user ? null : undefined) });
    } catch (cause) {
      throw new TerminalError('spawn', terminalMessages.spawn(lab, node, cause instanceof Error ? cause.message : String(cause)), { lab, node, argv: [file, ...args], cause });
    }
    const id = randomUUID();
    const terminal = new Terminal({ id, lab, node, netns, netnsInode: inode }, pty, {
      replayBytes: this.replayBytes,
      killDelayMs: this.killDelayMs,
      cols,
      rows,
      budget: this.budget,
    });
    this.terminals.set(id, terminal);
    this.startGrace(terminal); // nobody is attached yet
    // A shell that ends while detached is forgotten a grace period later unless a client comes to see its exit.
    void terminal.exited.then(() => {
      if (!terminal.attached && this.terminals.get(id) === terminal) this.startGrace(terminal);
    });
    if (this.closed || (this.labEpoch.get(lab) ?? 0) !== epoch) {
      // closeLab or closeAll ran while we were starting: do not leave this shell behind.
      await terminal.kill(this.closed ? terminalMessages.serverStopping() : terminalMessages.labClosed(lab));
      this.forget(terminal);
      throw this.closed
        ? new TerminalError('closed', terminalMessages.closed(), { lab, node })
        : new TerminalError('closed', terminalMessages.labClosed(lab), { lab, node });
    }
    return { id, node, pid: terminal.pid };
  }

  private viewFor(lab: string): Promise<LabView> {
    const existing = this.views.get(lab);
    const made = existing
      ? existing.then((view) => (view.alive ? view : LabView.create(lab)))
      : LabView.create(lab);
    this.views.set(lab, made);
    made.catch(() => {
      if (this.views.get(lab) === made) this.views.delete(lab);
    });
    return made;
  }

  /**
   * The lab's control socket (control.ts), started with its first shell; none without `hands`.
   * With `user` (a trainee's shell) the socket is made the trainee's (mode 0600): the lab is known
   * from the socket a request comes in on, and no other trainee's shell can connect to it.
   */
  private async controlFor(lab: string, user?: TraineeUser): Promise<LabControl | undefined> {
    const hands = this.hands;
    if (!hands) return Promise.resolve(undefined);
    let control = this.controls.get(lab);
    if (!control) {
      const handle = controlHandler(lab, hands, () => this.viewFor(lab), () => this.nodesOf(lab));
      control = LabControl.listen(join(this.rcPath(), '..', `${lab}.sock`), handle).catch(() => undefined);
      this.controls.set(lab, control);
    }
    const listening = await control;
    // Each time, as the instructor's shell may have started the socket of a trainee's lab.
    if (listening && user) {
      chmodSync(listening.path, 0o600);
      chownSync(listening.path, user.hostId, user.hostId);
    }
    return listening;
  }

  /** A lab's nodes as the kernel has them, with their kernel namespace names. */
  private async nodesOf(lab: string): Promise<Map<string, string>> {
    return new Map((await this.labNodes(lab)).map((node) => [node, this.netnsName(lab, node)] as const));
  }

  private async closeView(lab: string): Promise<void> {
    this.owners.delete(lab);
    const view = this.views.get(lab);
    const control = this.controls.get(lab);
    this.views.delete(lab);
    this.controls.delete(lab);
    await (await control)?.close();
    if (view) await (await view.catch(() => undefined))?.close();
  }

  /**
   * The shells' rc file, named by a hash of its content under /run/nslab (tmpfs: gone at
   * reboot): every server of one version shares one file and a server killed by SIGKILL
   * leaves nothing of its own behind. Written under a temporary name and renamed, so a
   * shell starting meanwhile never reads half of it.
   */
  private rcPath(): string {
    if (this.rcFile === undefined) {
      const file = join(RC_DIR, `bashrc-${createHash('sha256').update(SHELL_RC).digest('hex').slice(0, 16)}`);
      if (!existsSync(file)) {
        mkdirSync(RC_DIR, { recursive: true });
        const temp = `${file}.${process.pid}`;
        writeFileSync(temp, SHELL_RC, { mode: 0o644 });
        renameSync(temp, file);
      }
      this.rcFile = file;
    }
    return this.rcFile;
  }

  private startGrace(terminal: Terminal): void {
    const { id } = terminal.identity;
    this.clearGrace(id);
    // A detached shell runs on (a reload, or a page showing another lab, must not end it): it ends
    // with its lab or after the idle timeout. The grace period only bounds how long the record of
    // a shell that ended unseen waits for a client to be told.
    const timer = setTimeout(() => {
      this.graceTimers.delete(id);
      if (!terminal.attached && terminal.exit) this.forget(terminal);
    }, this.graceMs);
    timer.unref();
    this.graceTimers.set(id, timer);
  }

  private clearGrace(id: string): void {
    const timer = this.graceTimers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    this.graceTimers.delete(id);
  }

  private forget(terminal: Terminal): void {
    const { id } = terminal.identity;
    if (this.terminals.get(id) !== terminal) return;
    this.clearGrace(id);
    this.terminals.delete(id);
  }

  private startWatch(): void {
    if (this.watchTimer !== undefined || this.closed) return;
    this.watchTimer = setInterval(() => {
      this.watch().catch((err: unknown) => logFailure('the terminal watch (the next round runs in a second)', err));
    }, this.watchIntervalMs);
    this.watchTimer.unref();
  }

  /** One round of the watch: deleted namespaces, idle shells, lab views to refresh or drop. */
  private async watch(): Promise<void> {
    if (this.watching) return; // a slow round (many binds) is never overlapped
    this.watching = true;
    try {
      const now = Date.now();
      for (const t of this.terminals.values()) {
        if (t.exit) continue;
        const { lab, node, netns, netnsInode: inode } = t.identity;
        const ending = netnsInode(`${NETNS_DIR}/${netns}`) !== inode ? terminalMessages.gone(lab, node)
          : now - t.lastActivity > this.idleMs ? terminalMessages.idle(this.idleMs) : undefined;
        if (ending) t.kill(ending).catch((err: unknown) => logFailure(`ending terminal ${t.identity.id}`, err));
      }
      for (const [lab, viewPromise] of [...this.views]) {
        const inUse = (this.pending.get(lab) ?? 0) > 0 || [...this.terminals.values()].some((t) => t.identity.lab === lab);
        if (!inUse) {
          if (this.views.get(lab) === viewPromise) await this.closeView(lab);
          continue;
        }
        const view = await viewPromise.catch(() => undefined);
        if (!view?.alive) continue;
        await view.sync(await this.nodesOf(lab)).catch(() => undefined);
      }
      if (this.terminals.size === 0 && this.views.size === 0 && this.watchTimer !== undefined) {
        clearInterval(this.watchTimer);
        this.watchTimer = undefined;
      }
    } finally {
      this.watching = false;
    }
  }
}

/** A failure nobody awaits, said once on the server's log. */
function logFailure(what: string, err: unknown): void {
  console.error(`nslab: ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
}
