// Trainee limits through cgroups. Pure parts: where cgroups go on a machine (v2 delegated, v1,
// none), the limit files written, and the serve flags with their refusals. Kernel parts, through
// a real classroom server and real trainee terminals: the shell and what it starts are in the
// trainee's cgroups, a 3 GiB allocation fails and a loop of 400 `sleep 30 &` stops at the
// process limit while the server serves on, the instructor's shell is not limited, and the
// cgroups go with the server (and a killed server's empty leftovers at the next start). Trainee
// and lab names start with cg-; every lab, process and cgroup these tests made is removed in
// `after`, even when a test failed. Needs root and cgroup memory/pids/cpu controllers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommand } from '../cli';
import { destroyLab } from '../kernel/lab';
import { parseServeArgs, startServer } from '../main';
import type { Running } from '../main';
import { TestClient, waitFor } from '../../test-kit/terminal';
import type { Hierarchy } from './cgroups';
import { CPU_PERIOD_US, DEFAULT_TRAINEE_LIMITS, detectLayout, limitFiles, parseTraineeLimits, planLayout, procsOf, TraineeCgroups } from './cgroups';
import { TraineeUsers } from './contain';
import { api } from '../../test-kit/http';

const MiB = 1024 * 1024;

/** mountinfo lines as this kind of machine has them (cgroup v1 controllers, and cgroup2 at /sys/fs/cgroup/unified). */
const V1_MOUNTINFO = [
  '30 25 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '32 30 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '33 30 0:29 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '34 30 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
const V1_PROC_CGROUP = '8:pids:/\n4:memory:/jobs/42\n1:cpu:/\n0::/\n';

describe('where trainee cgroups go (pure)', () => {
  it('cgroup v2 when the server\'s cgroup gives memory, pids and cpu to its children', () => {
    const layout = planLayout('40 1 0:31 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate', '0::/\n', (f) => (f === '/sys/fs/cgroup/cgroup.subtree_control' ? 'cpuset cpu io memory pids\n' : undefined));
    assert.deepEqual(layout, { kind: 'on', version: 2, hierarchies: [{ version: 2, dir: '/sys/fs/cgroup/nslab', controllers: ['memory', 'pids', 'cpu'] }], missing: [] });
  });

  it('the v1 hierarchies, under the server\'s own cgroup in each, when cgroup v2 has no controllers to give', () => {
    const layout = planLayout(V1_MOUNTINFO, V1_PROC_CGROUP, () => '');
    assert.equal(layout.kind, 'on');
    assert.deepEqual(layout.kind === 'on' && layout.hierarchies, [
      { version: 1, dir: '/sys/fs/cgroup/memory/jobs/42/nslab', controllers: ['memory'] },
      { version: 1, dir: '/sys/fs/cgroup/pids/nslab', controllers: ['pids'] },
      { version: 1, dir: '/sys/fs/cgroup/cpu/nslab', controllers: ['cpu'] },
    ]);
  });

  it('v1 controllers mounted together share one directory; a mount whose root hides the server\'s cgroup is not used', () => {
    const mounts = [
      '31 30 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
      '32 30 0:28 /other /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
      '33 30 0:29 /ctr /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids',
    ].join('\n');
    const layout = planLayout(mounts, '3:cpu,cpuacct:/a\n2:memory:/jobs\n1:pids:/ctr/b\n', () => undefined);
    assert.deepEqual(layout.kind === 'on' && layout.hierarchies, [
      { version: 1, dir: '/sys/fs/cgroup/pids/b/nslab', controllers: ['pids'] },
      { version: 1, dir: '/sys/fs/cgroup/cpu,cpuacct/a/nslab', controllers: ['cpu'] },
    ]);
    assert.deepEqual(layout.kind === 'on' && layout.missing, ['memory']);
  });

  it('off, with the reason, when there is neither', () => {
    const layout = planLayout('34 30 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/x\n', () => 'hugetlb\n');
    assert.equal(layout.kind, 'off');
    assert.match(layout.kind === 'off' ? layout.reason : '', /does not give memory, pids, cpu to the server's cgroup's children, and no cgroup v1/);
  });

  it('with no usable controllers the server serves on: one warning line, and trainee shells join nothing', () => {
    const lines: string[] = [];
    const cgroups = TraineeCgroups.start(DEFAULT_TRAINEE_LIMITS, (l) => lines.push(l), { kind: 'off', reason: 'there is no cgroup2 mount, and no cgroup v1 memory, pids or cpu hierarchy is mounted' });
    assert.deepEqual(lines, ['nslab: warning: trainee limits are off (there is no cgroup2 mount, and no cgroup v1 memory, pids or cpu hierarchy is mounted): a trainee\'s shell can use all the machine\'s memory, processes and CPU']);
    assert.equal(cgroups.on, false);
    assert.deepEqual(cgroups.ensure('ana'), []);
    assert.throws(() => cgroups.ensure('../x'), /trainee name/, 'a name that could leave nslab\'s directory is refused');
  });

  it('the limit files: v1 memory (and memory+swap when accounted), pids.max, a CFS quota of 100 ms periods; v2 memory.max and cpu.max', () => {
    const v1: Hierarchy[] = [{ version: 1, dir: '/m', controllers: ['memory'] }, { version: 1, dir: '/c', controllers: ['pids', 'cpu'] }];
    assert.deepEqual(v1.flatMap((h) => limitFiles(h, DEFAULT_TRAINEE_LIMITS, (f) => f === 'memory.memsw.limit_in_bytes')), [
      ['memory.limit_in_bytes', String(512 * MiB)], ['memory.memsw.limit_in_bytes', String(512 * MiB)],
      ['pids.max', '256'], ['cpu.cfs_period_us', '100000'], ['cpu.cfs_quota_us', '50000'],
    ]);
    assert.deepEqual(limitFiles({ version: 2, dir: '/n', controllers: ['memory', 'pids', 'cpu'] }, { memoryBytes: MiB * 64, pids: 32, cpu: 1.5 }, () => false), [
      ['memory.max', String(64 * MiB)], ['pids.max', '32'], ['cpu.max', '150000 100000'],
    ]);
  });
});

describe('serve flags for trainee limits', () => {
  const machine = { memoryBytes: 8 * 1024 * MiB, cores: 2 };

  it('read sizes in binary units, counts and shares of a core; absent flags keep the defaults', () => {
    assert.deepEqual(parseTraineeLimits({}, machine), { limits: DEFAULT_TRAINEE_LIMITS, problems: [] });
    assert.deepEqual(parseTraineeLimits({ memory: '1G', pids: '128', cpu: '0.25' }, machine).limits, { memoryBytes: 1024 * MiB, pids: 128, cpu: 0.25 });
    assert.equal(parseTraineeLimits({ memory: '768MiB' }, machine).limits.memoryBytes, 768 * MiB);
    const config = parseServeArgs(['--classroom', '--trainee-memory', '256M', '--trainee-pids', '64', '--trainee-cpu', '1'], {});
    assert.deepEqual(config.traineeLimits, { memoryBytes: 256 * MiB, pids: 64, cpu: 1 });
    assert.deepEqual(parseServeArgs(['--classroom'], {}).traineeLimits, DEFAULT_TRAINEE_LIMITS);
    assert.ok(parseCommand('serve', ['--classroom', '--trainee-memory', '1G', '--trainee-pids', '64', '--trainee-cpu', '0.5']), 'the CLI takes the flags');
  });

  it('refuse bad values with a sentence that says what to write, every problem at once', () => {
    const { problems } = parseTraineeLimits({ memory: 'lots', pids: '3', cpu: '4' }, machine);
    assert.deepEqual(problems, [
      '--trainee-memory "lots" is not a size: write a number with M or G (MiB, GiB), like 512M or 1G',
      '--trainee-pids "3" is not a process count nslab takes: write a whole number from 16 to 4194304, like 256',
      '--trainee-cpu "4" is not a share of CPU nslab takes: write the cores a trainee may use, from 0.01 to this machine\'s 2, like 0.5 for half a core',
    ]);
    assert.match(parseTraineeLimits({ memory: '1M' }, machine).problems[0] ?? '', /too little for a shell and its tools: give at least 32M/);
    assert.match(parseTraineeLimits({ memory: '64G' }, machine).problems[0] ?? '', /more than this machine has \(8 GiB\): give less, like 512M/);
    for (const cpu of ['0', '-1', 'half', '0.001']) assert.equal(parseTraineeLimits({ cpu }, machine).problems.length, 1, cpu);
    for (const pids of ['256.5', '1e3', '-5', '']) assert.equal(parseTraineeLimits({ pids }, machine).problems.length, 1, pids);
    assert.throws(() => parseServeArgs(['--classroom', '--trainee-memory', 'lots', '--trainee-pids', 'x'], {}), /--trainee-memory "lots" is not a size: write a number with M or G \(MiB, GiB\), like 512M or 1G; --trainee-pids "x"/);
    assert.throws(() => parseServeArgs(['--trainee-memory', '1G'], {}), /^Error: --trainee-memory limits classroom trainees' shells: add --classroom, or leave it out$/);
  });
});


/** Types a command line and returns what it printed and its exit status. */
async function run(client: TestClient, line: string, timeoutMs = 30_000): Promise<{ out: string; code: number }> {
  const from = client.text.length;
  const tag = randomBytes(3).toString('hex');
  client.type(`${line}; echo "__${tag}"":$?:"\r`);
  const match = await client.expect(new RegExp(`\\r\\n([\\s\\S]*?)__${tag}:(\\d+):`), timeoutMs, from);
  // Bash's bracketed-paste switches (ESC [?2004h / l) are not output: strip them.
  // eslint-disable-next-line no-control-regex
  return { out: (match[1] ?? '').replace(/\x1b\[\?2004[hl]\r?/g, ''), code: Number(match[2]) };
}

/** A cgroup file's content, trimmed, or undefined. */
function cgroupFile(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A process's command name, or undefined once it is gone. */
function comm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

const layout = detectLayout();
const hierarchies = layout.kind === 'on' ? layout.hierarchies : [];
const pidsDir = (trainee: string) => hierarchies.find((h) => h.controllers.includes('pids'))?.dir.concat(`/trainee-${trainee}`);

describe('trainee limits in a classroom (kernel, real shells)', { concurrency: false, skip: layout.kind === 'off' ? `trainee limits are off here: ${layout.reason}` : false }, () => {
  const INSTRUCTOR = randomBytes(24).toString('hex');
  const tag = randomBytes(3).toString('hex');
  /** Trainee names: the cg- prefix, so their kernel labs (`NAME--LAB`) carry it too. */
  const ana = { name: `cg-a${tag}`, token: '' };
  const bo = { name: `cg-b${tag}`, token: '' };
  const instructorLab = `cg-i${tag}`;
  /** What a killed server left: an empty trainee cgroup (removed at start) and a cgroup of another name (never touched). */
  const leftover = `trainee-cg-l${tag}`;
  const foreign = `cg-other-${tag}`;
  let server: Running | undefined;
  let port = 0;
  const clients: TestClient[] = [];
  const kernelLabs = [`${ana.name}--sh`, `${bo.name}--sh`, instructorLab];
  const traineeDirs = () => [ana.name, bo.name].flatMap((t) => hierarchies.map((h) => join(h.dir, `trainee-${t}`)));

  /** Opens a terminal on `lab`'s node n1 as `token`, and a socket to it. */
  const terminal = async (token: string, lab: string): Promise<{ client: TestClient; pid: number }> => {
    const opened = await api(port, token, 'POST', `/api/labs/${lab}/terminals`, { node: 'n1' });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    const client = await TestClient.connect(`ws://127.0.0.1:${port}/ws/term/${String(opened.body['id'])}`, { protocols: ['nslab', `nslab.token.${token}`] });
    clients.push(client);
    return { client, pid: Number(opened.body['pid']) };
  };

  /** Ends, by pid, every process in these tests' trainee cgroups (the shells they opened and what was typed in them). */
  const endTraineeProcesses = async () => {
    for (let round = 0; round < 100; round += 1) {
      const pids = traineeDirs().flatMap((d) => procsOf(d) ?? []);
      if (pids.length === 0) return;
      for (const pid of new Set(pids)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      await new Promise((ok) => setTimeout(ok, 50));
    }
  };

  before(async () => {
    for (const h of hierarchies) {
      mkdirSync(join(h.dir, leftover), { recursive: true });
      mkdirSync(join(h.dir, foreign), { recursive: true });
    }
    server = await startServer({ port: 0, host: '127.0.0.1', token: INSTRUCTOR, examplesDir: '/nonexistent', webDir: '/nonexistent', maxTerminals: 16, classroom: true, traineeLimits: DEFAULT_TRAINEE_LIMITS }, () => {});
    port = server.port;
    for (const t of [ana, bo]) {
      const made = await api(port, INSTRUCTOR, 'POST', '/api/trainees', { name: t.name });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      t.token = String(made.body['token']);
      assert.equal((await api(port, t.token, 'PUT', '/api/labs/sh', { name: 'sh', nodes: { n1: {} } })).status, 200);
    }
    assert.equal((await api(port, INSTRUCTOR, 'PUT', `/api/labs/${instructorLab}`, { name: instructorLab, nodes: { n1: {} } })).status, 200);
  });

  after(async () => {
    for (const c of clients) c.ws.terminate();
    await endTraineeProcesses();
    await server?.stop();
    for (const lab of kernelLabs) await destroyLab(lab).catch(() => undefined);
    for (const t of [ana, bo]) new TraineeUsers().release(t.name);
    for (const h of hierarchies) {
      for (const dir of [...traineeDirs(), join(h.dir, leftover), join(h.dir, foreign)]) {
        try {
          rmdirSync(dir);
        } catch {
          // gone already (the server removed it), which is what the tests expect
        }
      }
      try {
        rmdirSync(h.dir);
      } catch {
        // another server's trainees are in it, or it is gone
      }
    }
    assert.deepEqual([...traineeDirs(), ...hierarchies.flatMap((h) => [join(h.dir, leftover), join(h.dir, foreign)])].filter((d) => existsSync(d)), [], 'every cgroup these tests made is gone');
  });

  it('at start-up, an empty trainee cgroup a killed server left is removed, and a cgroup of another name is not touched', () => {
    for (const h of hierarchies) {
      assert.equal(existsSync(join(h.dir, leftover)), false, `${h.dir}/${leftover}`);
      assert.equal(existsSync(join(h.dir, foreign)), true, `${h.dir}/${foreign}`);
    }
  });

  it('a trainee\'s shell, and what it starts, runs in the trainee\'s cgroup in every hierarchy, with the limits set', async () => {
    const { client, pid } = await terminal(ana.token, 'sh');
    const self = await run(client, 'cat /proc/$$/cgroup; echo ---; cat /proc/self/cgroup');
    assert.equal(self.code, 0, self.out);
    // A line that is only "---" parts the shell's own cgroups from its child's (typed-ahead echo is never only that).
    const lines = self.out.split(/\r?\n/);
    const middle = lines.indexOf('---');
    assert.ok(middle > 0, self.out);
    for (const part of [lines.slice(0, middle), lines.slice(middle + 1)]) {
      for (const h of hierarchies) {
        for (const c of h.controllers) {
          const line = part.find((l) => /^\d+:[^:]*:\//.test(l) && (h.version === 2 ? l.startsWith('0::') : l.split(':')[1]?.split(',').includes(c)));
          // A trainee's shell has a cgroup namespace rooted at the trainee's cgroup (contain.ts): there it is "/".
          assert.ok(line?.endsWith(':/'), `${c}: ${line ?? 'no line'} in ${part.join('\n')}`);
        }
      }
    }
    for (const h of hierarchies) {
      const dir = join(h.dir, `trainee-${ana.name}`);
      assert.ok(procsOf(dir)?.includes(pid), `the shell ${pid} is in ${dir}`);
      // The shell proper is its child, in the trainee's pid namespace; seen from here, it is in the trainee's cgroup too.
      const shell = Number(execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n')[0]);
      assert.ok(procsOf(dir)?.includes(shell), `the contained shell ${shell} is in ${dir}`);
      if (h.controllers.includes('pids')) assert.equal(cgroupFile(dir, 'pids.max'), '256');
      if (h.controllers.includes('memory')) assert.equal(cgroupFile(dir, h.version === 2 ? 'memory.max' : 'memory.limit_in_bytes'), String(512 * MiB));
      if (h.controllers.includes('cpu')) {
        if (h.version === 2) assert.equal(cgroupFile(dir, 'cpu.max'), `50000 ${CPU_PERIOD_US}`);
        else assert.deepEqual([cgroupFile(dir, 'cpu.cfs_quota_us'), cgroupFile(dir, 'cpu.cfs_period_us')], ['50000', String(CPU_PERIOD_US)]);
      }
    }
  });

  it('a 3 GiB allocation in a trainee\'s shell fails; the shell and the server go on', { skip: !hierarchies.some((h) => h.controllers.includes('memory')) }, async () => {
    const { client } = await terminal(ana.token, 'sh');
    // b'x' * n writes every byte, so the memory is really used (a bare bytearray(n) may stay untouched zero pages).
    const big = await run(client, 'python3 -c "b = b\'x\' * (3 * 1024**3); print(\'allocated\', len(b))"', 60_000);
    assert.notEqual(big.code, 0, big.out);
    assert.doesNotMatch(big.out, /^allocated/m, 'python printed nothing: it never had the memory');
    assert.ok(big.code === 137 || /MemoryError/.test(big.out), `killed by the OOM killer (137) or MemoryError: ${big.code} ${big.out}`);
    assert.match((await run(client, 'echo still here')).out, /^still here\r?$/m);
    assert.equal((await api(port, INSTRUCTOR, 'GET', '/api/version')).status, 200, 'the server serves on');
  });

  it('400 background `sleep 30` from a trainee\'s shell stop at the process limit; the server serves on', { skip: !hierarchies.some((h) => h.controllers.includes('pids')) }, async () => {
    const { client } = await terminal(bo.token, 'sh');
    const dir = pidsDir(bo.name) as string;
    const from = client.text.length;
    // Not awaited: bash retries a refused fork for a while before it gives up on each one.
    client.type('for i in $(seq 400); do sleep 30 & done\r');
    await client.expect(/fork: (retry: )?Resource temporarily unavailable/, 60_000, from);
    await waitFor(() => Number(cgroupFile(dir, 'pids.current')) >= 256, 30_000, 'the trainee\'s processes to reach pids.max');
    const current = Number(cgroupFile(dir, 'pids.current'));
    assert.ok(current <= 256, `pids.current ${current} stays at most pids.max`);
    const sleeps = (procsOf(dir) ?? []).filter((p) => comm(p) === 'sleep').length;
    assert.ok(sleeps > 0 && sleeps < 400, `${sleeps} of 400 sleeps started`);
    assert.equal((await api(port, INSTRUCTOR, 'GET', '/api/version')).status, 200, 'the server serves on');
    // The instructor can still open a shell and run commands meanwhile.
    const { client: inst } = await terminal(INSTRUCTOR, instructorLab);
    assert.match((await run(inst, 'echo fine')).out, /^fine\r?$/m);
    await endTraineeProcesses();
  });

  it('the instructor\'s shell is not limited: no trainee cgroup, and 768 MiB (past a trainee\'s 512) is allocated', async () => {
    const { client } = await terminal(INSTRUCTOR, instructorLab);
    const cg = await run(client, 'cat /proc/$$/cgroup');
    assert.equal(cg.code, 0);
    assert.doesNotMatch(cg.out, /nslab\/trainee-/);
    const big = await run(client, 'python3 -c "b = b\'x\' * (768 * 1024**2); print(\'allocated\', len(b))"', 60_000);
    assert.equal(big.code, 0, big.out);
    assert.match(big.out, /allocated 805306368/);
  });

  it('a trainee\'s cgroups are removed when the server stops, after their shells ended', async () => {
    await terminal(ana.token, 'sh'); // a shell still open when the server stops
    assert.ok(traineeDirs().some((d) => existsSync(d)));
    await server?.stop();
    server = undefined;
    assert.deepEqual(traineeDirs().filter((d) => existsSync(d)), []);
    for (const h of hierarchies) assert.equal(existsSync(join(h.dir, foreign)), true, 'a cgroup of another name is still there');
  });
});
