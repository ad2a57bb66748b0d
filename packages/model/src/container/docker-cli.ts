/**
 * The `docker` command of lab shells, the pure part: its argv read into a command,
 * a command applied to the lab's container spec (what `networks:`/`containers:` say),
 * and the output Docker prints (`docker ps`, `network ls`, `inspect`), in Docker's
 * wording where a learner would compare them. The server reads the lab, applies the
 * new spec through the ordinary plan, and runs what must run (apps/server/src/docker/).
 */
import { networkOf, parseCidr } from '../address';
import type { RawContainer, RawNetwork } from '../schema';
import type { Topology } from '../topology';
import type { ContainerLayer, ContainerSpec } from './layer';
import { GWBRIDGE } from './devices';

/** What nslab's docker does not do, said once. */
export const NOT_NETWORKING = 'nslab\'s docker only does networking: it does not pull, build or store images, volumes or builds (an image name is recorded, nothing is downloaded).';

/** A docker command line, read. */
export type DockerCommand =
  | { kind: 'network.create'; name: string; network: RawNetwork }
  | { kind: 'network.ls' }
  | { kind: 'network.inspect'; names: string[] }
  | { kind: 'network.rm'; names: string[] }
  | { kind: 'network.connect'; network: string; container: string; ip?: string }
  | { kind: 'network.disconnect'; network: string; container: string }
  | { kind: 'run'; name?: string; detach: boolean; interactive: boolean; container: RawContainer; image: string; command: string[] }
  | { kind: 'ps' }
  | { kind: 'inspect'; names: string[] }
  | { kind: 'exec'; name: string; command: string[]; interactive: boolean }
  | { kind: 'rm'; names: string[]; force: boolean }
  | { kind: 'port'; name: string }
  | { kind: 'unsupported'; what: string }
  | { kind: 'help' };

/** A usage error, worded as Docker's CLI words them. */
export class DockerUsageError extends Error {}

/** Docker's pseudo-networks, always listed. */
const PSEUDO = ['host', 'none'];

/** Reads one option's value: `--name x`, `--name=x`. Returns [value, next index]. */
function value(args: string[], i: number, flag: string): [string, number] {
  const arg = args[i] ?? '';
  const eq = arg.indexOf('=');
  if (arg.startsWith('--') && eq > 0) return [arg.slice(eq + 1), i + 1];
  const v = args[i + 1];
  if (v === undefined) throw new DockerUsageError(`flag needs an argument: ${flag}`);
  return [v, i + 2];
}

/** The flag's name without a `=value` part. */
function flagOf(arg: string): string {
  const eq = arg.indexOf('=');
  return arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
}

/** Reads `docker ARGS...` (ARGS without the word docker). */
export function parseDocker(args: string[]): DockerCommand {
  const [cmd, ...rest] = args;
  switch (cmd) {
    case undefined: case 'help': case '--help': case '-h': return { kind: 'help' };
    case 'network': return parseNetwork(rest);
    case 'run': case 'create': return parseRun(rest, cmd === 'create');
    case 'ps': case 'container':
      if (cmd === 'container' && rest[0] !== 'ls' && rest[0] !== 'ps') return parseDocker([rest[0] ?? 'help', ...rest.slice(1)]);
      return { kind: 'ps' };
    case 'inspect': {
      const names = rest.filter((a) => !a.startsWith('-'));
      if (names.length === 0) throw new DockerUsageError('"docker inspect" requires at least 1 argument.');
      return { kind: 'inspect', names };
    }
    case 'exec': {
      let i = 0;
      let interactive = false;
      while (i < rest.length && (rest[i] ?? '').startsWith('-')) {
        const a = rest[i] ?? '';
        if (/^-[it]+$/.test(a) || a === '--interactive' || a === '--tty') { interactive = true; i += 1; } else throw new DockerUsageError(`unknown flag: ${a}`);
      }
      const name = rest[i];
      const command = rest.slice(i + 1);
      if (!name || command.length === 0) throw new DockerUsageError('"docker exec" requires at least 2 arguments.\nUsage:  docker exec [OPTIONS] CONTAINER COMMAND [ARG...]');
      return { kind: 'exec', name, command, interactive };
    }
    case 'rm': {
      const force = rest.some((a) => a === '-f' || a === '--force');
      const names = rest.filter((a) => !a.startsWith('-'));
      if (names.length === 0) throw new DockerUsageError('"docker rm" requires at least 1 argument.');
      return { kind: 'rm', names, force };
    }
    case 'port': {
      const name = rest[0];
      if (!name) throw new DockerUsageError('"docker port" requires at least 1 argument.');
      return { kind: 'port', name };
    }
    case 'pull': case 'push': case 'build': case 'images': case 'image': case 'volume': case 'commit': case 'save': case 'load': case 'compose': case 'login':
      return { kind: 'unsupported', what: cmd };
    default:
      throw new DockerUsageError(`docker: '${cmd}' is not a docker command nslab knows. Known: network, run, ps, inspect, exec, rm, port.`);
  }
}

