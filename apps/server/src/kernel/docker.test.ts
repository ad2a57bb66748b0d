/**
 * Docker's firewall on the real kernel, as Docker Engine 24/25 with iptables lays it
 * out: iptables-save of the docker-modes example compared line by line; published
 * ports catch only traffic for the host's own addresses; user-defined networks are
 * isolated from each other both ways; an internal network reaches nothing outside.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { netnsName } from '@nslab/model';
import { applyTopology, parseWithKernel } from './lab';
import { cleanup, curlUntil, EXAMPLES, inNode, pings, uniqueLab } from '../../test-kit/lab';

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

/** A web server in a node whose page says `page`, ended after the tests. */
function serve(lab: string, node: string, page: string): void {
  const script = `import http.server as h\nclass H(h.BaseHTTPRequestHandler):\n def do_GET(s):\n  s.send_response(200); s.end_headers(); s.wfile.write(b${JSON.stringify(page)})\n def log_message(s, *a): pass\nh.HTTPServer(('', 80), H).serve_forever()\n`;
  servers.push(spawn('ip', ['netns', 'exec', netnsName(lab, node), 'python3', '-c', script], { stdio: 'ignore' }));
}

/** Rule and chain lines of iptables-save (no comments, counters or COMMIT), table by table. */
function saved(lab: string, node: string): string[] {
  const text = execFileSync('ip', ['netns', 'exec', netnsName(lab, node), 'iptables-save'], { encoding: 'utf8' });
  return text.split('\n').filter((l) => /^(\*|:|-A )/.test(l)).map((l) => l.replace(/ \[\d+:\d+\]$/, ''));
}

/**
 * The docker-modes example (docker0 created first, then the internal network
 * "backend"; web publishes 8080:80) as a Docker 24/25 host's `iptables-save` shows
 * it, FORWARD's DROP policy included (Docker sets it when it turns on forwarding).
 */
const DOCKER_MODES = `*nat
:PREROUTING ACCEPT
:INPUT ACCEPT
:OUTPUT ACCEPT
:POSTROUTING ACCEPT
:DOCKER -
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
*filter
:INPUT ACCEPT
:FORWARD DROP
:OUTPUT ACCEPT
:DOCKER -
:DOCKER-ISOLATION-STAGE-1 -
:DOCKER-ISOLATION-STAGE-2 -
:DOCKER-USER -
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -i br-backend -o br-backend -j ACCEPT
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 ! -s 10.10.0.0/24 -o br-backend -j DROP
-A DOCKER-ISOLATION-STAGE-1 ! -d 10.10.0.0/24 -i br-backend -j DROP
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN`;

