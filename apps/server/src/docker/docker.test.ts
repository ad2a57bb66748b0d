/**
 * The docker command on the real kernel: typed in a lab shell (the shell's PATH and
 * environment, through apps/server/shell-bin/docker) and called in-process, each
 * subcommand checked against the kernel and against the lab's export; the seed
 * documents' `docker run` forms verbatim; Docker's embedded DNS on user-defined
 * networks and not on the default bridge; container mode; export -> destroy -> apply.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hostVethName, netnsName, toFile } from '@nslab/model';
import type { RawTopology } from '@nslab/model';
import { applyTopology, destroyLab, parseWithKernel } from '../kernel/lab';
import { readMeta } from '../kernel/meta';
import { observeLab } from '../kernel/observe';
import { cleanup, curlUntil, EXAMPLES, inNode, netnsList, pings, uniqueLab } from '../../test-kit/lab';
import { shellEnv } from '../terminal/shell';
import { docker } from './docker';

const made: string[] = [];
after(() => cleanup(...made));

/** `docker ARGS` typed in a shell of `node`: the lab shell's environment (PATH with shell-bin first), inside the node's namespace. */
function typed(lab: string, node: string, args: string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync('ip', ['netns', 'exec', netnsName(lab, node), 'docker', ...args], { env: shellEnv(lab, node), encoding: 'utf8', timeout: 60_000, ...(input !== undefined ? { input } : {}) });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

/** `docker ARGS` called in-process; its output lines. */
async function call(lab: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await docker(lab, 'host', args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** What `nslab show` / export says about the lab now. */
async function shown(lab: string): Promise<RawTopology> {
  return toFile((await observeLab(lab)).topology, (await readMeta(lab)) ?? {});
}

function addrs(lab: string, node: string, dev: string): string[] {
  const out = execFileSync('ip', ['-n', netnsName(lab, node), '-j', 'addr', 'show', 'dev', dev], { encoding: 'utf8' });
  return (JSON.parse(out) as { addr_info: { family: string; local: string; prefixlen: number }[] }[])[0]!.addr_info
    .filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

async function applyText(text: string): Promise<number> {
  const parsed = await parseWithKernel(text);
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
  return (await applyTopology(parsed.topology, { meta: parsed.meta })).ran;
}

const BASE = (lab: string) => `name: ${lab}
nodes:
  host:
    interfaces:
      uplink: { addresses: [203.0.113.2/24] }
  outside:
    interfaces:
      eth0: { addresses: [203.0.113.1/24] }
links:
  - [outside:eth0, host:uplink]
`;

describe('the docker command in lab shells', () => {
  const lab = uniqueLab('dk-cmd');
  made.push(lab);

  test('every subcommand, typed or called, changes the kernel and what nslab show says', async () => {
    await applyText(BASE(lab));
    // Typed in the host's shell: network create gives Docker's 64-hex id; the bridge is in the kernel.
    const created = typed(lab, 'host', ['network', 'create', '--subnet', '10.40.0.0/24', 'app']);
    assert.equal(created.code, 0, created.err);
    assert.match(created.out.trim(), /^[0-9a-f]{64}$/);
    assert.deepEqual(addrs(lab, 'host', 'br-app'), ['10.40.0.1/24']);
    assert.deepEqual((await shown(lab)).networks?.['app'], { subnet: '10.40.0.0/24' });
    assert.match(typed(lab, 'host', ['network', 'ls']).out, /^[0-9a-f]{12}\s+app\s+bridge\s+local$/m);
    // run -d with a command and a published port: the namespace, its address, its server reached from outside.
    const ran = await call(lab, ['run', '-d', '--name', 'web', '--network', 'app', '-p', '8080:80', 'nginx:alpine', 'python3', '-m', 'http.server', '80', '--directory', '/usr/share/doc/curl']);
    assert.equal(ran.code, 0, ran.err);
    assert.ok(netnsList().includes(netnsName(lab, 'web')));
    assert.deepEqual(addrs(lab, 'web', 'eth0'), ['10.40.0.2/24']);
    assert.match(await curlUntil(lab, 'outside', 'http://203.0.113.2:8080/', 'Directory listing'), /Directory listing/);
    // The host's own loopback, which the DNAT rules leave out, is answered by docker-proxy on the port, as on a Docker host.
    assert.match(await curlUntil(lab, 'host', 'http://127.0.0.1:8080/', 'Directory listing'), /Directory listing/);
    const listening = () => execFileSync('ip', ['netns', 'exec', netnsName(lab, 'host'), 'ss', '-Hltnp', 'sport', '= :8080'], { encoding: 'utf8' });
    assert.match(listening(), /0\.0\.0\.0:8080 .*"docker-proxy"/);
    assert.deepEqual((await shown(lab)).containers?.['web'], { networks: ['app'], publish: ['8080:80'], image: 'nginx:alpine', command: ['python3', '-m', 'http.server', '80', '--directory', '/usr/share/doc/curl'] });
    // ps, port, inspect (NetworkSettings as Docker shapes it, the MAC the kernel has).
    assert.match((await call(lab, ['ps'])).out, /^[0-9a-f]{12}\s+nginx:alpine\s+"python3 -m http\.ser…"\s+-\s+Up\s+0\.0\.0\.0:8080->80\/tcp\s+web$/m);
    assert.equal((await call(lab, ['port', 'web'])).out, '80/tcp -> 0.0.0.0:8080');
    const [inspected] = JSON.parse((await call(lab, ['inspect', 'web'])).out) as { NetworkSettings: { Networks: Record<string, { IPAddress: string; IPPrefixLen: number; Gateway: string; MacAddress: string }>; Ports: unknown } }[];
    const mac = (JSON.parse(execFileSync('ip', ['-n', netnsName(lab, 'web'), '-j', 'link', 'show', 'eth0'], { encoding: 'utf8' })) as { address: string }[])[0]?.address;
    assert.deepEqual({ ...inspected?.NetworkSettings.Networks['app'] }, { ...inspected?.NetworkSettings.Networks['app'], IPAddress: '10.40.0.2', IPPrefixLen: 24, Gateway: '10.40.0.1', MacAddress: mac });
    assert.deepEqual(inspected?.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] });
    const netInspect = JSON.parse((await call(lab, ['network', 'inspect', 'app'])).out) as { IPAM: { Config: unknown[] }; Containers: Record<string, { Name: string; IPv4Address: string }> }[];
    assert.deepEqual(netInspect[0]?.IPAM.Config, [{ Subnet: '10.40.0.0/24', Gateway: '10.40.0.1' }]);
    assert.deepEqual(Object.values(netInspect[0]?.Containers ?? {}).map((c) => `${c.Name} ${c.IPv4Address}`), ['web 10.40.0.2/24']);
    // connect / disconnect: a second interface on docker0 appears and goes.
    assert.equal((await call(lab, ['network', 'connect', 'bridge', 'web'])).code, 0);
    assert.deepEqual(addrs(lab, 'web', 'eth1'), ['172.17.0.2/16']);
    assert.deepEqual((await shown(lab)).containers?.['web']?.networks, ['app', 'bridge']);
    assert.equal((await call(lab, ['network', 'disconnect', 'bridge', 'web'])).code, 0);
    assert.equal(spawnSync('ip', ['-n', netnsName(lab, 'web'), 'link', 'show', 'eth1']).status, 1);
    // exec, typed: runs in the container's namespace.
    assert.match(typed(lab, 'host', ['exec', 'web', 'ip', '-4', '-br', 'addr', 'show', 'eth0']).out, /10\.40\.0\.2\/24/);
    // Docker's errors, in Docker's words; what nslab does not do, in one sentence.
    assert.equal((await call(lab, ['network', 'create', 'app'])).err, 'Error response from daemon: network with name app already exists');
    assert.match((await call(lab, ['rm', 'web'])).err, /^Error response from daemon: You cannot remove a running container [0-9a-f]{64}\. Stop the container before attempting removal or force remove$/);
    assert.match((await call(lab, ['network', 'rm', 'app'])).err, /has active endpoints/);
    assert.match((await call(lab, ['pull', 'nginx'])).err, /^docker pull: nslab's docker only does networking: it does not pull, build or store images/);
    assert.equal((await call(lab, ['rm', '-f', 'nosuch'])).err, 'Error response from daemon: No such container: nosuch');
    assert.equal((await call(lab, ['network', 'connect', 'app', 'nosuch'])).err, 'Error response from daemon: No such container: nosuch');
    const refusedRun = async (args: string[]) => {
      const r = await call(lab, ['run', '-d', ...args, 'busybox']);
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.err}`);
      return r.err;
    };
    assert.equal(await refusedRun(['--network', 'nosuch']), 'docker: Error response from daemon: network nosuch not found.');
    assert.match(await refusedRun(['--name', 'web', '--network', 'app']), /^docker: Error response from daemon: Conflict\. The container name "\/web" is already in use by container "[0-9a-f]{64}"\. You have to remove \(or rename\) that container to be able to reuse that name\.$/);
    assert.equal(await refusedRun(['--net=container:ghost']), 'docker: Error response from daemon: No such container: ghost');
    assert.match(await refusedRun(['-p', 'abc']), /^docker: .*abc/);
    assert.equal(await refusedRun(['--network', 'app', '--ip', '10.99.0.5']), 'docker: Error response from daemon: Invalid address 10.99.0.5: It does not belong to any of this network\'s subnets (app is 10.40.0.0/24)');
    assert.equal(await refusedRun(['--network', 'app', '--ip', '10.40.0.2']), 'docker: Error response from daemon: Address already in use: 10.40.0.2 is taken in network app (10.40.0.0/24)');
    assert.ok(!netnsList().some((n) => n.startsWith(`nslab.${lab}.c`)), 'no refused run made a container');
    // rm -f: the namespace and its process go; network rm: the bridge goes.
    const procs = () => execFileSync('ip', ['netns', 'pids', netnsName(lab, 'web')], { encoding: 'utf8' }).trim();
    assert.notEqual(procs(), '');
    assert.deepEqual((await call(lab, ['rm', '-f', 'web'])).out, 'web');
    assert.ok(!netnsList().includes(netnsName(lab, 'web')));
    assert.equal(listening().trim(), '', 'its docker-proxy ended with it');
    assert.equal((await shown(lab)).containers, undefined);
    assert.equal((await call(lab, ['network', 'rm', 'app'])).out, 'app');
    assert.equal(spawnSync('ip', ['-n', netnsName(lab, 'host'), 'link', 'show', 'br-app']).status, 1);
  });

  test('the documents\' docker run forms, verbatim: -p, --net=host, --net=none, --net=container:, run -it sh', async () => {
    assert.equal(typed(lab, 'host', ['run', '-d', '--name', 'web', '-p', '80:80', 'httpd']).code, 0);
    assert.equal(typed(lab, 'host', ['run', '-d', '--name', 'tool', '--net=host', 'busybox']).code, 0);
    assert.equal(typed(lab, 'host', ['run', '-d', '--name', 'batch', '--net=none', 'busybox']).code, 0);
    assert.equal(typed(lab, 'host', ['run', '-d', '--name', 'side', '--net=container:web', 'busybox']).code, 0);
    // -p: Docker's DNAT for the host's own addresses.
    assert.match(inNode(lab, 'host', ['iptables', '-t', 'nat', '-S', 'DOCKER']).out, /-A DOCKER ! -i docker0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 172\.17\.0\.2:80/);
    // host mode has no namespace; none has only lo; container mode shares web's.
    assert.ok(!netnsList().includes(netnsName(lab, 'tool')));
    assert.deepEqual(inNode(lab, 'batch', ['ip', '-br', 'link']).out.trim().split('\n').map((l) => l.split(/\s+/)[0]), ['lo']);
    assert.ok(!netnsList().includes(netnsName(lab, 'side')));
    assert.match((await call(lab, ['exec', 'side', 'true'])).err, /^$/);
    // `docker run --name client -it busybox:latest sh` (seed 004): a shell inside the new container.
    const client = typed(lab, 'host', ['run', '--name', 'client', '-it', 'busybox:latest', 'sh'], 'ip -4 -br addr show eth0\nexit\n');
    assert.equal(client.code, 0, client.err);
    assert.match(client.out, /eth0(@\S+)?\s+UP\s+172\.17\.0\.3\/16/);
    assert.equal((await shown(lab)).containers?.['side']?.network_mode, 'container:web');
    // The tools seed 004 types next to docker, on a lab shell's PATH: brctl show, ifconfig, route.
    const tool = (node: string, argv: string[]) => spawnSync('ip', ['netns', 'exec', netnsName(lab, node), ...argv], { env: shellEnv(lab, node), encoding: 'utf8', timeout: 10_000 });
    const brctl = tool('host', ['brctl', 'show']);
    assert.equal(brctl.status, 0, brctl.stderr);
    assert.match(brctl.stdout, new RegExp(`^docker0\\s+8000\\.[0-9a-f]{12}\\s+no\\s+(${hostVethName('web', 'bridge')}|${hostVethName('client', 'bridge')})$`, 'm'));
    assert.match(tool('host', ['ifconfig', 'docker0']).stdout, /inet 172\.17\.0\.1\s+netmask 255\.255\.0\.0/);
    assert.match(tool('client', ['route', '-n']).stdout, /^0\.0\.0\.0\s+172\.17\.0\.1\s+0\.0\.0\.0\s+UG\s.*eth0$/m);
  });

  test('container mode: nslab exec of the sharing container enters the shared namespace', () => {
    const nslab = (args: string[]) => spawnSync('node', [new URL('../../bin/nslab.mjs', import.meta.url).pathname, ...args], { encoding: 'utf8', timeout: 60_000 });
    const viaSide = nslab(['exec', lab, 'side', '--', 'ip', '-4', '-br', 'addr', 'show', 'eth0']);
    assert.equal(viaSide.status, 0, viaSide.stderr);
    assert.match(viaSide.stdout, /172\.17\.0\.2\/16/);
    // docker is on nslab exec's PATH too.
    const viaExec = nslab(['exec', lab, 'host', '--', 'docker', 'ps']);
    assert.match(viaExec.stdout, /\sside$/m);
  });

  test('export -> destroy -> apply gives the same lab; a re-apply runs nothing', async () => {
    const before = await shown(lab);
    const rules = inNode(lab, 'host', ['iptables-save']).out.split('\n').filter((l) => l.startsWith('-A')).sort();
    await destroyLab(lab);
    assert.ok(!existsSync(`/run/nslab/labs/${lab}.json`));
    const parsed = await parseWithKernel(before);
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
    assert.ok((await applyTopology(parsed.topology, { meta: parsed.meta })).ran > 0);
    assert.deepEqual(await shown(lab), before);
    assert.deepEqual(inNode(lab, 'host', ['iptables-save']).out.split('\n').filter((l) => l.startsWith('-A')).sort(), rules);
    const again = await parseWithKernel(await shown(lab));
    assert.ok(again.ok);
    assert.equal((await applyTopology(again.topology, { meta: again.meta })).ran, 0);
  });
});

describe('the rest of the vocabulary, typed in lab shells of two hosts', () => {
  test('network ls (Docker\'s three networks), create --driver overlay / --subnet --gateway --internal, run on each host, --ip, exec -it NAME sh, network inspect host, rm -f and network rm', async () => {
    const lab = uniqueLab('dk-vocab');
    made.push(lab);
    // Two hosts on an underlay switch, with no container layer yet: the overlay example's machines.
    await applyText(readFileSync(`${EXAMPLES}overlay.yaml`, 'utf8').replace(/^name: .*$/m, `name: ${lab}`).replace(/^networks:[\s\S]*$/m, ''));
    // Seed 004's first command: a Docker host has bridge, host and none.
    const ls = typed(lab, 'host1', ['network', 'ls']);
    assert.equal(ls.code, 0, ls.err);
    const [header, ...rows] = ls.out.trim().split('\n');
    assert.match(header ?? '', /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
    assert.deepEqual(rows.map((l) => l.split(/\s+/).slice(1).join(' ')), ['bridge bridge local', 'host host local', 'none null local']);
    const hostNet = JSON.parse(typed(lab, 'host1', ['network', 'inspect', 'host']).out) as { Name: string; Driver: string; Scope: string }[];
    assert.deepEqual(hostNet.map((n) => `${n.Name} ${n.Driver} ${n.Scope}`), ['host host local']);

    // An overlay across the two hosts: a container typed on each host's shell runs on that host.
    assert.equal(typed(lab, 'host1', ['network', 'create', '--driver', 'overlay', '--subnet', '10.0.20.0/24', 'ov2']).code, 0);
    for (const [host, name] of [['host1', 'a'], ['host2', 'b']] as const) {
      const r = typed(lab, host, ['run', '-d', '--name', name, '--network', 'ov2', 'busybox']);
      assert.equal(r.code, 0, r.err);
    }
    assert.deepEqual(addrs(lab, 'a', 'eth0'), ['10.0.20.2/24']);
    assert.deepEqual(addrs(lab, 'b', 'eth0'), ['10.0.20.3/24']);
    for (const [host, remote] of [['host1', '192.0.2.2'], ['host2', '192.0.2.1']] as const) {
      const [vx] = JSON.parse(execFileSync('ip', ['-n', netnsName(lab, host), '-j', '-d', 'link', 'show', 'vx-ov2'], { encoding: 'utf8' })) as { master: string; linkinfo: { info_data: { id: number; remote?: string } } }[];
      assert.deepEqual({ master: vx?.master, remote: vx?.linkinfo.info_data.remote }, { master: 'br-ov2', remote });
    }
    assert.ok(pings(lab, 'a', '10.0.20.3'));
    assert.match(typed(lab, 'host2', ['network', 'ls']).out, /^[0-9a-f]{12}\s+ov2\s+overlay\s+swarm$/m);
    const ov = JSON.parse(typed(lab, 'host1', ['network', 'inspect', 'ov2']).out) as { Driver: string; Containers: Record<string, { Name: string; IPv4Address: string }> }[];
    assert.deepEqual(Object.values(ov[0]?.Containers ?? {}).map((c) => `${c.Name} ${c.IPv4Address}`).sort(), ['a 10.0.20.2/24', 'b 10.0.20.3/24']);

    // An internal network with its own gateway, and a fixed address.
    assert.equal(typed(lab, 'host1', ['network', 'create', '--subnet', '10.60.0.0/24', '--gateway', '10.60.0.254', '--internal', 'sealed']).code, 0);
    assert.equal(typed(lab, 'host1', ['run', '-d', '--name', 's1', '--network', 'sealed', '--ip', '10.60.0.10', 'busybox']).code, 0);
    assert.equal(typed(lab, 'host1', ['run', '-d', '--name', 's2', '--network=sealed', 'busybox']).code, 0);
    assert.deepEqual(addrs(lab, 'host1', 'br-sealed'), ['10.60.0.254/24']);
    assert.deepEqual(addrs(lab, 's1', 'eth0'), ['10.60.0.10/24']);
    assert.ok(pings(lab, 's2', '10.60.0.10'));
    assert.match(inNode(lab, 'host1', ['iptables', '-S', 'DOCKER-ISOLATION-STAGE-1']).out, /^-A DOCKER-ISOLATION-STAGE-1 ! -s 10\.60\.0\.0\/24 -o br-sealed -j DROP$/m);
    assert.ok(!pings(lab, 'a', '10.60.0.10'));
    const file = await shown(lab);
    assert.deepEqual(file.networks, { ov2: { driver: 'overlay', subnet: '10.0.20.0/24' }, sealed: { subnet: '10.60.0.0/24', gateway: '10.60.0.254', internal: true } });
    assert.deepEqual(file.containers, {
      a: { networks: ['ov2'], host: 'host1', image: 'busybox' },
      b: { networks: ['ov2'], host: 'host2', image: 'busybox' },
      s1: { networks: ['sealed'], ip: '10.60.0.10', host: 'host1', image: 'busybox' },
      s2: { networks: ['sealed'], host: 'host1', image: 'busybox' },
    });

    // Seed 004's `docker exec -it 5idocker sh`, with a's name: a shell inside a.
    const sh = typed(lab, 'host2', ['exec', '-it', 'a', 'sh'], 'ip -4 -br addr show eth0\nexit\n');
    assert.equal(sh.code, 0, sh.err);
    assert.match(sh.out, /eth0(@\S+)?\s+UP\s+10\.0\.20\.2\/24/);

    // rm -f on both hosts and network rm: namespaces, bridges and VXLAN devices go.
    const rm = typed(lab, 'host1', ['rm', '-f', 'a', 'b', 's1', 's2']);
    assert.equal(rm.code, 0, rm.err);
    assert.deepEqual(rm.out.trim().split('\n'), ['a', 'b', 's1', 's2']);
    assert.equal(typed(lab, 'host1', ['network', 'rm', 'ov2', 'sealed']).code, 0);
    for (const name of ['a', 'b', 's1', 's2']) assert.ok(!netnsList().includes(netnsName(lab, name)));
    for (const host of ['host1', 'host2']) {
      const left = (JSON.parse(execFileSync('ip', ['-n', netnsName(lab, host), '-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[]).map((l) => l.ifname);
      assert.deepEqual(left.filter((n) => /^(vx-|br-|veth|docker_gw)/.test(n)), []);
    }
    const after = await shown(lab);
    assert.deepEqual([after.networks, after.containers], [undefined, undefined]);
  });
});

describe('Docker\'s embedded DNS', () => {
  test('names resolve on a user-defined network (getent, ping) and not on the default bridge', async () => {
    const lab = uniqueLab('dk-dns');
    made.push(lab);
    await applyText(`${BASE(lab)}networks:
  bridge: { subnet: 172.17.0.0/16 }
  app: { subnet: 10.20.0.0/24 }
containers:
  web: { networks: [app] }
  client: { networks: [app] }
  old1: {}
  old2: {}
`);
    // The resolver was started by the apply; on a loaded machine it may take a moment to listen.
    const resolve = async (name: string) => {
      let seen = '';
      for (let i = 0; i < 50 && !seen.includes(name); i += 1) {
        seen = inNode(lab, 'client', ['getent', 'hosts', name]).out;
        if (!seen.includes(name)) await new Promise((ok) => setTimeout(ok, 100));
      }
      return seen;
    };
    assert.match(await resolve('web'), /^10\.20\.0\.2\s+web$/m);
    assert.ok(pings(lab, 'client', 'web'));
    // The resolver is a process inside the container's namespace, listening at 127.0.0.11:53.
    assert.match(inNode(lab, 'client', ['ss', '-lnu']).out, /127\.0\.0\.11:53/);
    // The default bridge has no embedded DNS: old2 is not a name there.
    assert.notEqual(inNode(lab, 'old1', ['getent', 'hosts', 'old2'], 4_000).code, 0);
    // A container joining later is a name at once.
    assert.equal((await call(lab, ['run', '-d', '--name', 'late', '--network', 'app', 'busybox'])).code, 0);
    assert.match(await resolve('late'), /^10\.20\.0\.4\s+late$/m);
    // Destroy ends the resolvers.
    const pids = execFileSync('ip', ['netns', 'pids', netnsName(lab, 'client')], { encoding: 'utf8' }).trim().split('\n').map(Number);
    await destroyLab(lab);
    for (const pid of pids) assert.ok(!existsSync(`/proc/${pid}/cmdline`) || readState(pid) === 'Z', `process ${pid} still runs`);
  });
});

/** A process's state letter (Z for a zombie waiting for its parent). */
function readState(pid: number): string {
  try { return execFileSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' }).split(') ')[1]?.[0] ?? ''; } catch { return ''; }
}
