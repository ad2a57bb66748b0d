/**
 * The container layer on the real kernel: Docker's bridge/host/none modes, an
 * internal network, port publishing, a VXLAN overlay and Kubernetes pod routing,
 * each checked with ping, curl and tcpdump.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { netnsName } from '@nslab/model';
import { applyTopology, parseWithKernel } from './lab';
import { captureWhile, cleanup, curlUntil, EXAMPLES, inNode, pings, uniqueLab } from '../../test-kit/lab';

const made: string[] = [];
after(() => cleanup(...made));

/** The example's text with its lab renamed. */
function exampleText(file: string, lab: string): string {
  return readFileSync(`${EXAMPLES}${file}`, 'utf8').replace(/^name: .*$/m, `name: ${lab}`);
}

async function applyText(text: string): Promise<number> {
  const parsed = await parseWithKernel(text);
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
  return (await applyTopology(parsed.topology, { meta: parsed.meta })).ran;
}

function addrs(lab: string, node: string, dev: string): string[] {
  const out = execFileSync('ip', ['-n', netnsName(lab, node), '-j', 'addr', 'show', 'dev', dev], { encoding: 'utf8' });
  return (JSON.parse(out) as { addr_info: { family: string; local: string; prefixlen: number }[] }[])[0]!.addr_info
    .filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

describe('Docker networks and containers', () => {
  const lab = uniqueLab('dk-docker');
  made.push(lab);
  const text = exampleText('docker-modes.yaml', lab);

  test('bridge, host and none modes; internal network; a re-apply runs nothing', async () => {
    assert.ok((await applyText(text)) > 0);
    assert.equal(await applyText(text), 0);
    // web reaches the internet through MASQUERADE; db, on an internal network only, does not.
    assert.ok(pings(lab, 'web', '203.0.113.1'));
    assert.ok(!pings(lab, 'db', '203.0.113.1'));
    // web and db share the backend network.
    assert.ok(pings(lab, 'web', '10.10.0.3'));
    // none mode: only lo, reaching nothing.
    assert.deepEqual(inNode(lab, 'batch', ['ip', '-br', 'link']).out.trim().split('\n').map((l) => l.split(/\s+/)[0]), ['lo']);
    assert.ok(!pings(lab, 'batch', '172.17.0.1'));
    // host mode: no namespace of its own.
    assert.ok(!execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(netnsName(lab, 'tool')));
    // Addresses came from IPAM: gateway .1 on the bridge, containers in order from .2.
    assert.deepEqual(addrs(lab, 'host', 'docker0'), ['172.17.0.1/16']);
    assert.deepEqual(addrs(lab, 'web', 'eth0'), ['172.17.0.2/16']);
    assert.deepEqual(addrs(lab, 'web', 'eth1'), ['10.10.0.2/24']);
    assert.deepEqual(addrs(lab, 'db', 'eth0'), ['10.10.0.3/24']);
  });

  test('publish 8080:80: curl from the internet reaches the web server, and so does the host itself', async () => {
    const server = spawn('ip', ['netns', 'exec', netnsName(lab, 'web'), 'python3', '-m', 'http.server', '80', '--directory', '/usr/share/doc/curl'], { stdio: 'ignore' });
    try {
      assert.match(await curlUntil(lab, 'internet', 'http://203.0.113.2:8080/', 'Directory listing'), /Directory listing/);
      assert.match(inNode(lab, 'host', ['curl', '-s', '--max-time', '2', 'http://203.0.113.2:8080/']).out, /Directory listing/);
    } finally {
      server.kill('SIGTERM');
    }
  });

  test('removing a container releases its address; the next new container gets it; the others keep theirs', async () => {
    const edited = text.replace('  db: { networks: [backend] }\n', '').replace('  tool: { network_mode: host }\n', '  tool: { network_mode: host }\n  cache: { networks: [backend] }\n');
    assert.ok((await applyText(edited)) > 0);
    assert.ok(!execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(netnsName(lab, 'db')));
    assert.deepEqual(addrs(lab, 'cache', 'eth0'), ['10.10.0.3/24']);
    assert.deepEqual(addrs(lab, 'web', 'eth1'), ['10.10.0.2/24']);
    assert.equal(await applyText(edited), 0);
  });
});

describe('overlay and Kubernetes', () => {
  test('VXLAN overlay: containers on two hosts ping; the underlay carries UDP 4789 with the inner ICMP', async () => {
    const lab = uniqueLab('dk-overlay');
    made.push(lab);
    await applyText(exampleText('overlay.yaml', lab));
    // Only tunnelled ARP and ICMP (inner ethertype at udp[28], inner IPv4 protocol at udp[39]):
    // a lab just made also tunnels its IPv6 and IGMP chatter, which would crowd the echo out.
    const inner = 'udp port 4789 and (udp[28:2] = 0x0806 or (udp[28:2] = 0x0800 and udp[39] = 1))';
    // ARP request and reply, echo request and reply: 4, though a lab this new was seen to
    // show each twice; up to 8 are taken (or 3 s).
    const seen = await captureWhile(lab, 'host1', 8, ['-i', 'eth0', inner], () => {
      assert.ok(pings(lab, 'c1', '10.0.9.3'));
    });
    // ARP for c2 crosses the tunnel first, then the echo.
    assert.match(seen, /VXLAN, flags \[I\] \(0x08\), vni 4096\s+ARP, Request who-has 10\.0\.9\.3/);
    assert.match(seen, /IP 192\.0\.2\.1\.\d+ > 192\.0\.2\.2\.4789: VXLAN, flags \[I\] \(0x08\), vni 4096\s+IP 10\.0\.9\.2 > 10\.0\.9\.3: ICMP echo request/);
  });

  test('an overlay container goes out through docker_gwbridge: masqueraded to its host\'s address, as Docker does', async () => {
    const lab = uniqueLab('dk-ovout');
    made.push(lab);
    // The overlay example, with a machine beyond host1 on host1's uplink.
    const text = exampleText('overlay.yaml', lab)
      .replace('  host1:\n    interfaces:\n', '  host1:\n    interfaces:\n      uplink: { addresses: [198.51.100.1/24] }\n')
      .replace('links:\n', 'links:\n  - [outside:eth0, host1:uplink]\n')
      .replace('nodes:\n', 'nodes:\n  outside:\n    interfaces:\n      eth0: { addresses: [198.51.100.2/24] }\n');
    await applyText(text);
    // c1's way out is its second endpoint, on docker_gwbridge; the overlay is eth0.
    assert.deepEqual(addrs(lab, 'c1', 'eth1'), ['172.18.0.2/16']);
    assert.match(inNode(lab, 'c1', ['ip', 'route', 'show', 'default']).out, /^default via 172\.18\.0\.1 dev eth1/);
    // outside has no route to 172.18.0.0/16: only MASQUERADE to host1's address brings the reply back.
    const seen = await captureWhile(lab, 'outside', 1, ['-i', 'eth0', 'icmp[icmptype] = icmp-echo'], () => {
      assert.ok(pings(lab, 'c1', '198.51.100.2'));
    });
    assert.match(seen, /IP 198\.51\.100\.1 > 198\.51\.100\.2: ICMP echo request/);
    const masq = inNode(lab, 'host1', ['iptables', '-t', 'nat', '-v', '-n', '-x', '-L', 'POSTROUTING']).out;
    assert.match(masq, /^\s*[1-9]\d*\s+\d+\s+MASQUERADE\s+.*!docker_gwbridge\s+172\.18\.0\.0\/16\s/m);
    // And the overlay still joins the two hosts.
    assert.ok(pings(lab, 'c1', '10.0.9.3'));
  });

  test('Kubernetes pod-to-pod: pods on two nodes reach each other by pod address, without NAT', async () => {
    const lab = uniqueLab('dk-k8s');
    made.push(lab);
    await applyText(exampleText('k8s-pods.yaml', lab));
    const seen = await captureWhile(lab, 'node2', 1, ['-i', 'eth0', 'icmp'], () => {
      assert.ok(pings(lab, 'pod-a1', '10.244.2.2'));
    });
    // On the node network the pod addresses themselves travel: no NAT.
    assert.match(seen, /IP 10\.244\.1\.2 > 10\.244\.2\.2: ICMP echo request/);
    assert.ok(pings(lab, 'pod-a2', '10.244.2.2'));
    assert.ok(pings(lab, 'pod-b1', '10.244.1.3'));
  });
});