function parseNetwork(args: string[]): DockerCommand {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create': {
      const network: RawNetwork = { subnet: '' };
      let name: string | undefined;
      for (let i = 0; i < rest.length;) {
        const a = rest[i] ?? '';
        const f = flagOf(a);
        if (f === '-d' || f === '--driver') {
          const [v, n] = value(rest, i, f); i = n;
          if (v !== 'bridge' && v !== 'overlay') throw new DockerUsageError(`Error response from daemon: plugin "${v}" not found (nslab builds the bridge and overlay drivers)`);
          network.driver = v;
        } else if (f === '--subnet') { const [v, n] = value(rest, i, f); network.subnet = v; i = n; }
        else if (f === '--gateway') { const [v, n] = value(rest, i, f); network.gateway = v; i = n; }
        else if (f === '--internal') { network.internal = true; i += 1; }
        else if (f === '--attachable') { i += 1; }
        else if (a.startsWith('-')) throw new DockerUsageError(`unknown flag: ${f}`);
        else { if (name) throw new DockerUsageError('"docker network create" requires exactly 1 argument.'); name = a; i += 1; }
      }
      if (!name) throw new DockerUsageError('"docker network create" requires exactly 1 argument.');
      return { kind: 'network.create', name, network };
    }
    case 'ls': case 'list': return { kind: 'network.ls' };
    case 'inspect': case 'rm': case 'remove': {
      const names = rest.filter((a) => !a.startsWith('-'));
      if (names.length === 0) throw new DockerUsageError(`"docker network ${sub}" requires at least 1 argument.`);
      return sub === 'inspect' ? { kind: 'network.inspect', names } : { kind: 'network.rm', names };
    }
    case 'connect': case 'disconnect': {
      let ip: string | undefined;
      const words: string[] = [];
      for (let i = 0; i < rest.length;) {
        const f = flagOf(rest[i] ?? '');
        if (f === '--ip') { const [v, n] = value(rest, i, f); ip = v; i = n; }
        else if (f === '-f' || f === '--force') i += 1;
        else if (f.startsWith('-')) throw new DockerUsageError(`unknown flag: ${f}`);
        else { words.push(rest[i] ?? ''); i += 1; }
      }
      const [network, container] = words;
      if (!network || !container || words.length !== 2) throw new DockerUsageError(`"docker network ${sub}" requires exactly 2 arguments.`);
      if (sub === 'disconnect') return { kind: 'network.disconnect', network, container };
      return { kind: 'network.connect', network, container, ...(ip ? { ip } : {}) };
    }
    default:
      throw new DockerUsageError('Usage:  docker network COMMAND (connect, create, disconnect, inspect, ls, rm)');
  }
}

