import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { AckCounter, inputFrames, terminalUrl } from './client';
import { parseTerminalServerMessage } from '@nslab/model';
import { closeReason, describeExit } from './protocol';
import { commandNode } from './terminals';
import { readStored, storedTabs } from './store';

test('acks are due every 5,000 processed bytes, and say how many', () => {
  const acks = new AckCounter();
  assert.equal(acks.processed(3000), 0);
  assert.equal(acks.processed(2500), 5500);
  assert.equal(acks.processed(10), 0);
  acks.reset();
  assert.equal(acks.processed(4999), 0);
});

test('input is cut into frames at character boundaries', () => {
  const text = 'é'.repeat(10); // 2 bytes each
  const frames = inputFrames(text, 5);
  assert.deepEqual(frames.map((f) => f.length), [4, 4, 4, 4, 4]);
  assert.equal(new TextDecoder().decode(Buffer.concat(frames)), text);
  assert.equal(inputFrames('ls\r').length, 1);
});

test('server control messages are checked before use', () => {
  assert.deepEqual(parseTerminalServerMessage('{"type":"ready","v":1,"id":"a","lab":"l","node":"ns1","cols":80,"rows":24,"replayBytes":10}'),
    { type: 'ready', v: 1, id: 'a', lab: 'l', node: 'ns1', cols: 80, rows: 24, replayBytes: 10 });
  assert.deepEqual(parseTerminalServerMessage('{"type":"exit","code":null,"signal":"SIGHUP","reason":"namespace ns1 of lab x no longer exists"}'),
    { type: 'exit', code: null, signal: 'SIGHUP', reason: 'namespace ns1 of lab x no longer exists' });
  assert.equal(parseTerminalServerMessage('{"type":"ready","v":1}'), undefined);
  assert.equal(parseTerminalServerMessage('{"type":"exit","code":"0"}'), undefined);
  assert.equal(parseTerminalServerMessage('nope'), undefined);
  assert.equal(parseTerminalServerMessage('{"type":"other"}'), undefined);
});

test('exits and closes read as sentences', () => {
  assert.equal(describeExit({ code: 0, signal: null, reason: null }), 'the shell exited');
  assert.equal(describeExit({ code: 2, signal: null, reason: null }), 'the shell exited with status 2');
  assert.equal(describeExit({ code: null, signal: 'SIGKILL', reason: 'namespace ns1 of lab x no longer exists' }), 'namespace ns1 of lab x no longer exists');
  assert.match(closeReason(4404, ''), /no longer exists/);
  assert.equal(terminalUrl('abc', { protocol: 'https:', host: 'h:1' }), 'wss://h:1/ws/term/abc');
});

test("a guide command runs in the node `ip netns exec` names, else in the lab's host", () => {
  const nodes = ['host', 'ns1', 'web'];
  assert.equal(commandNode('ip netns exec ns1 ping -c 2 192.168.1.3', nodes), 'ns1');
  assert.equal(commandNode('ip netns exec nope ip a', nodes), 'host');
  assert.equal(commandNode('bridge link', ['b', 'a']), 'a');
  assert.equal(commandNode('ls', []), undefined);
});

test('only running terminals are remembered for a reload, and stored ids are checked', () => {
  const tabs = [
    { id: 'a', lab: 'l', node: 'ns1', status: 'live' as const },
    { id: 'b', lab: 'l', node: 'ns2', status: 'exited' as const },
  ];
  assert.deepEqual(storedTabs(tabs), [{ id: 'a', node: 'ns1' }]);
  assert.deepEqual(readStored([{ id: 'a', node: 'ns1' }, { id: '../x', node: 'n' }, 3, { id: 'b' }]), [{ id: 'a', node: 'ns1' }]);
  assert.deepEqual(readStored('nope'), []);
});
