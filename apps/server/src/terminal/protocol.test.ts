import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_COLS, MAX_ROWS, clampTerminalSize, parseTerminalClientMessage } from '@nslab/model';
import { parseClientFrame } from './protocol';

describe('terminal protocol', () => {
  it('accepts the three control messages', () => {
    assert.deepEqual(parseTerminalClientMessage('{"type":"hello","v":1}'), { type: 'hello', v: 1 });
    assert.deepEqual(parseTerminalClientMessage('{"type":"resize","cols":120,"rows":40}'), { type: 'resize', cols: 120, rows: 40 });
    assert.deepEqual(parseTerminalClientMessage('{"type":"ack","bytes":5000}'), { type: 'ack', bytes: 5000 });
  });

  it('clamps sizes instead of refusing them', () => {
    assert.deepEqual(parseTerminalClientMessage('{"type":"resize","cols":100000,"rows":-3}'), { type: 'resize', cols: MAX_COLS, rows: 1 });
    assert.deepEqual(clampTerminalSize(80.7, 1e9), { cols: 80, rows: MAX_ROWS });
  });

  it('refuses malformed messages with a sentence', () => {
    for (const bad of ['', 'null', '[]', '{"type":"ack","bytes":-1}', '{"type":"ack","bytes":1.5}', '{"type":"resize","cols":"80","rows":24}',
      '{"type":"hello"}', '{"type":"exec","cmd":"rm -rf /"}', '{"type":"resize","cols":1e400,"rows":1}', 'x'.repeat(2000)]) {
      const result = parseTerminalClientMessage(bad);
      assert.equal(typeof result, 'string', bad.slice(0, 40));
    }
  });

  it('treats binary frames as input and text frames as control', () => {
    assert.deepEqual(parseClientFrame(Buffer.from('ls\r'), true), { kind: 'input', bytes: Buffer.from('ls\r') });
    assert.deepEqual(parseClientFrame([Buffer.from('{"type":"ack",'), Buffer.from('"bytes":3}')], false), { kind: 'message', message: { type: 'ack', bytes: 3 } });
    assert.equal(parseClientFrame(Buffer.from('ls'), false).kind, 'invalid');
  });
});
