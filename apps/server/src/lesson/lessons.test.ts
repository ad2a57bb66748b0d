/**
 * Every bundled lesson on the real kernel: a fresh start lab fails a check; after
 * `solve` every check passes; breaking the solution the way a learner would fails
 * the right check, with a hint that names the cause. One lesson at a time, each lab
 * destroyed before the next starts (a lesson lab is small: 2 to 7 namespaces).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LessonStatus } from '@nslab/model';
import { LabService } from '../labs/service';
import { cleanup, EXAMPLES, inNode, uniqueLab } from '../../test-kit/lab';
import { LessonCatalog } from './catalog';
import { LESSONS_DIR } from './cli';
import { LessonEngine } from './engine';

const made: string[] = [];
after(() => cleanup(...made));

const engine = new LessonEngine(new LessonCatalog(LESSONS_DIR), new LabService(EXAMPLES));

/** A learner's mistake: commands run in nodes, then the check that must fail and what its hint must say. */
interface Break { node: string; argv: string[]; check: string; hint: RegExp }

const BREAKS: Record<string, Break[]> = {
  'veth-pair': [
    { node: 'ns1', argv: ['ip', 'link', 'set', 'veth0', 'down'], check: 'veth0-up', hint: /ns1:veth0 is down/ },
  ],
  bridge: [
    { node: 'host', argv: ['ip', 'link', 'set', 'veth0', 'nomaster'], check: 'veth0-port', hint: /host:veth0 is not a port of any bridge/ },
  ],
  router: [
    // The ping check's hint is the trace's: where the echo was last seen and the kernel's reason there.
    { node: 'router', argv: ['sysctl', '-qw', 'net.ipv4.ip_forward=0'], check: 'ns1-reaches-ns2', hint: /^the echo request reached router on eth1 but never left: forwarding is off in router \(net\.ipv4\.ip_forward = 0\)$/ },
    // The routes step fails first here: the ping check of the step after it keeps the model's reading (no trace for a later step).
    { node: 'ns2', argv: ['ip', 'route', 'del', 'default'], check: 'ns1-reaches-ns2', hint: /^ns2 has no route back to 10\.0\.1\.0\/24/ },
  ],
  masquerade: [
    { node: 'host', argv: ['iptables', '-t', 'nat', '-F', 'POSTROUTING'], check: 'masquerade-rule', hint: /no MASQUERADE rule for 172\.18\.0\.0\/24 out eth0 in host/ },
  ],
  dnat: [
    { node: 'host', argv: ['iptables', '-t', 'nat', '-D', 'PREROUTING', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', '172.18.0.2:80'], check: 'published', hint: /no DNAT rule for tcp port 80 in host/ },
  ],
  'docker-modes': [
    { node: 'host', argv: ['iptables', '-t', 'nat', '-D', 'PREROUTING', '!', '-i', 'docker0', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', '172.17.0.3:80'], check: 'published', hint: /no DNAT rule for tcp port 80 in host/ },
  ],
  'docker-cnm': [
    { node: 'host', argv: ['iptables', '-D', 'FORWARD', '-i', 'br-neta', '-o', 'br-netb', '-j', 'DROP'], check: 'isolation-rule', hint: /no DROP rule in host's FORWARD chain -i br-neta -o br-netb/ },
  ],
  overlay: [
    { node: 'host2', argv: ['ip', 'link', 'set', 'vxlan0', 'down'], check: 'host2-vxlan', hint: /host2:vxlan0 is down/ },
  ],
  'k8s-pods': [
    // The trace's words: the reply is what cannot find its way.
    { node: 'node2', argv: ['ip', 'route', 'del', '10.244.1.0/24'], check: 'pod-to-pod', hint: /^the echo reply reached node2 on cni0, but node2 has no route to 10\.244\.1\.2 \(network is unreachable\)$/ },
  ],
  'k8s-service': [
    // Without the random rule every connection takes the last one: one endpoint gets them all.
    { node: 'node1', argv: ['iptables', '-t', 'nat', '-D', 'KUBE-SVC-WEB', '1'], check: 'both-answer', hint: /^20 connections to 10\.96\.0\.10:80 all went to pod-b1 \(pod-b1 20, pod-b2 0\): nothing sends any to pod-b2/ },
  ],
};

function failing(status: LessonStatus): string[] {
  return status.steps.flatMap((s) => s.checks.filter((c) => c.passed !== true).map((c) => `${c.id}: ${c.hint ?? '(no hint)'}`));
}

function result(status: LessonStatus, id: string) {
  const c = status.steps.flatMap((s) => s.checks).find((x) => x.id === id);
  assert.ok(c, `no check ${id}`);
  return c;
}

describe('lessons on the real kernel', async () => {
  const lessons = await engine.catalog.list();

  test('all ten lessons of the curriculum are offered, and no lesson file is refused', async () => {
    assert.deepEqual((await engine.catalog.broken()).map((b) => b.file), []);
    assert.deepEqual(lessons.map((l) => l.id).sort(), ['bridge', 'dnat', 'docker-cnm', 'docker-modes', 'k8s-pods', 'k8s-service', 'masquerade', 'overlay', 'router', 'veth-pair']);
  });

  for (const lesson of lessons) {
    test(`${lesson.id}: the start lab fails a check, the solution passes them all, a learner's mistake fails the right check with its cause`, async () => {
      const lab = uniqueLab('lz');
      made.push(lab);
      try {
        await engine.start(lesson.id, lab);
        const fresh = await engine.check(lab);
        assert.equal(fresh.passed, false, 'a fresh start lab passed every check');
        await engine.solve(lab);
        const solved = await engine.check(lab);
        assert.deepEqual(failing(solved), [], 'after solve, checks still fail');
        for (const b of BREAKS[lesson.id] ?? []) {
          const r = inNode(lab, b.node, b.argv);
          assert.equal(r.code, 0, `${b.argv.join(' ')}: ${r.out}`);
          const broken = await engine.check(lab);
          const c = result(broken, b.check);
          assert.equal(c.passed, false, `${b.check} still passes after ${b.argv.join(' ')}`);
          assert.match(c.hint ?? '', b.hint);
          await engine.solve(lab);
          assert.deepEqual(failing(await engine.check(lab)), [], `solve did not repair ${b.argv.join(' ')}`);
        }
        assert.ok(BREAKS[lesson.id], `no learner's mistake is tried for ${lesson.id}`);
      } finally {
        await cleanup(lab);
      }
    });
  }
});
