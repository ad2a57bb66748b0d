import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdits } from './edit';
import { parseTopology, parseTopologyData } from './file';
import { ifnameProblem, nameProblem } from './names';
import type { RawTopology } from './schema';

const base: RawTopology = { name: 'e', nodes: { ns1: {} } };

/** Object.prototype and Object must come out of every case untouched. */
function assertPristine(): void {
  assert.equal(({} as Record<string, unknown>)['forwarding'], undefined, 'Object.prototype gained "forwarding"');
  assert.equal((Object as unknown as Record<string, unknown>)['forwarding'], undefined, 'Object gained "forwarding"');
}

for (const node of ['__proto__', 'constructor', 'prototype', 'hasOwnProperty']) {
  test(`forwarding.set on node "${node}" is refused with a sentence and pollutes nothing`, () => {
    const r = applyEdits(base, [{ kind: 'forwarding.set', node, value: true }]);
    assertPristine();
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.problems[0]?.message ?? '', /reserved.*pick another name/);
  });
}

test('node.add and interface.add with reserved names are refused; the edited file is unchanged', () => {
  for (const edit of [
    { kind: 'node.add', node: 'constructor' },
    { kind: 'interface.add', node: 'ns1', name: '__proto__', interface: { kind: 'bridge' } },
    { kind: 'link.add', a: { node: 'ns1', interface: 'constructor' }, b: { node: 'ns1', interface: 'x' } },
  ] as const) {
    const r = applyEdits(base, [edit]);
    assert.equal(r.ok, false, JSON.stringify(edit));
  }
  assertPristine();
});

test('a node __proto__ in a file is refused, not silently dropped (YAML and JSON)', () => {
  for (const r of [
    parseTopology('name: x\nnodes:\n  __proto__: { forwarding: true }\n  a: {}\n'),
    parseTopologyData(JSON.parse('{"name":"x","nodes":{"__proto__":{"forwarding":true},"a":{}}}')),
  ]) {
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.problems.map((p) => p.path), ['nodes.__proto__']);
  }
  assertPristine();
});

test('node constructor and interface __proto__ in a file are refused with a sentence', () => {
  const r = parseTopology('name: x\nnodes:\n  constructor: {}\n  a:\n    interfaces:\n      __proto__: { kind: bridge }\n');
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.ok(r.problems.some((p) => p.path === 'nodes.constructor' && /reserved/.test(p.message)), JSON.stringify(r.problems));
    assert.ok(r.problems.some((p) => p.path === 'nodes.a.interfaces.__proto__'), JSON.stringify(r.problems));
  }
});

test('a container host __proto__ (or constructor) is refused with a sentence, not a TypeError', () => {
  for (const host of ['__proto__', 'constructor']) {
    const r = parseTopology(`name: x\nnetworks:\n  bridge: { subnet: 172.17.0.0/16 }\ncontainers:\n  web: { host: ${host} }\n`);
    assert.equal(r.ok, false);
    if (!r.ok) assert.ok(r.problems.some((p) => p.path === 'containers.web.host' && /reserved/.test(p.message)), JSON.stringify(r.problems));
  }
  assertPristine();
});

test('a container joining network "constructor" that is not defined is told so', () => {
  const r = parseTopology('name: x\nnetworks:\n  bridge: { subnet: 172.17.0.0/16 }\ncontainers:\n  web: { networks: [constructor] }\n');
  assert.equal(r.ok, false);
  if (!r.ok) assert.ok(r.problems.some((p) => /network "constructor" is not defined/.test(p.message)), JSON.stringify(r.problems));
});

test('reserved names fail the name checks themselves', () => {
  assert.match(nameProblem('constructor', 'node') ?? '', /reserved/);
  assert.match(ifnameProblem('__proto__') ?? '', /reserved/);
  assert.equal(nameProblem('ctor', 'node'), undefined);
});
