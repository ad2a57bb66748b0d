/**
 * Every keyword of the `ip link`, `ip addr` and `ip route` grammars (and the prefixes ip
 * accepts for them) as an interface name, on the real kernel: each is either refused by
 * validation with a sentence, or applied exactly (the device exists under that name, with
 * its address and route, and no stray device appears).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ifnameProblem, netnsName, parseTopologyData } from '@nslab/model';
import { applyTopology } from './lab';
import { cleanup, uniqueLab } from '../../test-kit/lab';

/** Words from ip-link(8), ip-address(8) and ip-route(8), and the abbreviations ip takes for them. */
export const IP_GRAMMAR_WORDS = [
  // ip link
  'add', 'delete', 'del', 'set', 'show', 'list', 'lst', 'help', 'link', 'name', 'dev', 'type', 'index', 'numtxqueues', 'numrxqueues',
  'gso_max_size', 'gso_max_segs', 'gro_max_size', 'txqueuelen', 'txqlen', 'qlen', 'address', 'broadcast', 'brd', 'mtu', 'netns', 'peer',
  'up', 'down', 'arp', 'multicast', 'allmulticast', 'promisc', 'trailers', 'dynamic', 'carrier', 'alias', 'vf', 'master', 'nomaster',
  'vrf', 'addrgenmode', 'link-netns', 'link-netnsid', 'protodown', 'protodown_reason', 'xdp', 'xdpgeneric', 'xdpdrv', 'xdpoffload',
  'off', 'object', 'section', 'verbose', 'group', 'state', 'mode', 'on', 'all', 'any', 'alt', 'altname', 'property', 'nohandle',
  // ip addr
  'local', 'label', 'scope', 'valid_lft', 'preferred_lft', 'home', 'mngtmpaddr', 'nodad', 'optimistic', 'noprefixroute', 'autojoin',
  'metric', 'priority', 'to', 'flush', 'save', 'restore', 'permanent', 'tentative', 'deprecated', 'dadfailed', 'temporary', 'primary', 'secondary',
  // ip route
  'via', 'src', 'table', 'proto', 'protocol', 'realm', 'realms', 'onlink', 'pervasive', 'nexthop', 'weight', 'nhid', 'from', 'tos', 'dsfield',
  'unicast', 'blackhole', 'prohibit', 'unreachable', 'throw', 'nat', 'anycast', 'default', 'advmss', 'rtt', 'rttvar', 'reordering', 'window',
  'cwnd', 'ssthresh', 'initcwnd', 'initrwnd', 'quickack', 'congctl', 'features', 'fastopen_no_cookie', 'expires', 'encap', 'pref', 'ttl-propagate',
  'lock', 'cache', 'match', 'exact', 'root', 'oif', 'iif', 'get', 'append', 'replace', 'change', 'prepend', 'test',
  // prefixes ip matches with matches(): the list and every one-letter word
  'a', 'n', 'm', 'br', 'd', 'l', 's', 't', 'u', 'v', 'p', 'r', 'st', 'mo', 'ar', 'ad', 'na', 'ty', 'pe', 'ne', 'ma', 'mt', 'al',
];

const lab = uniqueLab('hk-kw');
after(() => cleanup(lab));

test(`every one of ${IP_GRAMMAR_WORDS.length} ip grammar words as a device name is refused or applied exactly`, async () => {
  const words = [...new Set(IP_GRAMMAR_WORDS)];
  const accepted = words.filter((w) => ifnameProblem(w) === undefined);
  const refused = words.filter((w) => ifnameProblem(w) !== undefined);
  for (const w of refused) assert.match(ifnameProblem(w) ?? '', /: /, `"${w}" is refused with a sentence`);
  // A bridge per word with its own /30, a route through it, and veth ends with the word as name.
  const interfaces: Record<string, unknown> = {};
  const routes: string[] = [];
  accepted.forEach((w, i) => {
    interfaces[w] = { ...(i < 20 ? {} : { kind: 'bridge' }), addresses: [`10.${100 + (i >> 6)}.${(i & 63) * 4}.1/30`] };
    routes.push(`172.${16 + (i >> 8)}.${i & 255}.0/24 dev ${w}`);
  });
  const links = accepted.slice(0, 20).map((w) => [`x:${w}`, `y:${w}`]);
  const data = { name: lab, nodes: { x: { interfaces, routes }, y: {} }, links };
  const parsed = parseTopologyData(data);
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems.slice(0, 5)));
  await applyTopology(parsed.topology);
  const read = (node: string) => JSON.parse(execFileSync('ip', ['-n', netnsName(lab, node), '-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string; flags: string[] }[];
  // x holds a bridge per word (the first 20 became veth ends instead: a link end is a veth), lo, and nothing else.
  const x = read('x');
  assert.deepEqual(x.map((l) => l.ifname).sort(), ['lo', ...accepted].sort());
  assert.deepEqual(read('y').map((l) => l.ifname).sort(), ['lo', ...accepted.slice(0, 20)].sort());
  for (const l of x) if (l.ifname !== 'lo') assert.ok(l.flags.includes('UP'), `${l.ifname} is up`);
  const routeDevs = (JSON.parse(execFileSync('ip', ['-n', netnsName(lab, 'x'), '-j', 'route', 'show', 'proto', 'boot'], { encoding: 'utf8' })) as { dev: string }[]).map((r) => r.dev);
  assert.deepEqual(routeDevs.sort(), [...accepted].sort());
  assert.equal((await applyTopology(parsed.topology)).ran, 0, 'a re-apply converges');
  console.log(`${words.length} words: ${accepted.length} applied exactly, ${refused.length} refused (${refused.join(' ')})`);
});
