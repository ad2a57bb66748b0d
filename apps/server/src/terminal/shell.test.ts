import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SHELL_RC, shellCommand, shellEnv } from './shell';
import { JOIN_CGROUP } from '../classroom/cgroups';
import { bindArgv, holderArgv, inMountNamespace, tmpfsArgv } from './labview';

describe('lab shell command lines', () => {
  it('are argv arrays with each name in its own element', () => {
    const { file, args } = shellCommand('/proc/42/ns/mnt', 'ns1', '/tmp/nslab-term-x/bashrc');
    assert.equal(file, 'nsenter');
    assert.deepEqual(args, ['--mount=/proc/42/ns/mnt', '--wd=/root', '--', 'ip', 'netns', 'exec', 'ns1', 'bash', '--noprofile', '--rcfile', '/tmp/nslab-term-x/bashrc']);
    assert.deepEqual(holderArgv(), ['unshare', '--mount', '--propagation', 'private', '--', 'cat']);
    assert.deepEqual(inMountNamespace('/proc/42/ns/mnt', tmpfsArgv('demo')), ['nsenter', '--mount=/proc/42/ns/mnt', '--', 'mount', '-t', 'tmpfs', '-o', 'mode=0755,size=1m', 'nslab-demo', '/run/netns']);
    assert.deepEqual(bindArgv(7, 'nslab.demo.ns1', 'ns1'), ['mount', '--bind', '/proc/7/root/run/netns/nslab.demo.ns1', '/run/netns/ns1']);
  });

  it('a shell with cgroups to join is started by join-cgroup, which then runs the same argv', () => {
    const plain = shellCommand('/proc/42/ns/mnt', 'ns1', '/rc');
    const { file, args } = shellCommand('/proc/42/ns/mnt', 'ns1', '/rc', ['/sys/fs/cgroup/pids/nslab/trainee-ana/cgroup.procs']);
    assert.equal(file, JOIN_CGROUP);
    assert.deepEqual(args, ['/sys/fs/cgroup/pids/nslab/trainee-ana/cgroup.procs', '--', plain.file, ...plain.args]);
  });

  it('give the shell a fixed environment, nothing inherited from the server', () => {
    process.env.NSLAB_TOKEN = 'secret-token';
    try {
      const env = shellEnv('demo', 'ns1');
      assert.equal(env.PS1, 'demo:ns1# ');
      assert.equal(env.TERM, 'xterm-256color');
      assert.ok(!Object.values(env).includes('secret-token'));
      assert.ok(!('NSLAB_TOKEN' in env));
    } finally {
      delete process.env.NSLAB_TOKEN;
    }
  });

  it('the rc file sets the prompt from the environment', () => {
    assert.match(SHELL_RC, /^PS1="\$\{NSLAB_LAB\}:\$\{NSLAB_NODE\}# "$/m);
  });
});