function parseRun(args: string[], createOnly: boolean): DockerCommand {
  const container: RawContainer = {};
  let name: string | undefined;
  let detach = createOnly;
  let interactive = false;
  let i = 0;
  for (; i < args.length;) {
    const a = args[i] ?? '';
    if (!a.startsWith('-')) break;
    const f = flagOf(a);
    if (f === '--name') { const [v, n] = value(args, i, f); name = v; i = n; }
    else if (f === '--network' || f === '--net') {
      const [v, n] = value(args, i, f); i = n;
      if (v === 'host' || v === 'none' || v.startsWith('container:')) container.network_mode = v;
      else if (v === 'bridge' || v === 'default') container.networks = ['bridge'];
      else container.networks = [v];
    } else if (f === '-p' || f === '--publish') {
      const [v, n] = value(args, i, f); i = n;
      // Docker also takes IP:HOST:CONTAINER; the address part is accepted when it is 0.0.0.0.
      const text = v.startsWith('0.0.0.0:') ? v.slice('0.0.0.0:'.length) : v;
      (container.publish ??= []).push(text);
    } else if (f === '--ip') { const [v, n] = value(args, i, f); container.ip = v; i = n; }
    else if (f === '--rm' || f === '--init' || f === '--privileged') i += 1;
    else if (f === '-e' || f === '--env' || f === '-h' || f === '--hostname' || f === '-v' || f === '--volume' || f === '-w' || f === '--workdir' || f === '--restart') {
      if (f === '-v' || f === '--volume') throw new DockerUsageError(NOT_NETWORKING);
      i = value(args, i, f)[1];
    } else if (/^-[dit]+$/.test(f)) {
      if (f.includes('d')) detach = true;
      if (f.includes('i') || f.includes('t')) interactive = true;
      i += 1;
    } else if (f === '--detach') { detach = true; i += 1; }
    else if (f === '--interactive' || f === '--tty') { interactive = true; i += 1; }
    else throw new DockerUsageError(`unknown flag: ${f}\nSee 'docker run --help'.`);
  }
  const image = args[i];
  if (!image) throw new DockerUsageError('"docker run" requires at least 1 argument.\nUsage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]');
  const command = args.slice(i + 1);
  container.image = image;
  return { kind: 'run', ...(name ? { name } : {}), detach, interactive, container, image, command };
}

/** A stable 64-hex id for a name (Docker's ids are random; a lab's are derived so they survive a restart). */
export function dockerId(kind: string, name: string): string {
  let out = '';
  for (let seed = 0; out.length < 64; seed += 1) {
    let h = 0x811c9dc5 ^ seed;
    for (const ch of `${kind}/${name}`) { h ^= ch.charCodeAt(0); h = Math.imul(h, 0x01000193) >>> 0; }
    out += h.toString(16).padStart(8, '0');
  }
  return out.slice(0, 64);
}

/** The first free subnet for a new network, as Docker's default pools hand them out: 172.18.0.0/16 onwards for bridges, 10.0.N.0/24 for overlays. */
export function freeSubnet(spec: ContainerSpec, driver: 'bridge' | 'overlay'): string | undefined {
  const used = Object.values(spec.networks).map((n) => parseCidr(n.subnet)).filter((c) => c !== undefined);
  if (Object.values(spec.networks).some((n) => n.driver === 'overlay')) { const gw = parseCidr('172.18.0.0/16'); if (gw) used.push(gw); }
  const overlaps = (text: string) => {
    const c = parseCidr(text);
    return !c || used.some((u) => {
      const p = Math.min(u.prefix, c.prefix);
      return networkOf({ ...u, prefix: p }).value === networkOf({ ...c, prefix: p }).value;
    });
  };
  const candidates = driver === 'bridge'
    ? Array.from({ length: 14 }, (_, k) => `172.${18 + k}.0.0/16`)
    : Array.from({ length: 256 }, (_, k) => `10.0.${k}.0/24`);
  return candidates.find((c) => !overlaps(c));
}

/** The outcome of a change: the new spec and what to print, or Docker's error. */
export type SpecChange = { ok: true; spec: ContainerSpec; print: string[] } | { ok: false; error: string };

const daemon = (text: string) => `Error response from daemon: ${text}`;

/** The default bridge network, which a Docker host always has. */
const DEFAULT_BRIDGE: RawNetwork = { subnet: '172.17.0.0/16' };

/** A name Docker would accept as a container or network name, and nslab as a node name. */
const NAME = /^[a-z0-9][a-z0-9-]{0,23}$/;

