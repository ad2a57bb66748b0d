/**
 * Kubernetes services on the real kernel, as kube-proxy (iptables mode) builds them:
 * the k8s-pods example's Service "web" (ClusterIP 10.96.0.10:80 -> pods pod-a2 on
 * node1 and pod-b1 on node2, port 8080; NodePort 30080). Requests to the ClusterIP
 * are balanced across both pods on both nodes; the NodePort answers on a node's
 * address; the rules are kube-proxy's chains on every node; `nslab trace` shows the
 * DNAT at the client's node; export keeps the service.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { netnsName, toFile } from '@nslab/model';
import { applyTopology, parseWithKernel } from './lab';
import { readMeta } from './meta';
import { observeLab } from './observe';
import { cleanup, curlUntil, EXAMPLES, inNode, uniqueLab } from '../../test-kit/lab';

const made: string[] = [];
const servers: ChildProcess[] = [];
after(async () => {
  for (const s of servers) s.kill('SIGTERM');
  await cleanup(...made);
});

async function applyText(text: string): Promise<number> {
  const parsed = await parseWithKernel(text);
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
  return (await applyTopology(parsed.topology, { meta: parsed.meta })).ran;
}

/** A web server on port 8080 of a pod whose page is the pod's name. */
function serve(lab: string, pod: string): void {
  const script = `import http.server as h\nclass H(h.BaseHTTPRequestHandler):\n def do_GET(s):\n  s.send_response(200); s.end_headers(); s.wfile.write(b${JSON.stringify(pod)})\n def log_message(s, *a): pass\nh.HTTPServer(('', 8080), H).serve_forever()\n`;
  servers.push(spawn('ip', ['netns', 'exec', netnsName(lab, pod), 'python3', '-c', script], { stdio: 'ignore' }));
}

/** One hop of `nslab trace --json`. */
interface TraceHop { node: string; interface: string; direction: string; what: string; src: string; dst: string; sport?: number; dport?: number; rewrites: Record<string, [unknown, unknown]> | null; rules: { table: string; chain: string; rule: string; verdict: string }[] }

