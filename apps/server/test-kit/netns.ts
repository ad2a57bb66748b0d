/**
 * Throwaway namespaces for kernel tests: the one way the test kit makes raw namespaces (the
 * capture tests use it directly, the terminal kit's createTestLab through terminal.ts; tests that
 * want a whole lab apply one with lab.ts). Every namespace is named `nslab.<lab>.<node>`, marked
 * as that lab's on request; it is created here and deleted here, exactly those, even when a test
 * fails; nothing in the root namespace is touched (veth pairs are created with both ends already
 * inside test namespaces).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { ownerMarker } from '@nslab/model';

/** A set of test namespaces of one throwaway lab. */
export class TestNetns {
  /** `nslab.<lab>.`: by default tcap + 4 random hex digits. */
  readonly prefix: string;
  private readonly created: string[] = [];
  private readonly children: ChildProcess[] = [];

  /**
   * `lab` must be a lab name no other test uses (a random part in it). `marked`: each namespace
   * carries the lab's ownership marker, as a lab's do (the terminal code finds a lab's nodes by
   * it); unmarked, the set is no lab to a server listing labs on this machine meanwhile.
   */
  constructor(readonly lab = `tcap${randomBytes(2).toString('hex')}`, private readonly marked = false) {
    this.prefix = `nslab.${lab}.`;
  }

  /** The kernel name of a node. */
  name(node: string): string {
    return this.prefix + node;
  }

  /** The namespaces made so far, as the trace's namespace list. */
  get namespaces(): { node: string; netns: string }[] {
    return this.created.map((netns) => ({ node: netns.slice(this.prefix.length), netns }));
  }

  /** Creates a namespace for a node, with lo up (and the lab's ownership marker when the set is marked). */
  add(...nodes: string[]): void {
    for (const node of nodes) {
      const netns = this.name(node);
      execFileSync('ip', ['netns', 'add', netns]);
      this.created.push(netns);
      this.ip(node, 'link', 'set', 'lo', 'up');
      if (this.marked) this.ip(node, 'link', 'set', 'lo', 'alias', ownerMarker(this.lab, node));
    }
  }

  /** Whether this set made the node's namespace and has not deleted it. */
  has(node: string): boolean {
    return this.created.includes(this.name(node));
  }

  /** A veth pair between two nodes, both ends created inside their namespaces and set up. */
  veth(a: string, aIf: string, b: string, bIf: string): void {
    execFileSync('ip', ['-n', this.name(a), 'link', 'add', aIf, 'type', 'veth', 'peer', 'name', bIf, 'netns', this.name(b)]);
    this.ip(a, 'link', 'set', aIf, 'up');
    this.ip(b, 'link', 'set', bIf, 'up');
  }

  /** `ip -n <node> ARGS...`. */
  ip(node: string, ...args: string[]): string {
    return execFileSync('ip', ['-n', this.name(node), ...args], { encoding: 'utf8' });
  }

  /** `ip netns exec <node> ARGV...`, waiting for it. */
  exec(node: string, ...argv: string[]): string {
    return execFileSync('ip', ['netns', 'exec', this.name(node), ...argv], { encoding: 'utf8', timeout: 20_000 });
  }

  /** Starts a long-running command in a node; it is killed by cleanup(). Resolves once it printed `ready`. */
  background(node: string, ...argv: string[]): Promise<ChildProcess> {
    const child = spawn('ip', ['netns', 'exec', this.name(node), ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.children.push(child);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${argv.join(' ')} in ${node} did not print "ready"`)), 10_000);
      child.stdout?.on('data', (b: Buffer) => {
        if (b.toString().includes('ready')) {
          clearTimeout(timer);
          resolve(child);
        }
      });
      child.on('exit', (code) => reject(new Error(`${argv.join(' ')} in ${node} exited with ${code}`)));
    });
  }

  /** Deletes a namespace now (the test of a capture outliving its namespace). */
  remove(node: string): void {
    const netns = this.name(node);
    execFileSync('ip', ['netns', 'del', netns]);
    this.created.splice(this.created.indexOf(netns), 1);
  }

  /** Kills what background() started and deletes exactly the namespaces this set created. Safe to call twice. */
  async cleanup(): Promise<void> {
    for (const child of this.children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await gone;
      }
    }
    this.removeAll();
  }

  /** Deletes exactly the namespaces this set created (not what background() started). Safe to call twice. */
  removeAll(): void {
    for (const netns of this.created.splice(0).reverse()) {
      if (existsSync(`/run/netns/${netns}`)) execFileSync('ip', ['netns', 'del', netns]);
    }
  }

  /** Namespaces still on the machine with this set's prefix. */
  leftovers(): string[] {
    return readdirSync('/run/netns').filter((n) => n.startsWith(this.prefix));
  }
}

/** Child processes of this test process that capture (tcpdump, nslab-capture), or zombies: what a capture must never leave behind. */
export function leftoverChildren(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) === process.pid && (comm === 'tcpdump' || comm === 'nslab-capture' || state === 'Z')) out.push(`${pid} ${comm} ${state}`);
  }
  return out;
}

/** Two namespaces a (10.0.0.1) and b (10.0.0.2) joined by a veth pair eth0-eth0, kept in `made` for the test's cleanup. */
export function addressedPair(made: TestNetns[]): TestNetns {
  const lab = new TestNetns();
  made.push(lab);
  lab.add('a', 'b');
  lab.veth('a', 'eth0', 'b', 'eth0');
  lab.ip('a', 'addr', 'add', '10.0.0.1/24', 'dev', 'eth0');
  lab.ip('b', 'addr', 'add', '10.0.0.2/24', 'dev', 'eth0');
  return lab;
}
