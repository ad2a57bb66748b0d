/**
 * The composition root of `nslab serve`: config, lab service, live feed, HTTP,
 * WebSocket. Nothing starts on import; `serve` wires and starts everything, and
 * stops it all on SIGINT/SIGTERM (labs stay in the kernel for the next start).
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Server as TlsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { WebSocketServer } from 'ws';
import { MAX_CLIENT_FRAME_BYTES, MAX_MESSAGE_BYTES, parseTopology } from '@nslab/model';
import { HostPolicy, newToken, publicHostProblem, requestUrl, socketToken, tokenMatches, tokenProblem, WS_PROTOCOL } from './http/auth';
import { createApp } from './http/api';
import { LabFeed } from './live/feed';
import { reader } from './kernel/observe';
import { watchMeta } from './kernel/meta';
import { LabService } from './labs/service';
import { HistoryStore } from './history';
import { PacketService } from './packets/service';
import { ConntrackService } from './capture/conntrack-live';
import { TerminalManager } from './terminal/index';
import { mountLiveRoutes } from './http/live-routes';
import { Hub } from './ws/hub';
import { brokenSentence, LessonCatalog } from './lesson/catalog';
import { LESSONS_DIR } from './lesson/cli';
import { LessonEngine } from './lesson/engine';
import { LessonLive } from './lesson/live';
import { Classroom } from './classroom/classroom';
import type { Quotas } from './classroom/classroom';
import type { Lifetimes } from './classroom/lifetime';
import { DEFAULT_LIFETIMES, IdleCuller, parseClassFlags } from './classroom/lifetime';
import { mountClassRoutes } from './classroom/routes';
import type { TraineeLimits } from './classroom/cgroups';
import { DEFAULT_TRAINEE_LIMITS, parseTraineeLimits, TraineeCgroups } from './classroom/cgroups';
import { traineeUsers } from './classroom/contain';
import type { Principal } from './classroom/scope';
import { INSTRUCTOR, ownLab } from './classroom/scope';
import { ViewLinks } from './liveview/links';
import { readOnlySentence } from './liveview/policy';
import { REPO_DIR } from './paths';


/** Settings of one server, from flags and the environment. */
export interface ServeConfig {
  port: number;
  host: string;
  token: string;
  examplesDir: string;
  webDir: string;
  /** Lab applied at start when the machine has none (a bundled example's file name). */
  defaultLab?: string;
  maxTerminals: number;
  /** Serve HTTPS and WSS with this certificate and key (PEM files), for a classroom network. */
  tls?: { certFile: string; keyFile: string };
  /** Names the server answers to besides loopback and --host (the Host allow-list; the Origin check follows). */
  publicHosts?: string[];
  /** Where browsers reach this server when a proxy stands in front (`https://NAME`): join links use it. */
  publicUrl?: string;
  /** Classroom mode: the token is the instructor's, who makes trainees with tokens of their own. */
  classroom?: boolean;
  /** Classroom mode: what each trainee's shells may use together (cgroups); default 512 MiB, 256 processes, half a core. */
  traineeLimits?: TraineeLimits;
  /** Classroom mode: what each trainee may hold at once (default 5 labs, 40 namespaces, 8 terminals, 2 captures). */
  quotas?: Quotas;
  /** Classroom mode: how long a trainee may be idle before their shells and captures end (30 min), and their labs (4 h). */
  lifetimes?: Lifetimes;
}

/** The port nslab listens on unless told otherwise. */
export const DEFAULT_PORT = 7300;

/**
 * Reads flags: --port N, --host H, --token T (or NSLAB_TOKEN), --no-default-lab, --default-lab FILE,
 * --max-terminals N, --tls-cert FILE with --tls-key FILE, --public-host NAME (repeatable),
 * --public-url URL (its host joins the public hosts), --classroom, and with it --trainee-memory SIZE,
 * --trainee-pids N, --trainee-cpu CORES, --quota-labs N, --quota-namespaces N, --quota-terminals N,
 * --quota-captures N, --idle-shells DURATION, --idle-labs DURATION.
 */