describe('Docker 24/25 iptables layout', () => {
  test('iptables-save of the docker-modes host reads like a Docker host, line by line; a re-apply runs nothing', async () => {
    const lab = uniqueLab('dk-modes');
    made.push(lab);
    const text = readFileSync(`${EXAMPLES}docker-modes.yaml`, 'utf8').replace(/^name: .*$/m, `name: ${lab}`);
    assert.ok((await applyText(text)) > 0);
    const have = saved(lab, 'host');
    const want = DOCKER_MODES.split('\n');
    // Tables may come in either order: compare each table's lines in order.
    const table = (lines: string[], name: string) => {
      const start = lines.indexOf(`*${name}`);
      const end = lines.findIndex((l, i) => i > start && l.startsWith('*'));
      return lines.slice(start, end < 0 ? undefined : end);
    };
    for (const name of ['nat', 'filter']) {
      const h = table(have, name);
      const w = table(want, name);
      for (let i = 0; i < Math.max(h.length, w.length); i += 1) assert.equal(h[i], w[i], `${name} table, line ${i + 1}`);
    }
    // Under FORWARD DROP, Docker's own ACCEPT rules still let a container out.
    assert.ok(pings(lab, 'web', '203.0.113.1'), 'web pings the internet through the host');
    assert.equal(await applyText(text), 0);
  });

  test('publish 80:80 takes only traffic for the host\'s own addresses: the host and a container still reach another machine\'s port 80', async () => {
    const lab = uniqueLab('dk-local');
    made.push(lab);
    await applyText(`name: ${lab}
nodes:
  host:
    interfaces:
      uplink: { addresses: [203.0.113.2/24] }
  outside:
    interfaces:
      eth0: { addresses: [203.0.113.1/24] }
links:
  - [outside:eth0, host:uplink]
networks:
  bridge: { subnet: 172.17.0.0/16 }
containers:
  web: { publish: ["80:80"] }
  client: {}
`);
    serve(lab, 'web', 'the container');
    serve(lab, 'outside', 'another machine');
    // The outside reaches the container through the host's address.
    assert.equal(await curlUntil(lab, 'outside', 'http://203.0.113.2/', 'the container'), 'the container');
    // The host and a container asking another machine's port 80 get that machine, not the container.
    assert.equal(await curlUntil(lab, 'host', 'http://203.0.113.1/', 'another machine'), 'another machine');
    assert.equal(await curlUntil(lab, 'client', 'http://203.0.113.1/', 'another machine'), 'another machine');
    // (A container asking the host's address is not DNATed: `-i docker0 -j RETURN`. On a Docker host
    // docker-proxy answers it from the host's port; nslab runs no docker-proxy.)
  });

  test('user-defined networks are isolated both ways; an internal network reaches nothing outside and is not reached', async () => {
    const lab = uniqueLab('dk-iso');
    made.push(lab);
    await applyText(`name: ${lab}
nodes:
  host:
    interfaces:
      uplink: { addresses: [203.0.113.2/24] }
  outside:
    interfaces:
      eth0: { addresses: [203.0.113.1/24] }
    routes: [ "10.30.0.0/24 via 203.0.113.2", "10.20.0.0/24 via 203.0.113.2" ]
links:
  - [outside:eth0, host:uplink]
networks:
  a: { subnet: 10.10.0.0/24 }
  b: { subnet: 10.20.0.0/24 }
  sealed: { subnet: 10.30.0.0/24, internal: true }
containers:
  a1: { networks: [a] }
  a2: { networks: [a] }
  b1: { networks: [b] }
  s1: { networks: [sealed] }
  s2: { networks: [sealed] }
`);
    // Same network: reachable. Across networks: dropped in DOCKER-ISOLATION-STAGE-2, either way.
    assert.ok(pings(lab, 'a1', '10.10.0.3'));
    assert.ok(!pings(lab, 'a1', '10.20.0.2'));
    assert.ok(!pings(lab, 'b1', '10.10.0.2'));
    // Both still reach the outside through MASQUERADE.
    assert.ok(pings(lab, 'a1', '203.0.113.1'));
    assert.ok(pings(lab, 'b1', '203.0.113.1'));
    // Internal: its containers reach each other and nothing else; nothing else reaches them.
    assert.ok(pings(lab, 's1', '10.30.0.3'));
    assert.ok(!pings(lab, 's1', '203.0.113.1'));
    assert.ok(!pings(lab, 's1', '10.10.0.2'));
    assert.ok(!pings(lab, 'a1', '10.30.0.2'));
    assert.ok(!pings(lab, 'outside', '10.30.0.2'));
    // The counters prove which rules dropped: STAGE-2 for a<->b, STAGE-1's internal drops for sealed.
    const counted = inNode(lab, 'host', ['iptables', '-v', '-n', '-x', '-L', 'DOCKER-ISOLATION-STAGE-2']).out;
    assert.match(counted, /^\s*[1-9]\d*\s+\d+\s+DROP\s.*br-b\s/m);
    assert.match(counted, /^\s*[1-9]\d*\s+\d+\s+DROP\s.*br-a\s/m);
  });
});
