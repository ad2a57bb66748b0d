/**
 * A lab's control socket: how `ip netns add NAME` and `ip netns delete NAME` typed in a lab shell
 * become nodes of the lab instead of namespaces private to that shell.
 *
 * Lab shells find apps/server/shell-bin first in their PATH; its `ip` passes every command to the
 * real ip except `ip netns add|delete NAME`, which it sends here as one line over the Unix socket
 * named by $NSLAB_CONTROL. The server creates (or deletes) nslab.<lab>.<NAME>, marked as the lab's,
 * binds it into the lab's view (labview.ts), and only then answers: so `ip netns exec NAME ...`
 * works at once in that shell and in every other shell of the lab, and the canvas shows the node
 * as it shows any change of the lab. Nothing lands in the machine's /run/netns but nslab's names.
 *
 * The wire, one exchange per connection, lines of at most MAX_LINE_BYTES:
 *   -> "netns add NAME\n" | "netns del NAME\n"
 *   <- "ok\n" | "error SENTENCE\n"
 * The socket file is root's (mode 0755: only root can connect), and lab shells are root already
 * (they may do anything a request could). A classroom trainee's shell is not the machine's root
 * (classroom/contain.ts): the socket of a lab it opens a shell in is made its own (0600, the
 * trainee's ids, manager.ts), so the lab a request is for is the socket's, never the shell's word.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { nameProblem } from '@nslab/model';
import type { LabView } from './labview';

/** A request line longer than this is refused: a node name is at most 24 characters. */
export const MAX_LINE_BYTES = 256;

/** How long a client may take to send its line: the shim sends it at once. */
const REQUEST_TIMEOUT_MS = 5_000;

/** What a lab shell may ask of its lab. */
export type ControlRequest = { verb: 'add' | 'del'; node: string };

/** Reads one request line; undefined when it is not one. Names are checked by the handler. */
export function parseControlLine(line: string): ControlRequest | undefined {
  const words = line.trim().split(' ');
  if (words.length !== 3 || words[0] !== 'netns') return undefined;
  const [, verb, node] = words;
  if ((verb !== 'add' && verb !== 'del') || !node) return undefined;
  return { verb, node };
}

/** One lab's listening socket. */
export class LabControl {
  private constructor(
    private readonly server: Server,
    /** Connections open now, ended on close. */
    private readonly sockets: Set<Socket>,
    /** Path of the socket file, given to lab shells as $NSLAB_CONTROL. */
    readonly path: string,
  ) {}

  /**
   * Listens at `path` (a stale file there is replaced). `handle` does the work and resolves once
   * the change is visible in the lab's view; a rejection's message is the sentence the shell prints.
   */
  static async listen(path: string, handle: (request: ControlRequest) => Promise<void>): Promise<LabControl> {
    rmSync(path, { force: true });
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
      let text = '';
      let done = false;
      socket.on('data', (chunk: Buffer) => {
        if (done) return;
        text += chunk.toString('utf8');
        const end = text.indexOf('\n');
        if (end < 0 && text.length <= MAX_LINE_BYTES) return;
        done = true;
        socket.setTimeout(0);
        const request = end >= 0 && end <= MAX_LINE_BYTES ? parseControlLine(text.slice(0, end)) : undefined;
        const answer = (line: string) => {
          if (!socket.destroyed) socket.end(`${line.replace(/\n/g, ' ')}\n`);
        };
        if (!request) return answer('error nslab understands only "netns add NAME" and "netns del NAME" here');
        handle(request).then(
          () => answer('ok'),
          (err: unknown) => answer(`error ${err instanceof Error ? err.message : String(err)}`),
        );
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new LabControl(server, sockets, path);
  }

  /** Stops listening, drops open requests and removes the socket file. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }
}

/** What a lab control does with a request: the lab's own change, as the server (LabService) or the CLI makes it. */
export interface LabHands {
  addNode(lab: string, node: string): Promise<void>;
  removeNode(lab: string, node: string): Promise<void>;
}

/**
 * The handler of one lab's control socket: makes the change, then brings the lab view up to date
 * (`nodes` lists the lab's nodes and their kernel names as the kernel has them now), so that the
 * answer comes once every shell of the lab can use the new name, or no longer sees the old one.
 */
export function controlHandler(
  lab: string,
  hands: LabHands,
  view: () => Promise<LabView>,
  nodes: () => Promise<ReadonlyMap<string, string>>,
): (request: ControlRequest) => Promise<void> {
  return async ({ verb, node }) => {
    const problem = nameProblem(node, 'node');
    if (problem) throw new Error(problem);
    if (verb === 'add') await hands.addNode(lab, node);
    else await hands.removeNode(lab, node);
    const failure = (await (await view()).sync(await nodes())).get(node);
    if (verb === 'add' && failure) throw failure;
  };
}