/** Applies a command that changes the spec. `host` is the node the command was typed on. */
export function changeSpec(before: ContainerSpec, cmd: DockerCommand, host: string, usedNames: Set<string>): SpecChange {
  const spec: ContainerSpec = { networks: { ...before.networks }, containers: { ...before.containers } };
  const has = (o: object, k: string) => Object.hasOwn(o, k);
  const needBridge = () => { if (!has(spec.networks, 'bridge')) spec.networks['bridge'] = { ...DEFAULT_BRIDGE }; };
  switch (cmd.kind) {
    case 'network.create': {
      if (has(spec.networks, cmd.name) || PSEUDO.includes(cmd.name) || cmd.name === 'bridge') return { ok: false, error: daemon(`network with name ${cmd.name} already exists`) };
      if (!NAME.test(cmd.name) || cmd.name.length > 12) return { ok: false, error: daemon(`invalid network name "${cmd.name}": nslab names a network's bridge br-NAME, so use at most 12 of a-z, 0-9 and -`) };
      const network = { ...cmd.network };
      if (!network.subnet) {
        const free = freeSubnet(spec, network.driver ?? 'bridge');
        if (!free) return { ok: false, error: daemon('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network') };
        network.subnet = free;
      }
      if (network.driver === undefined) delete network.driver;
      spec.networks[cmd.name] = network;
      return { ok: true, spec, print: [dockerId('network', cmd.name)] };
    }
    case 'network.rm': {
      const print: string[] = [];
      for (const name of cmd.names) {
        if (!has(spec.networks, name)) return { ok: false, error: daemon(`network ${name} not found`) };
        if (name === 'bridge' || PSEUDO.includes(name)) return { ok: false, error: daemon(`${name} is a pre-defined network and cannot be removed`) };
        const users = Object.entries(spec.containers).filter(([, c]) => (c?.networks ?? []).includes(name));
        if (users.length > 0) return { ok: false, error: daemon(`error while removing network: network ${name} id ${dockerId('network', name)} has active endpoints (${users.map(([n]) => n).join(', ')})`) };
        delete spec.networks[name];
        print.push(name);
      }
      return { ok: true, spec, print };
    }
    case 'network.connect':
    case 'network.disconnect': {
      const c = spec.containers[cmd.container];
      if (!has(spec.containers, cmd.container)) return { ok: false, error: daemon(`No such container: ${cmd.container}`) };
      if (cmd.network !== 'bridge' && !has(spec.networks, cmd.network)) return { ok: false, error: daemon(`network ${cmd.network} not found`) };
      const mode = c?.network_mode ?? 'bridge';
      if (mode !== 'bridge') return { ok: false, error: daemon(`container cannot be ${cmd.kind === 'network.connect' ? 'connected to' : 'disconnected from'} a network: it runs in ${mode.startsWith('container:') ? 'container' : mode} network mode`) };
      const nets = c?.networks ?? ['bridge'];
      if (cmd.kind === 'network.connect') {
        if (nets.includes(cmd.network)) return { ok: false, error: daemon(`endpoint with name ${cmd.container} already exists in network ${cmd.network}`) };
        if (cmd.network === 'bridge') needBridge();
        spec.containers[cmd.container] = { ...c, networks: [...nets, cmd.network] };
      } else {
        if (!nets.includes(cmd.network)) return { ok: false, error: daemon(`container ${dockerId('container', cmd.container)} is not connected to network ${cmd.network}`) };
        spec.containers[cmd.container] = { ...c, networks: nets.filter((n) => n !== cmd.network) };
      }
      return { ok: true, spec, print: [] };
    }
    case 'run': {
      let name = cmd.name;
      if (name === undefined) {
        for (let k = 1; name === undefined; k += 1) if (!has(spec.containers, `c${k}`) && !usedNames.has(`c${k}`)) name = `c${k}`;
      }
      if (has(spec.containers, name)) return { ok: false, error: `docker: ${daemon(`Conflict. The container name "/${name}" is already in use by container "${dockerId('container', name)}". You have to remove (or rename) that container to be able to reuse that name.`)}` };
      if (usedNames.has(name)) return { ok: false, error: `docker: ${daemon(`"${name}" is already a node of this lab: choose another --name`)}` };
      if (!NAME.test(name)) return { ok: false, error: `docker: ${daemon(`Invalid container name (${name}): nslab uses it as a namespace name, so use 1-24 of a-z, 0-9 and -`)}` };
      const c: RawContainer = { ...cmd.container };
      const mode = c.network_mode ?? 'bridge';
      const nets = c.networks ?? ['bridge'];
      if (mode === 'bridge') {
        for (const n of nets) {
          if (n === 'bridge') needBridge();
          else if (!has(spec.networks, n)) return { ok: false, error: `docker: ${daemon(`network ${n} not found.`)}` };
        }
        if (c.ip && nets[0] === 'bridge') return { ok: false, error: `docker: ${daemon('user specified IP address is supported on user defined networks only.')}` };
      } else if (c.ip) return { ok: false, error: `docker: ${daemon('user specified IP address is supported on user defined networks only.')}` };
      if (mode === 'host' && c.publish?.length) delete c.publish; // Docker: "Published ports are discarded when using host network mode"
      if (mode.startsWith('container:') && !has(spec.containers, mode.slice('container:'.length))) {
        return { ok: false, error: `docker: ${daemon(`No such container: ${mode.slice('container:'.length)}`)}` };
      }
      if (host !== 'host') c.host = host;
      if (cmd.command.length > 0) c.command = cmd.command;
      spec.containers[name] = c;
      return { ok: true, spec, print: cmd.detach ? [dockerId('container', name)] : [] };
    }
    case 'rm': {
      const print: string[] = [];
      for (const name of cmd.names) {
        if (!has(spec.containers, name)) return { ok: false, error: daemon(`No such container: ${name}`) };
        if (!cmd.force) return { ok: false, error: daemon(`You cannot remove a running container ${dockerId('container', name)}. Stop the container before attempting removal or force remove`) };
        const sharing = Object.entries(spec.containers).find(([, c]) => c?.network_mode === `container:${name}`);
        if (sharing) return { ok: false, error: daemon(`cannot remove container "${name}": container ${sharing[0]} shares its network namespace (remove ${sharing[0]} first)`) };
        delete spec.containers[name];
        print.push(name);
      }
      return { ok: true, spec, print };
    }
    default:
      return { ok: false, error: `not a change: ${cmd.kind}` };
  }
}

