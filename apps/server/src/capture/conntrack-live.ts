/**
 * Live conntrack tables: while at least one client follows a namespace's table, the
 * server keeps `conntrack -E` running inside it and reads the whole table again when
 * the kernel reports a change (coalesced), and every REFRESH_MS besides, because
 * traffic on a known connection resets its timeout without an event. Every follower
 * gets the same `conntrack` message. The event process is ended as soon as nobody
 * follows, the node is gone or the lab destroyed: a process inside a namespace
 * keeps that namespace alive.
 */
import type { ConntrackServerMessage } from '@nslab/model';
import { MAX_LIVE_CONNTRACK, netnsName } from '@nslab/model';
import { start, type Started } from '../kernel/runner';
import { conntrackEventsArgv, readConntrackTable, type ConntrackTable } from './conntrack';

/** Where a follower's conntrack messages go. */
export type ConntrackSink = (message: ConntrackServerMessage) => void;

/** How long events are gathered before the table is read again (ms): a TCP handshake's three events become one read. */
export const EVENT_COALESCE_MS = 50;
/** How often a followed table is read without an event (ms): timeouts that traffic refreshed stay true to within this. */
export const REFRESH_MS = 3_000;

/** One followed table: its followers, its event process and the read in progress. */
interface Table {
  lab: string;
  node: string;
  sinks: Set<ConntrackSink>;
  events: Started | undefined;
  timer: NodeJS.Timeout;
  pending: NodeJS.Timeout | undefined;
  reading: boolean;
  /** A change came during a read: read again when it ends. */
  again: boolean;
  last: ConntrackServerMessage | undefined;
  /** Lines `conntrack -E` printed: each is a change of the table. */
  changes: number;
}

/** Reads one table; the default reads the kernel's (a test passes its own). */
export type TableReader = (node: string, netns: string) => Promise<ConntrackTable>;

/** Conntrack tables followed by clients, one reader per namespace however many follow it. */
export class ConntrackService {
  private readonly tables = new Map<string, Table>();

  constructor(private readonly read: TableReader = (node, netns) => readConntrackTable(node, netns, MAX_LIVE_CONNTRACK)) {}

  private static key(lab: string, node: string): string {
    return `${lab}\n${node}`;
  }

  /** Starts sending a node's table to a sink (now, then on every change); returns the function that stops it. */
  watch(lab: string, node: string, sink: ConntrackSink): () => void {
    const key = ConntrackService.key(lab, node);
    let table = this.tables.get(key);
    if (!table) {
      const created: Table = {
        lab, node, sinks: new Set(), events: undefined, pending: undefined, reading: false, again: false, last: undefined, changes: 0,
        timer: setInterval(() => this.refresh(created), REFRESH_MS),
      };
      created.timer.unref();
      table = created;
      this.tables.set(key, table);
      this.follow(table);
      this.refresh(table);
    } else if (table.last) {
      sink(table.last);
    }
    table.sinks.add(sink);
    const t = table;
    return () => {
      if (!t.sinks.delete(sink) || t.sinks.size > 0) return;
      // end() cannot reject: its one await is `ended`, which resolves with an error instead.
      void this.end(t);
    };
  }

  /** The lab's nodes changed: tables of nodes that are gone stop. */
  sync(lab: string, nodes: readonly string[]): void {
    const present = new Set(nodes);
    // end() cannot reject (see watch); nobody waits for a gone node's events process to exit.
    for (const table of [...this.tables.values()]) if (table.lab === lab && !present.has(table.node)) void this.end(table);
  }

  /** Stops every table of a lab (destroyed), or every table (server stop). */
  async stop(lab?: string): Promise<void> {
    const ending = [...this.tables.values()].filter((t) => lab === undefined || t.lab === lab);
    await Promise.all(ending.map((t) => this.end(t)));
  }

  /** Event processes running now. */
  processCount(): number {
    let n = 0;
    for (const t of this.tables.values()) if (t.events !== undefined) n += 1;
    return n;
  }

  /** Changes `conntrack -E` reported for a followed table so far (undefined when nobody follows it). */
  changesSeen(lab: string, node: string): number | undefined {
    return this.tables.get(ConntrackService.key(lab, node))?.changes;
  }

  private follow(table: Table): void {
    const events = start(conntrackEventsArgv(netnsName(table.lab, table.node)), {
      log: (line) => { if (!/flow events have been shown/.test(line)) console.error(`conntrack -E in ${table.lab}/${table.node}: ${line}`); },
    });
    table.events = events;
    let partial = '';
    events.child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      table.changes += lines.filter((l) => l.trim() !== '').length;
      if (table.pending === undefined) table.pending = setTimeout(() => { table.pending = undefined; this.refresh(table); }, EVENT_COALESCE_MS);
    });
    void events.ended.then((err) => {
      if (table.events === events) table.events = undefined;
      // Without events the table is still read every REFRESH_MS; the error says why it is slower.
      if (err && this.tables.get(ConntrackService.key(table.lab, table.node)) === table) console.error(`nslab: ${err.message}`);
    });
  }

  private refresh(table: Table): void {
    if (table.reading) {
      table.again = true;
      return;
    }
    table.reading = true;
    const at = Date.now();
    // The reader says an unreadable table in `error`, but `run` still rejects when conntrack
    // times out or is missing: that is an unreadable table too, and the next refresh reads again.
    void this.read(table.node, netnsName(table.lab, table.node)).catch((err: unknown): ConntrackTable => ({
      entries: [], total: 0, error: `the conntrack table of ${table.node} could not be read: ${err instanceof Error ? err.message : String(err)}`,
    })).then((read) => {
      table.reading = false;
      if (this.tables.get(ConntrackService.key(table.lab, table.node)) !== table) return;
      const message: ConntrackServerMessage = {
        type: 'conntrack', lab: table.lab, node: table.node, entries: read.entries, total: read.total, at,
        ...(read.error !== undefined ? { error: read.error } : {}),
      };
      table.last = message;
      for (const sink of table.sinks) sink(message);
      if (table.again) {
        table.again = false;
        this.refresh(table);
      }
    });
  }

  private async end(table: Table): Promise<void> {
    const key = ConntrackService.key(table.lab, table.node);
    if (this.tables.get(key) === table) this.tables.delete(key);
    clearInterval(table.timer);
    if (table.pending !== undefined) clearTimeout(table.pending);
    const events = table.events;
    table.events = undefined;
    if (events && events.child.exitCode === null && events.child.signalCode === null) {
      events.child.kill('SIGTERM');
      await events.ended;
    }
  }
}
