// Contained trainee shells, through a real classroom server and real trainee terminals: every way
// out the classroom issue names is tried from a trainee's shell and fails (the root network
// namespace, another trainee's lab, the server's environment, other processes, the machine's
// files, other terminals' ptys, other cgroups), while inside its own lab the trainee is root as the
// tutorials need (addresses, MASQUERADE, sysctl, tcpdump, ip netns add), checked from outside with
// ip and iptables. The instructor's shell is not contained. Trainee and lab names start with cnt;
// every namespace, process and user namespace these tests made is removed in `after`, even when a
// test failed. Needs root and the nslab-contain helper (native/build.mjs).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { destroyLab } from '../kernel/lab';
import { CONTAIN_PATH } from '../kernel/userns';
import { startServer } from '../main';
import type { Running } from '../main';
import { TestClient } from '../../test-kit/terminal';
import { detectLayout, procsOf } from './cgroups';
import { TraineeUsers } from './contain';
import { api } from '../../test-kit/http';

/** Runs one line in a shell and returns what it printed and its exit status. */
async function run(client: TestClient, line: string, timeoutMs = 30_000): Promise<{ out: string; code: number }> {
  const from = client.text.length;
  const tag = randomBytes(3).toString('hex');
  client.type(`${line}; echo "__${tag}"":$?:"\r`);
  const match = await client.expect(new RegExp(`\\r\\n([\\s\\S]*?)__${tag}:(\\d+):`), timeoutMs, from);
  // eslint-disable-next-line no-control-regex -- bash's bracketed-paste switches (ESC [?2004h / l) are not output
  return { out: (match[1] ?? '').replace(/\x1b\[\?2004[hl]\r?/g, ''), code: Number(match[2]) };
}

/** The last line a command printed (ls prints its list on one line), trimmed. */
function lastLine(out: string): string {
  return out.trim().split(/\r?\n/).pop()?.trim() ?? '';
}

/** argv output, run by the machine's root (the server's view of the kernel). */
function outside(argv: string[]): string {
  return execFileSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' });
}

const layout = detectLayout();
const pidsDir = layout.kind === 'on' ? layout.hierarchies.find((h) => h.controllers.includes('pids'))?.dir : undefined;

describe('contained trainee shells (kernel, real shells)', { concurrency: false, skip: existsSync(CONTAIN_PATH) ? false : 'nslab-contain is not built (node apps/server/native/build.mjs)' }, () => {
  const INSTRUCTOR = randomBytes(24).toString('hex');
  const tag = randomBytes(3).toString('hex');
  const ana = { name: `cnt-a${tag}`, token: '' };
  const bo = { name: `cnt-b${tag}`, token: '' };
  const instructorLab = `cnt-i${tag}`;
  const kernelLabs = [`${ana.name}--web`, `${bo.name}--web`, instructorLab, `${ana.name}--old`];
  const users = new TraineeUsers();
  let server: Running | undefined;
  let port = 0;
  const clients: TestClient[] = [];
  let shell: TestClient;
  let shellPid = 0;

  const terminal = async (token: string, lab: string, node: string): Promise<{ client: TestClient; pid: number }> => {
    const opened = await api(port, token, 'POST', `/api/labs/${lab}/terminals`, { node });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    const client = await TestClient.connect(`ws://127.0.0.1:${port}/ws/term/${String(opened.body['id'])}`, { protocols: ['nslab', `nslab.token.${token}`] });
    clients.push(client);
    return { client, pid: Number(opened.body['pid']) };
  };

  before(async () => {
    server = await startServer({ port: 0, host: '127.0.0.1', token: INSTRUCTOR, examplesDir: '/nonexistent', webDir: '/nonexistent', maxTerminals: 16, classroom: true }, () => {});
    port = server.port;
    for (const t of [ana, bo]) {
      const made = await api(port, INSTRUCTOR, 'POST', '/api/trainees', { name: t.name });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      t.token = String(made.body['token']);
      const applied = await api(port, t.token, 'PUT', '/api/labs/web', { name: 'web', nodes: { n1: {}, n2: {} }, links: [['n1:eth0', 'n2:eth0']] });
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
    }
    assert.equal((await api(port, INSTRUCTOR, 'PUT', `/api/labs/${instructorLab}`, { name: instructorLab, nodes: { n1: {} } })).status, 200);
    ({ client: shell, pid: shellPid } = await terminal(ana.token, 'web', 'n1'));
  });

  after(async () => {
    for (const c of clients) c.ws.terminate();
    await server?.stop();
    for (const lab of kernelLabs) await destroyLab(lab).catch(() => undefined);
    for (const t of [ana, bo]) users.release(t.name);
    assert.deepEqual([ana, bo].filter((t) => existsSync(`/run/nslab/users/${t.name}`)), [], 'no user namespace of these tests is left bound');
  });

  it('a trainee\'s lab namespaces are owned by the trainee\'s user namespace, and each trainee has their own', () => {
    // The machine's root (the server) still works in it.
    assert.match(outside(['ip', '-n', `nslab.${ana.name}--web.n1`, '-br', 'link']), /^eth0@/m);
    const anaUser = users.find(ana.name);
    const boUser = users.find(bo.name);
    assert.ok(anaUser && boUser, 'both trainees have a user namespace');
    assert.notEqual(anaUser.hostId, boUser.hostId, 'with ranges of their own');
    // The shell (outside pid) has a child in the trainee's user namespace: its user namespace is the bound one.
    const inner = outside(['pgrep', '-P', String(shellPid)]).trim().split('\n')[0] as string;
    assert.equal(outside(['stat', '-L', '-c', '%i', `/proc/${inner}/ns/user`]).trim(), outside(['stat', '-L', '-c', '%i', anaUser.userns]).trim());
    assert.equal(readFileSync(`/proc/${inner}/uid_map`, 'utf8').trim().split(/\s+/).join(' '), `0 ${anaUser.hostId} 65536`);
  });

  it('a restarted server finds a trainee\'s user namespace again; a new trainee gets a range of their own', () => {
    const before = users.find(ana.name);
    assert.ok(before);
    const again = new TraineeUsers().ensure(ana.name); // what a new server process does on the trainee's next lab or shell
    assert.deepEqual(again, before);
    const fresh = `cnt-c${tag}`;
    try {
      const made = new TraineeUsers().ensure(fresh);
      assert.ok(![before.hostId, users.find(bo.name)?.hostId].includes(made.hostId), `${made.hostId} is nobody else's`);
    } finally {
      users.release(fresh);
    }
    assert.equal(users.find(fresh), undefined);
  });

  it('no way to the root network namespace: nsenter -t 1 -n reaches only the shell\'s own node, /proc holds no other', async () => {
    const hostNet = readlinkSync('/proc/self/ns/net'); // the server's: the machine's root network namespace
    const viaOne = await run(shell, 'nsenter -t 1 -n readlink /proc/self/ns/net; readlink /proc/*/ns/net | sort -u');
    assert.equal(viaOne.code, 0, viaOne.out);
    assert.doesNotMatch(viaOne.out, new RegExp(hostNet.replace(/[[\]]/g, '\\$&')));
    assert.deepEqual([...new Set(viaOne.out.trim().split(/\r?\n/))], [outside(['ip', 'netns', 'exec', `nslab.${ana.name}--web.n1`, 'readlink', '/proc/self/ns/net']).trim()], 'pid 1 is the shell, in its node');
    const enter = await run(shell, `nsenter --net=/proc/${process.pid}/ns/net ip link`);
    assert.notEqual(enter.code, 0, enter.out);
  });

  it('ip netns list and /run/netns show only the lab\'s nodes; another trainee\'s lab exists and is unreachable', async () => {
    assert.ok(outside(['ip', 'netns', 'list']).includes(`nslab.${bo.name}--web.n1`), 'bo\'s lab exists now');
    const list = await run(shell, 'ip netns list; ls /run/netns');
    assert.equal(list.code, 0, list.out);
    assert.doesNotMatch(list.out, new RegExp(bo.name));
    assert.doesNotMatch(list.out, /nslab\./);
    assert.match(list.out, /^n2/m);
    for (const path of [`nslab.${bo.name}--web.n1`, `/proc/${process.pid}/root/run/netns/nslab.${bo.name}--web.n1`, `/proc/1/root/run/netns/nslab.${bo.name}--web.n1`]) {
      const reach = await run(shell, `nsenter --net=${path.startsWith('/') ? path : `/run/netns/${path}`} ip link`);
      assert.notEqual(reach.code, 0, `${path}: ${reach.out}`);
    }
  });

  it('ps ax shows only the shell\'s own processes, and no /proc/*/environ it can read holds the server\'s', async () => {
    const ps = await run(shell, 'ps -eo pid=,comm=');
    assert.equal(ps.code, 0, ps.out);
    const comms = ps.out.trim().split(/\r?\n/).map((l) => l.trim().split(/\s+/)[1]);
    assert.ok(comms.length > 0 && comms.every((c) => c === 'bash' || c === 'ps'), ps.out);
    // The test runner gives this process (the server's) NODE_TEST_CONTEXT: the check below could find it.
    const marker = readFileSync('/proc/self/environ', 'utf8').includes('NODE_TEST_CONTEXT=') ? 'NODE_TEST_CONTEXT' : 'NSLAB_HOST_MNT';
    const env = await run(shell, `cat /proc/*/environ | tr '\\0' '\\n' | grep -c -e ${marker} -e ${INSTRUCTOR} -e ${bo.token}`);
    assert.equal(env.out.trim(), '0', env.out);
  });

  it('the machine\'s files are read-only; /root and /tmp are the trainee\'s scratch space', async () => {
    for (const file of ['/etc/cnt-x', '/root/../etc/cnt-y', '/run/nslab/cnt-x', '/var/tmp/cnt-x', '/sys/fs/cgroup/cnt-x']) {
      const write = await run(shell, `echo x > ${file}`);
      assert.notEqual(write.code, 0, `${file}: ${write.out}`);
      assert.equal(existsSync(file), false, file);
    }
    const home = await run(shell, 'echo hello > /root/notes && cat ~/notes && echo x > /tmp/x && cat /tmp/x');
    assert.equal(home.code, 0, home.out);
    assert.equal(existsSync('/root/notes'), false, 'the scratch home is not the machine\'s /root');
  });

  it('/dev/pts shows no other terminal (the instructor has one open now)', async () => {
    const { client: inst } = await terminal(INSTRUCTOR, instructorLab, 'n1');
    await run(inst, 'true');
    const pts = await run(shell, 'command ls /dev/pts');
    assert.equal(pts.code, 0, pts.out);
    assert.deepEqual(pts.out.trim().split(/\s+/), ['ptmx'], pts.out);
  });

  it('the shell cannot move itself out of its cgroup, through cgroupfs as mounted or mounted anew', { skip: pidsDir === undefined ? 'no pids cgroup here' : false }, async () => {
    // `ip netns exec` gave the shell a fresh /sys without cgroup mounts: the way out would be to mount one.
    const moved = await run(shell, [
      'mkdir -p /tmp/v1 /tmp/v2',
      'for f in /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/*/cgroup.procs; do [ -e "$f" ] && echo $$ > "$f" && echo MOVED "$f"; done',
      'mount -t cgroup -o pids none /tmp/v1 && echo $$ > /tmp/v1/cgroup.procs && echo MOVED v1',
      'mount -t cgroup2 none /tmp/v2 && echo $$ > /tmp/v2/cgroup.procs && echo MOVED v2',
      'unshare -C sh -c "mount -t cgroup2 none /tmp/v2 && echo \\$\\$ > /tmp/v2/cgroup.procs && echo MOVED own"',
      'umount /tmp/v1 /tmp/v2 2>/dev/null; true',
    ].join('; '));
    assert.doesNotMatch(moved.out, /MOVED/);
    const bash = Number(outside(['pgrep', '-P', String(shellPid)]).trim().split('\n')[0] ?? shellPid);
    assert.ok(procsOf(`${pidsDir as string}/trainee-${ana.name}`)?.includes(bash), 'the shell is still in the trainee\'s cgroup');
  });

  it('inside its lab the trainee is root: addresses, MASQUERADE, sysctl, tcpdump, ip netns add', async () => {
    const kernel = (node: string) => `nslab.${ana.name}--web.${node}`;
    const addr = await run(shell, 'ip netns exec n2 ip addr add 10.77.0.2/24 dev eth0');
    assert.equal(addr.code, 0, addr.out);
    assert.match(outside(['ip', '-n', kernel('n2'), '-br', 'addr', 'show', 'eth0']), /10\.77\.0\.2\/24/);
    const nat = await run(shell, 'ip netns exec n2 iptables -t nat -A POSTROUTING -s 10.77.0.0/24 -o eth0 -j MASQUERADE');
    assert.equal(nat.code, 0, nat.out);
    assert.match(outside(['ip', 'netns', 'exec', kernel('n2'), 'iptables', '-t', 'nat', '-S', 'POSTROUTING']), /-s 10\.77\.0\.0\/24 -o eth0 -j MASQUERADE/);
    const fwd = await run(shell, 'ip netns exec n2 sysctl -w net.ipv4.ip_forward=1');
    assert.equal(fwd.code, 0, fwd.out);
    assert.equal(outside(['ip', 'netns', 'exec', kernel('n2'), 'cat', '/proc/sys/net/ipv4/ip_forward']).trim(), '1');
    const dump = await run(shell, '(timeout 20 tcpdump -c 1 -n -i lo icmp > /tmp/dump 2>&1 &); sleep 1; ping -c 3 -i 0.3 127.0.0.1 > /dev/null; sleep 1; cat /tmp/dump');
    assert.match(dump.out, /1 packet captured/);
    const add = await run(shell, 'ip netns add nsx && ip netns exec nsx ip link add d0 type veth peer name d1 && ip netns list');
    assert.equal(add.code, 0, add.out);
    assert.match(add.out, /^nsx/m);
    assert.match(outside(['ip', '-n', kernel('nsx'), '-br', 'link']), /^d0@d1/m);
    const listed = await api(port, ana.token, 'GET', '/api/labs/web');
    assert.match(JSON.stringify(listed.body), /"nsx"/, 'the new node is the lab\'s');
  });

  it('/run/nslab shows the shell only its own rc file and control socket: no other lab\'s or trainee\'s name', async () => {
    // The server's /run/nslab names the other trainee (their user namespace) and the instructor's lab (its shell's socket).
    const { client: inst } = await terminal(INSTRUCTOR, instructorLab, 'n1');
    await run(inst, 'true');
    const state = outside(['find', '/run/nslab', '-maxdepth', '2']);
    assert.match(state, new RegExp(`/run/nslab/users/${bo.name}`));
    assert.match(state, new RegExp(`/run/nslab/shell/${instructorLab}.sock`));
    const seen = await run(shell, 'find /run/nslab; ls /run/nslab/users /run/nslab/labs');
    for (const name of [bo.name, instructorLab]) assert.doesNotMatch(seen.out, new RegExp(name), seen.out);
    const lines = seen.out.trim().split(/\r?\n/);
    assert.deepEqual(lines.filter((l) => l.startsWith('/run/nslab')).map((l) => l.replace(/bashrc-[0-9a-f]+$/, 'bashrc')).sort(), ['/run/nslab', '/run/nslab/shell', '/run/nslab/shell/bashrc', `/run/nslab/shell/${ana.name}--web.sock`], seen.out);
    const write = await run(shell, 'echo x > /run/nslab/cnt-x');
    assert.notEqual(write.code, 0, write.out);
  });

  it('/sys holds none of the machine\'s network devices, even with the sysfs ip netns exec mounted taken off; ip netns exec still mounts the node\'s', async () => {
    assert.ok(readdirSync('/sys/class/net').some((d) => d !== 'lo'), 'the machine has network devices besides lo');
    const own = outside(['ip', '-n', `nslab.${ana.name}--web.n1`, '-br', 'link']).trim().split('\n').map((l) => (l.split(/\s+/)[0] as string).split('@')[0] as string).sort();
    for (const node of ['n1', 'n2']) {
      const nested = await run(shell, `ip netns exec ${node} ls /sys/class/net`);
      assert.equal(nested.code, 0, nested.out);
      assert.deepEqual(lastLine(nested.out).split(/\s+/).sort(), own, nested.out);
    }
    // Under it the machine's sysfs would list the machine's devices; the sysfs of the helper's empty namespace (gone since) lists none.
    const under = await run(shell, 'umount /sys 2>/dev/null; umount /sys 2>/dev/null; command ls /sys/class/net | wc -l');
    assert.equal(lastLine(under.out), '0', under.out);
  });

  it('a lab made by an nslab without containment: a trainee\'s shell there is refused with a sentence, not started to end at once', async () => {
    const plain = await startServer({ port: 0, host: '127.0.0.1', token: INSTRUCTOR, examplesDir: '/nonexistent', webDir: '/nonexistent', maxTerminals: 4 }, () => {});
    try {
      assert.equal((await api(plain.port, INSTRUCTOR, 'PUT', `/api/labs/${ana.name}--old`, { name: `${ana.name}--old`, nodes: { n1: {} } })).status, 200);
    } finally {
      await plain.stop();
    }
    const opened = await api(port, ana.token, 'POST', '/api/labs/old/terminals', { node: 'n1' });
    assert.equal(opened.status, 409, JSON.stringify(opened.body));
    assert.match(String(opened.body['error']), /^lab old was made before this classroom contained its trainees.*destroy the lab and apply it again/);
    // The trainee's own labs still open.
    const own = await api(port, ana.token, 'POST', '/api/labs/web/terminals', { node: 'n2' });
    assert.equal(own.status, 201, JSON.stringify(own.body));
  });

  it('docker says in a sentence that it is not available in a trainee\'s shell, and unsetting NSLAB_CONTAINED reaches nothing', async () => {
    const said = await run(shell, 'docker ps');
    assert.notEqual(said.code, 0);
    assert.match(said.out, /not available in a classroom trainee's shell/);
    const forced = await run(shell, `NSLAB_CONTAINED= NSLAB_HOST_MNT=/proc/${process.pid}/ns/mnt docker ps`);
    assert.notEqual(forced.code, 0, forced.out);
  });

  it('the instructor\'s shell is not contained: it is in the machine\'s pid namespace', async () => {
    const { client: inst } = await terminal(INSTRUCTOR, instructorLab, 'n1');
    await run(inst, 'true'); // its first prompt is out
    const pidns = await run(inst, 'readlink /proc/$$/ns/pid');
    assert.equal(pidns.out.trim(), readlinkSync('/proc/self/ns/pid'));
  });
});