/** Lines of a table with Docker's layout: columns padded to their widest cell plus 3 spaces. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3))).join('').trimEnd());
}

const short = (id: string) => id.slice(0, 12);

/** `docker network ls`. */
export function formatNetworks(layer: ContainerLayer | undefined): string[] {
  const rows: string[][] = [];
  const nets = layer?.networks ?? {};
  const names = [...new Set(['bridge', ...Object.keys(nets), ...PSEUDO])].sort();
  for (const name of names) {
    if (name === GWBRIDGE && !nets[name]) continue;
    const info = nets[name];
    const driver = name === 'host' ? 'host' : name === 'none' ? 'null' : info?.driver ?? 'bridge';
    rows.push([short(dockerId('network', name)), name, driver, driver === 'overlay' ? 'swarm' : 'local']);
  }
  return table(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], rows);
}

/** `docker ps`. */
export function formatPs(layer: ContainerLayer | undefined): string[] {
  const rows = Object.entries(layer?.containers ?? {}).map(([name, c]) => {
    const cmd = c.command?.join(' ') ?? '';
    return [short(dockerId('container', name)), c.image ?? '-', `"${cmd.length > 20 ? `${cmd.slice(0, 19)}…` : cmd}"`, '-', 'Up', portsText(c.publish).join(', '), name];
  });
  return table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], rows);
}

