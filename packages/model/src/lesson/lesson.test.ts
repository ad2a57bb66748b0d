/** Lesson files: a broken one is refused with every problem at its path; parameters are substituted everywhere. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseParams, instantiate, parseLesson } from './lesson';
import { splitCommand } from './command';

const GOOD = `
id: tiny
title: { en: Tiny, zh: 小 }
summary: { en: A tiny lesson, zh: 一个小课程 }
params:
  net: { default: "10.9.0", choices: ["10.9.0", "10.9.1"] }
start:
  nodes:
    ns1: { interfaces: { eth0: { addresses: ["{{net}}.1/24"] } } }
    ns2: { interfaces: { eth0: { addresses: ["{{net}}.2/24"] } } }
  links: [[ns1:eth0, ns2:eth0]]
steps:
  - id: ping
    title: { en: Ping, zh: ping }
    text: { en: "Ping {{net}}.2", zh: "ping {{net}}.2" }
    checks:
      - { id: reach, kind: reach, from: ns1, to: "{{net}}.2", text: { en: ok, zh: 好 } }
`;

test('a valid lesson parses, and a learner gets their own values everywhere', () => {
  const parsed = parseLesson(GOOD);
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
  const chosen = chooseParams(parsed.lesson, { overrides: new Map([['net', '10.9.1']]) });
  assert.ok(chosen.ok);
  const mine = instantiate(parsed.lesson, chosen.values);
  assert.equal(mine.steps[0]?.text.en, 'Ping 10.9.1.2');
  assert.deepEqual((mine.start as { nodes: { ns1: { interfaces: { eth0: { addresses: string[] } } } } }).nodes.ns1.interfaces.eth0.addresses, ['10.9.1.1/24']);
  const refused = chooseParams(parsed.lesson, { overrides: new Map([['net', '1.2.3']]) });
  assert.equal(refused.ok, false);
});

test('a lesson that breaks the schema is refused with the path of every problem', () => {
  const bad = GOOD
    .replace('title: { en: Ping, zh: ping }', 'title: { en: Ping }\n    colour: red')
    .replace('kind: reach, from: ns1', 'kind: reach, from: ns1, via: ns2');
  const parsed = parseLesson(bad);
  assert.equal(parsed.ok, false);
  const paths = !parsed.ok ? parsed.problems.map((p) => p.path).sort() : [];
  assert.deepEqual(paths, ['steps[0]', 'steps[0].checks[0]', 'steps[0].title.zh']);
  assert.match(!parsed.ok ? parsed.problems.find((p) => p.path === 'steps[0]')?.message ?? '' : '', /unknown key "colour"/);
});

test('meaning is checked too: unknown placeholders, duplicate ids, a start topology with problems, shell syntax, bad addresses', () => {
  const bad = GOOD
    .replace('text: { en: "Ping {{net}}.2"', 'text: { en: "Ping {{nett}}.2"')
    .replace('"{{net}}.2/24"', '"{{net}}.300/24"');
  const first = parseLesson(bad);
  assert.equal(first.ok, false);
  assert.deepEqual(!first.ok ? first.problems.map((p) => p.path) : [], ['steps[0].text.en']);
  const second = parseLesson(GOOD
    .replace('"{{net}}.2/24"', '"{{net}}.300/24"')
    .replace('to: "{{net}}.2"', 'to: "nowhere"')
    .replace("    checks:\n", "    solution:\n      - { node: ns1, run: \"ip route | grep x\" }\n    checks:\n"));
  assert.equal(second.ok, false);
  const paths = !second.ok ? second.problems.map((p) => p.path).sort() : [];
  assert.ok(paths.some((p) => p.startsWith('start.nodes.ns2.interfaces.eth0')), paths.join());
  assert.ok(paths.includes('steps[0].checks[0].to'), paths.join());
  assert.ok(paths.includes('steps[0].solution[0].run'), paths.join());
});

test('commands run without a shell: quotes group words, shell syntax is refused', () => {
  assert.deepEqual(splitCommand(`iptables -t nat -S 'KUBE SERVICES'`), { ok: true, argv: ['iptables', '-t', 'nat', '-S', 'KUBE SERVICES'] });
  assert.equal(splitCommand('ip route; reboot').ok, false);
  assert.equal(splitCommand('echo $HOME').ok, false);
});

test('a tcp check takes one listener or a list, and a number of requests from 1 to 100', () => {
  const tcp = (extra: string) => GOOD.replace('- { id: reach, kind: reach, from: ns1, to: "{{net}}.2",', `- { id: reach, kind: tcp, from: ns1, to: "{{net}}.2:80", ${extra}`);
  assert.ok(parseLesson(tcp('listen: ns2,')).ok);
  const both = parseLesson(tcp('listen: [ns1, ns2], requests: 20,'));
  assert.ok(both.ok, JSON.stringify(!both.ok && both.problems));
  const check = both.lesson.steps[0]?.checks[0];
  assert.deepEqual(check?.kind === 'tcp' ? [check.listen, check.requests] : undefined, [['ns1', 'ns2'], 20]);
  for (const bad of ['listen: [], requests: 2,', 'listen: ns2, requests: 0,', 'listen: ns2, requests: 101,']) {
    const parsed = parseLesson(tcp(bad));
    assert.equal(parsed.ok, false, bad);
    assert.ok(!parsed.ok && parsed.problems.every((p) => p.path.startsWith('steps[0].checks[0]')), JSON.stringify(!parsed.ok && parsed.problems));
  }
});
