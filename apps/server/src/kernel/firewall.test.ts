// iptables itself checks a file's raw rules before anything runs, in a namespace made for the check
// (unshare --net): a rule it refuses is a problem at its path; no lab namespace is made. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTopology } from '@nslab/model';
import { checkFirewall } from './firewall';
import { netnsList } from '../../test-kit/lab';

test('iptables-restore --test refuses a bad raw rule at its path, accepts good ones, and touches no namespace', async () => {
  const parsed = parseTopology([
    'name: le-fwcheck',
    'nodes:',
    '  ns1:',
    '    firewall: ["-t filter -A INPUT -p icmp -j DROP", "-t nat -A PREROUTING -d 10.96.0.10/32 -p tcp --dport 80 -j DNAT --to-destination 10.244.2.2:80"]',
    '  ns2:',
    '    firewall: ["-A INPUT -p icmp -j DROP", "-A INPUT -p bogus -j DROP"]',
    '',
  ].join('\n'));
  assert.ok(parsed.ok, JSON.stringify(parsed));
  const problems = await checkFirewall(parsed.topology);
  assert.deepEqual(problems.map((p) => p.path), ['nodes.ns2.firewall[1]']);
  assert.match(problems[0]?.message ?? '', /unknown protocol "bogus"/);
  // Other engineers' labs come and go meanwhile: only this lab's names are looked for.
  assert.deepEqual(netnsList().filter((n) => n.includes('le-fwcheck')), []);
});