describe('Kubernetes services (kube-proxy, iptables mode)', () => {
  const lab = uniqueLab('dk-svc');
  made.push(lab);
  const text = readFileSync(`${EXAMPLES}k8s-pods.yaml`, 'utf8').replace(/^name: .*$/m, `name: ${lab}`);

  test('a ClusterIP balances across two pods on two nodes: both answer within 60 requests', async () => {
    assert.ok((await applyText(text)) > 0);
    assert.equal(await applyText(text), 0);
    serve(lab, 'pod-a2');
    serve(lab, 'pod-b1');
    // Both servers listen before the count starts.
    assert.equal(await curlUntil(lab, 'pod-a1', 'http://10.244.1.3:8080/', 'pod-a2'), 'pod-a2');
    assert.equal(await curlUntil(lab, 'pod-a1', 'http://10.244.2.2:8080/', 'pod-b1'), 'pod-b1');
    const answers = new Map<string, number>();
    for (let i = 0; i < 60; i += 1) {
      const body = inNode(lab, 'pod-a1', ['curl', '-s', '--max-time', '2', 'http://10.96.0.10/']).out;
      answers.set(body, (answers.get(body) ?? 0) + 1);
    }
    // With probability 0.5 each, one pod missing all 60 would happen once in 2^59 runs.
    assert.deepEqual([...answers.keys()].sort(), ['pod-a2', 'pod-b1'], JSON.stringify([...answers]));
  });

  test('the NodePort answers on a node\'s own address, from another node', async () => {
    assert.match(await curlUntil(lab, 'node2', 'http://192.168.56.11:30080/', 'pod-'), /^pod-(a2|b1)$/);
  });

  test('every node has kube-proxy\'s chains: KUBE-SERVICES -> KUBE-SVC -> KUBE-SEP with random balancing, KUBE-MARK-MASQ, KUBE-POSTROUTING', () => {
    for (const node of ['node1', 'node2']) {
      const saved = inNode(lab, node, ['iptables-save', '-t', 'nat']).out;
      assert.match(saved, /^-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES$/m);
      assert.match(saved, /^-A KUBE-SERVICES -d 10\.96\.0\.10\/32 -p tcp -m comment --comment "default\/web cluster IP" -m tcp --dport 80 -j (KUBE-SVC-[A-Z2-7]{16})$/m);
      assert.match(saved, /^-A KUBE-SVC-[A-Z2-7]{16} -m comment --comment "default\/web -> 10\.244\.1\.3:8080" -m statistic --mode random --probability 0\.50000000000 -j KUBE-SEP-[A-Z2-7]{16}$/m);
      assert.match(saved, /^-A KUBE-SVC-[A-Z2-7]{16} -m comment --comment "default\/web -> 10\.244\.2\.2:8080" -j KUBE-SEP-[A-Z2-7]{16}$/m);
      assert.match(saved, /^-A KUBE-SEP-[A-Z2-7]{16} -p tcp -m comment --comment "default\/web" -m tcp -j DNAT --to-destination 10\.244\.2\.2:8080$/m);
      assert.match(saved, /^-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000\/0x4000$/m);
      assert.match(saved, /^-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully$/m);
      const services = saved.split('\n').filter((l) => l.startsWith('-A KUBE-SERVICES'));
      assert.match(services.at(-1) ?? '', /--dst-type LOCAL -j KUBE-NODEPORTS$/);
    }
  });

  test('nslab trace from a pod to the ClusterIP shows kube-proxy\'s DNAT at the pod\'s own node, by its KUBE-SEP rule', () => {
    const bin = fileURLToPath(new URL('../../bin/nslab.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [bin, 'trace', lab, 'pod-a1', '10.96.0.10', '--tcp', '80', '--json'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as { reached: boolean; hops: TraceHop[] };
    assert.equal(out.reached, true);
    const syn = out.hops.filter((h) => h.what === 'SYN');
    const at = syn.findIndex((h) => h.rewrites?.dst !== undefined);
    assert.ok(at > 0, JSON.stringify(syn));
    const hop = syn[at]!;
    // Up to the rewrite the packet is addressed to the ClusterIP; the rewrite is node1's (pod-a1's node). The
    // hop that first shows it is on node1 after PREROUTING: leaving it, or cni0's way in (br_netfilter runs
    // PREROUTING for a bridged packet before the bridge device receives it).
    assert.ok(syn.slice(0, at).every((h) => h.dst === '10.96.0.10' && h.dport === 80), JSON.stringify(syn.slice(0, at)));
    assert.equal(hop.node, 'node1', JSON.stringify(syn));
    assert.ok(hop.direction === 'out' || hop.interface === 'cni0', JSON.stringify(hop));
    const pod = hop.dst === '10.244.1.3' ? 'pod-a2' : 'pod-b1';
    assert.deepEqual(hop.rewrites, { dst: ['10.96.0.10', pod === 'pod-a2' ? '10.244.1.3' : '10.244.2.2'], dport: [80, 8080] });
    // The rule that did it: the KUBE-SEP chain of the chosen pod, matched on node1's way in from pod-a1.
    const entry = syn[at - 1]!;
    assert.deepEqual({ node: entry.node, interface: entry.interface, direction: entry.direction }, { node: 'node1', interface: 'veth-a1', direction: 'in' });
    assert.ok(entry.rules.some((v) => /^-A KUBE-SVC-[A-Z2-7]{16} .*-j KUBE-SEP-/.test(v.rule)), JSON.stringify(entry.rules));
    assert.ok(entry.rules.some((v) => v.chain.startsWith('KUBE-SEP-') && v.rule.endsWith(`-j DNAT --to-destination ${hop.dst}:8080`)), JSON.stringify(entry.rules));
    // After it, the pod address all the way to the chosen pod; the answer comes back from the ClusterIP.
    assert.ok(syn.slice(at).every((h) => h.dst === hop.dst && h.dport === 8080));
    assert.equal(syn.at(-1)?.node, pod);
    const answer = out.hops.filter((h) => h.what === 'SYN-ACK').at(-1);
    assert.deepEqual(answer && { node: answer.node, src: answer.src, sport: answer.sport }, { node: 'pod-a1', src: '10.96.0.10', sport: 80 });
  });

  test('export keeps the service; parsing it plans nothing', async () => {
    const observed = (await observeLab(lab)).topology;
    const file = toFile(observed, (await readMeta(lab)) ?? {});
    assert.deepEqual(file.services, { web: { clusterIP: '10.96.0.10', port: 80, targetPort: 8080, nodePort: 30080, pods: ['pod-a2', 'pod-b1'] } });
    const parsed = await parseWithKernel(file);
    assert.ok(parsed.ok);
    assert.equal((await applyTopology(parsed.topology, { meta: parsed.meta, dryRun: true })).ops.length, 0);
  });
});