export function parseServeArgs(args: string[], env: NodeJS.ProcessEnv): ServeConfig {
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    if (i < 0) return undefined;
    const v = args[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  const values = (flag: string) => {
    const out: string[] = [];
    args.forEach((a, i) => {
      if (a !== flag) return;
      const v = args[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
      out.push(v);
    });
    return out;
  };
  const port = Number(value('--port') ?? env['NSLAB_PORT'] ?? DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a number from 0 to 65535`);
  const maxTerminals = Number(value('--max-terminals') ?? 16);
  if (!Number.isInteger(maxTerminals) || maxTerminals < 1) throw new Error('--max-terminals must be a positive number');
  const token = value('--token') ?? env['NSLAB_TOKEN'] ?? newToken();
  const problem = tokenProblem(token);
  if (problem) throw new Error(problem);
  const config: ServeConfig = {
    port,
    host: value('--host') ?? '127.0.0.1',
    token,
    examplesDir: resolve(value('--examples') ?? join(REPO_DIR, 'examples')),
    webDir: resolve(join(REPO_DIR, 'apps/web/dist')),
    maxTerminals,
  };
  const cert = value('--tls-cert');
  const key = value('--tls-key');
  if ((cert === undefined) !== (key === undefined)) throw new Error('--tls-cert and --tls-key go together: give the certificate and its private key (PEM files)');
  if (cert !== undefined && key !== undefined) config.tls = { certFile: resolve(cert), keyFile: resolve(key) };
  const publicHosts = values('--public-host').map((h) => h.toLowerCase());
  const publicUrl = value('--public-url');
  if (publicUrl !== undefined) {
    let parsed: URL | undefined;
    try { parsed = new URL(publicUrl); } catch { parsed = undefined; }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.pathname !== '/' || parsed.search !== '' || parsed.username !== '') {
      throw new Error(`--public-url "${publicUrl}" is not an address like https://lab.school.example: give the scheme and host (and port) browsers use, nothing after`);
    }
    config.publicUrl = parsed.origin;
    if (!publicHosts.includes(parsed.hostname)) publicHosts.push(parsed.hostname);
  }
  for (const name of publicHosts) {
    const wrong = publicHostProblem(name);
    if (wrong) throw new Error(wrong);
  }
  if (publicHosts.length > 0) config.publicHosts = publicHosts;
  if (args.includes('--classroom')) config.classroom = true;
  const limitFlags = { memory: value('--trainee-memory'), pids: value('--trainee-pids'), cpu: value('--trainee-cpu') };
  const { limits, problems } = parseTraineeLimits(limitFlags);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const given = Object.entries(limitFlags).filter(([, v]) => v !== undefined).map(([k]) => `--trainee-${k}`);
  if (given.length > 0 && !config.classroom) throw new Error(`${given.join(', ')} limit${given.length === 1 ? 's' : ''} classroom trainees' shells: add --classroom, or leave ${given.length === 1 ? 'it' : 'them'} out`);
  if (config.classroom) config.traineeLimits = limits;
  const classFlags = {
    quotaLabs: value('--quota-labs'), quotaNamespaces: value('--quota-namespaces'), quotaTerminals: value('--quota-terminals'), quotaCaptures: value('--quota-captures'),
    idleShells: value('--idle-shells'), idleLabs: value('--idle-labs'),
  };
  const classGiven = Object.entries(classFlags).filter(([, v]) => v !== undefined).map(([k]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  if (classGiven.length > 0 && !config.classroom) throw new Error(`${classGiven.join(', ')} ${classGiven.length === 1 ? 'sets a limit' : 'set limits'} of classroom trainees: add --classroom, or leave ${classGiven.length === 1 ? 'it' : 'them'} out`);
  const parsedClass = parseClassFlags(classFlags);
  if (parsedClass.problems.length > 0) throw new Error(parsedClass.problems.join('; '));
  if (config.classroom) {
    config.quotas = parsedClass.quotas;
    config.lifetimes = parsedClass.lifetimes;
  }
  if (!args.includes('--no-default-lab')) config.defaultLab = value('--default-lab') ?? 'bridge.yaml';
  return config;
}

/** A running server, for tests and the CLI. */
export interface Running {
  url: string;
  port: number;
  http: Server | TlsServer;
  stop(): Promise<void>;
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(REPO_DIR, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** A reason the server could not start, as one sentence for the person who ran it. */
export class StartError extends Error {}

/** A listen or start-up failure in words: the port in use, a port not allowed, a default lab that fails. */
function startError(err: unknown, config: ServeConfig): StartError {
  if (err instanceof StartError) return err;
  const e = err as NodeJS.ErrnoException;
  const where = `${config.host}:${config.port}`;
  if (e.code === 'EADDRINUSE') return new StartError(`port ${config.port} on ${config.host} is already in use by another program: stop it, or choose another port with --port N`);
  if (e.code === 'EACCES') return new StartError(`nslab may not listen on ${where}: choose a port above 1023 with --port N`);
  if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') return new StartError(`${config.host} is not an address of this machine: choose another with --host H`);
  return new StartError(`nslab could not start on ${where}: ${e.message ?? String(err)}`);
}

/**
 * The default lab's text: a path (it has a slash) is read as a file, anything else names an example
 * file. A file that is missing or does not parse is a StartError that says what to fix.
 */
async function readDefaultLab(given: string, labs: LabService, examplesDir: string): Promise<{ name: string; yaml: string }> {
  let yaml: string;
  if (given.includes('/')) {
    try {
      yaml = await readFile(given, 'utf8');
    } catch (err) {
      throw new StartError(`the default lab ${given} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): check the path given to --default-lab, or start with --no-default-lab`);
    }
  } else {
    const example = (await labs.examples()).find((e) => e.file === given);
    if (!example) throw new StartError(`there is no example "${given}" in ${examplesDir} to apply as the default lab: name one (or a path to a lab file) with --default-lab FILE, or start with --no-default-lab`);
    yaml = example.yaml;
  }
  const parsed = parseTopology(yaml);
  if (!parsed.ok) {
    const problems = parsed.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
    throw new StartError(`the default lab ${given} is not a valid lab (${problems}): fix it, or start with --no-default-lab`);
  }
  return { name: parsed.topology.name, yaml };
}

/** The certificate and key files read, or a StartError that names the file and what to do. */
function readTls(tls: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new StartError(`the TLS ${what} ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): check the path given to --tls-${what === 'certificate' ? 'cert' : 'key'}`);
    }
  };
  const pair = { cert: read(tls.certFile, 'certificate'), key: read(tls.keyFile, 'key') };
  try {
    createSecureContext(pair);
  } catch (err) {
    throw new StartError(`the TLS certificate ${tls.certFile} and key ${tls.keyFile} do not make a pair nslab can serve (${err instanceof Error ? err.message : String(err)}): give a PEM certificate and the PEM private key it was made for`);
  }
  return pair;
}

/** Wires and starts a server; a failure to start is a StartError, with everything it started stopped. */
export async function startServer(config: ServeConfig, log: (line: string) => void = console.log): Promise<Running> {
  // Read before anything starts: a wrong file is a sentence, with nothing to stop.
  const tls = config.tls ? readTls(config.tls) : undefined;
  // Lab shells add and delete the lab's nodes through the lab service, in turn with the canvas's changes.
  const terminals = new TerminalManager({
    maxPerLab: config.maxTerminals,
    hands: {
      // A node added from a trainee's shell counts against their namespaces like one added on the canvas.
      addNode: async (lab, node) => { classroom?.admitLab(lab, [...(feed.labs().find((l) => l.name === lab)?.nodes ?? []), node]); await labs.addNode(lab, node); },
      removeNode: (lab, node) => labs.removeNode(lab, node),
    },
  });
  const packets = new PacketService();
  /** The labs of the terminals still running. */
  const openTerminalLabs = () => terminals.list().filter((t) => t.exit === undefined).map((t) => t.lab);
  const conntrack = new ConntrackService();
  const history = new HistoryStore();
  let hub: Hub | undefined;
  const feed = new LabFeed({ patch: (lab, changes) => hub?.patch(lab, changes), labs: (list) => hub?.labList(list) });
  const labs = new LabService(
    config.examplesDir,
    async (lab) => { history.forget(lab); await Promise.all([terminals.closeLab(lab), packets.stop(lab), conntrack.stop(lab)]); },
    (lab) => feed.current(lab),
    (lab, nodes, readings) => feed.refresh(lab, nodes, readings),
    // A trainee's labs are made in the trainee's user namespace (classroom/contain.ts).
    (lab): string | undefined => classroom?.labUserns(lab),
  );
  // Each trainee's shells share a cgroup with memory, process and CPU limits (or a warning says they are off).
  const cgroups = config.classroom ? TraineeCgroups.start(config.traineeLimits ?? DEFAULT_TRAINEE_LIMITS, log) : undefined;
  // Each trainee's labs and shells live in a user namespace of their own, with pid, mount and cgroup namespaces for the shells.
  const users = config.classroom ? traineeUsers(log) : undefined;
  const classroom = config.classroom
    ? new Classroom(() => feed.labs(), () => openTerminalLabs(), config.quotas, cgroups, () => packets.capturedLabs(), users)
    : undefined;
  // Idle trainees' shells and captures end, and later their labs (lifetime.ts).
  const culler = classroom
    ? new IdleCuller(config.lifetimes ?? DEFAULT_LIFETIMES, {
      trainees: () => classroom.roster.list().map((t) => t.name),
      labs: () => feed.labs().map((l) => l.name),
      terminalLabs: () => openTerminalLabs(),
      capturedLabs: () => packets.capturedLabs(),
      closeTerminals: (lab) => terminals.closeLab(lab),
      stopCaptures: (lab) => packets.stop(lab),
      destroyLab: async (lab) => { await labs.destroy(lab); await feed.refreshLabs().catch(() => undefined); },
      log,
    })
    : undefined;
  if (reader() === 'ip') log('nslab: nslab-nsread is not built, so each namespace is read with its own ip process (slower); scripts/install.sh builds it');
  await feed.start();
  const catalog = new LessonCatalog(LESSONS_DIR);
  // A broken lesson file is refused, said once in the log, and the others are still offered.
  for (const b of await catalog.broken()) log(`nslab: ${brokenSentence(b)}`);
  const engine = new LessonEngine(catalog, labs);
  const lessons = { engine, live: new LessonLive(engine, (lab) => feed.current(lab)) };
  hub = new Hub(feed, labs, packets, version(), lessons, conntrack, classroom);
  const unwatchMeta = await watchMeta((lab) => hub?.metaChanged(lab));

  // Live-view links, in memory: a restart ends them.
  const views = new ViewLinks();
  const hostOptions = { publicHosts: config.publicHosts ?? [], tls: config.tls !== undefined };
  let hosts = new HostPolicy(config.port, config.host, hostOptions);
  const app = createApp({
    token: config.token, get hosts() { return hosts; }, labs, feed, history, webDir: config.webDir, version: version(),
    extend: (a) => {
      mountLiveRoutes(a, terminals, packets, classroom);
      if (classroom) {
        mountClassRoutes(a, {
          classroom, labs, feed, lessons, views,
          terminals: { labs: () => openTerminalLabs(), closeLab: (lab) => terminals.closeLab(lab) },
          stopCaptures: (lab) => packets.stop(lab),
          closeSockets: (match, code, reason) => hub?.closeWhere(match, code, reason),
          removed: (name) => culler?.forget(name),
        });
      }
    },
    ...(classroom ? { classroom } : {}),
    publicUrl: () => publicUrl,
    views,
    ...(culler ? { activity: (p: Principal) => culler.touch(p) } : {}),
  });
  let publicUrl = '';
  const http = tls ? createTlsServer(tls, app) : createServer(app);
  // The page offers `nslab` and `nslab.token.TOKEN`: the answer names `nslab`, never echoing the token.
  const handleProtocols = (offered: Set<string>) => (offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, handleProtocols });
  const termWss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME_BYTES, handleProtocols });
  http.on('upgrade', (req, socket, head) => {
    // A peer that resets mid-handshake must not become an uncaught 'error'.
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    try {
      const url = requestUrl(req);
      if (!url) return refuse(400, 'Bad Request');
      if (!hosts.hostAllowed(req.headers.host)) return refuse(403, 'Forbidden');
      if (!hosts.originAllowed(req.headers.origin)) return refuse(403, 'Forbidden');
      const token = socketToken(req);
      const principal: Principal | undefined = (classroom
        ? classroom.roster.principal(token, config.token)
        : tokenMatches(token, config.token) ? INSTRUCTOR : undefined) ?? views.principal(token);
      if (!principal) return refuse(401, 'Unauthorized');
      // A live view's sockets close when its link is revoked or ends.
      const viewer = principal.kind === 'viewer' ? principal : undefined;
      const term = /^\/ws\/term\/([A-Za-z0-9_-]{1,64})$/.exec(url.pathname);
      if (term) {
        // Another trainee's terminal (or, for a viewer, one of another lab) is as unknown as one that never was.
        const lab = terminals.get(term[1] as string)?.identity.lab;
        if (lab !== undefined && ownLab(principal, lab) === undefined) return refuse(404, 'Not Found');
        if (viewer && lab === undefined) return refuse(404, 'Not Found');
        return termWss.handleUpgrade(req, socket, head, (ws) => {
          if (viewer) views.track(viewer.id, ws);
          // Typing in a shell is activity: an idle trainee is one who sends nothing at all.
          if (culler) ws.on('message', () => culler.touch(principal));
          terminals.attach(term[1] as string, ws, viewer ? { watchOnly: { readOnly: `${readOnlySentence(viewer.name)}: this terminal is shown, typing in it is not` } } : {});
        });
      }
      if (url.pathname !== '/ws') return refuse(404, 'Not Found');
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (viewer) views.track(viewer.id, ws);
        if (culler) ws.on('message', () => culler.touch(principal));
        hub?.connect(ws, principal);
      });
    } catch (err) {
      // Whatever a stranger sends is refused, never thrown: the server goes on serving everyone else.
      log(`nslab: refused a malformed WebSocket upgrade: ${err instanceof Error ? err.message : String(err)}`);
      refuse(400, 'Bad Request');
    }
  });

  culler?.start();
  const stopAll = async () => {
    culler?.stop();
    views.revokeAll();
    hub?.close();
    unwatchMeta();
    feed.stop();
    await Promise.all([terminals.closeAll(), packets.stop(), conntrack.stop()]);
    // After the shells ended: a cgroup with processes in it cannot be removed.
    await cgroups?.removeAll(log);
    wss.close();
    termWss.close();
    http.closeAllConnections();
    if (http.listening) await new Promise<void>((ok) => http.close(() => ok()));
  };
  try {
    await new Promise<void>((ok, fail) => {
      http.once('error', fail);
      http.listen(config.port, config.host, () => {
        http.off('error', fail);
        ok();
      });
    });
    // The default lab is read and checked whether or not it will be applied: a broken one is refused
    // the same way when other labs already run.
    const defaultLab = config.defaultLab ? await readDefaultLab(config.defaultLab, labs, config.examplesDir) : undefined;
    if (defaultLab && feed.labs().length === 0) {
      try {
        const result = await labs.apply(defaultLab.yaml);
        log(`nslab: no lab was running, so the lab "${defaultLab.name}" from ${config.defaultLab} was applied (${result.ran} ops)`);
      } catch (err) {
        throw new StartError(`the default lab ${config.defaultLab} could not be applied (${err instanceof Error ? err.message : String(err)}): start with --no-default-lab, or fix it`);
      }
      await feed.refreshLabs();
    }
  } catch (err) {
    // A server that cannot start stops what it started, so that its process can end.
    await stopAll().catch(() => undefined);
    throw startError(err, config);
  }
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  hosts = new HostPolicy(port, config.host, hostOptions);
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  publicUrl = config.publicUrl ?? `${config.tls ? 'https' : 'http'}://${config.publicHosts?.[0] ?? shownHost}:${port}`;
  const url = `${publicUrl}/?token=${config.token}`;

  return {
    url,
    port,
    http,
    stop: stopAll,
  };
}

/** `nslab serve`: starts, prints the URL, and runs until SIGINT/SIGTERM. */
export async function serve(args: string[]): Promise<number> {
  const config = parseServeArgs(args, process.env);
  if (!['127.0.0.1', 'localhost', '::1'].includes(config.host)) {
    console.warn(`nslab: warning: listening on ${config.host}, not only on this machine. Anyone who can reach it and has the token controls namespaces as root.`);
    if (!config.tls) console.warn('nslab: warning: without --tls-cert and --tls-key the token crosses the network in clear text.');
  }
  // Listen for Ctrl-C from the start: a signal during start-up still stops every child cleanly.
  const stopped = new Promise<void>((ok) => {
    process.once('SIGINT', () => ok());
    process.once('SIGTERM', () => ok());
  });
  let running: Running;
  try {
    running = await startServer(config);
  } catch (err) {
    console.error(`nslab: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  console.log(`nslab is running. Open:\n\n  ${running.url}\n`);
  console.log('Press Ctrl-C to stop (labs stay in the kernel until destroyed).');
  await stopped;
  console.log('nslab: stopping');
  await running.stop();
  return 0;
}