/** "8080:80/udp" as Docker shows it: 0.0.0.0:8080->80/udp. */
function portsText(publish: string[]): string[] {
  return publish.map((p) => {
    const m = /^(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(p);
    return m ? `0.0.0.0:${m[1]}->${m[2]}/${m[3] ?? 'tcp'}` : p;
  });
}

/** `docker port NAME`. */
export function formatPort(layer: ContainerLayer | undefined, name: string): string[] {
  return (layer?.containers[name]?.publish ?? []).map((p) => {
    const m = /^(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(p);
    return m ? `${m[2]}/${m[3] ?? 'tcp'} -> 0.0.0.0:${m[1]}` : p;
  });
}

/** `docker inspect NAME`: the parts Docker's JSON has about networking, in its shape. */
export function inspectContainer(layer: ContainerLayer, topology: Topology, name: string): unknown {
  const c = layer.containers[name];
  if (!c) return undefined;
  const id = dockerId('container', name);
  const ports: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of c.publish) {
    const m = /^(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(p);
    if (m) ports[`${m[2]}/${m[3] ?? 'tcp'}`] = [{ HostIp: '0.0.0.0', HostPort: m[1] ?? '' }];
  }
  const networks: Record<string, unknown> = {};
  const mode = c.mode === 'container' ? `container:${c.shares ?? ''}` : c.mode === 'bridge' ? (c.endpoints[0]?.network === 'bridge' ? 'default' : c.endpoints[0]?.network ?? 'default') : c.mode;
  for (const e of c.endpoints) {
    const [ip = '', prefix = ''] = (e.address ?? '').split('/');
    networks[e.network] = {
      IPAMConfig: null, Links: null, Aliases: e.network === 'bridge' ? null : [name, short(id)],
      NetworkID: dockerId('network', e.network), EndpointID: dockerId('endpoint', `${name}/${e.network}`),
      Gateway: layer.networks[e.network]?.gateway ?? '', IPAddress: ip, IPPrefixLen: Number(prefix) || 0,
      IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
      MacAddress: c.node ? topology.nodes[c.node]?.interfaces[e.interface]?.mac ?? '' : '', DriverOpts: null,
    };
  }
  if (c.mode === 'host' || c.mode === 'none') networks[c.mode] = { IPAMConfig: null, Links: null, Aliases: null, NetworkID: dockerId('network', c.mode), EndpointID: dockerId('endpoint', `${name}/${c.mode}`), Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' };
  const bridge = c.endpoints.find((e) => e.network === 'bridge');
  const [ip = '', prefix = ''] = (bridge?.address ?? '').split('/');
  return {
    Id: id,
    Name: `/${name}`,
    State: { Status: 'running', Running: true },
    Config: { Hostname: short(id), Image: c.image ?? '', Cmd: c.command ?? null },
    HostConfig: { NetworkMode: mode, PortBindings: Object.fromEntries(Object.entries(ports)) },
    NetworkSettings: {
      Bridge: '', SandboxID: dockerId('sandbox', c.node ?? c.host), SandboxKey: `/var/run/netns/${c.node ?? c.host}`,
      Ports: ports,
      Gateway: bridge ? layer.networks['bridge']?.gateway ?? '' : '', IPAddress: ip, IPPrefixLen: Number(prefix) || 0,
      MacAddress: bridge && c.node ? topology.nodes[c.node]?.interfaces[bridge.interface]?.mac ?? '' : '',
      Networks: networks,
    },
  };
}

/** `docker network inspect NAME`, in Docker's shape. */
export function inspectNetwork(layer: ContainerLayer | undefined, topology: Topology, name: string): unknown {
  const info = layer?.networks[name];
  if (!info && !PSEUDO.includes(name)) return undefined;
  const containers: Record<string, unknown> = {};
  for (const [cname, c] of Object.entries(layer?.containers ?? {})) {
    const e = c.endpoints.find((x) => x.network === name);
    if (!e && !(c.mode === name)) continue;
    containers[dockerId('container', cname)] = {
      Name: cname, EndpointID: dockerId('endpoint', `${cname}/${name}`),
      MacAddress: e && c.node ? topology.nodes[c.node]?.interfaces[e.interface]?.mac ?? '' : '',
      IPv4Address: e?.address ?? '', IPv6Address: '',
    };
  }
  const driver = name === 'host' ? 'host' : name === 'none' ? 'null' : info?.driver ?? 'bridge';
  const options: Record<string, string> = {};
  if (name === 'bridge') Object.assign(options, { 'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true', 'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.name': 'docker0' });
  if (name === GWBRIDGE) Object.assign(options, { 'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.name': GWBRIDGE });
  if (info?.vni !== undefined) options['com.docker.network.driver.overlay.vxlanid_list'] = String(info.vni);
  return {
    Name: name, Id: dockerId('network', name), Scope: driver === 'overlay' ? 'swarm' : 'local', Driver: driver, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: info ? [{ Subnet: info.subnet, ...(info.gateway ? { Gateway: info.gateway } : {}) }] : [] },
    Internal: info?.internal ?? false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Containers: containers, Options: options, Labels: {},
  };
}
