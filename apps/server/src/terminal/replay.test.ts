import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayBuffer } from './replay';

describe('ReplayBuffer', () => {
  it('keeps the most recent bytes, cut at a character boundary', () => {
    const replay = new ReplayBuffer(10);
    replay.push(Buffer.from('ab'));
    replay.push(Buffer.from('€€€€')); // 14 bytes: keeping 10 would start inside the second '€'
    assert.equal(replay.size, 9);
    assert.equal(replay.contents().toString('utf8'), '€€€');
  });

  it('stays bounded under many small pushes', () => {
    const replay = new ReplayBuffer(1000);
    for (let i = 0; i < 100_000; i++) replay.push(Buffer.from('x'));
    assert.equal(replay.size, 1000);
    assert.equal(replay.contents().length, 1000);
  });

  it('drops whole large chunks', () => {
    const replay = new ReplayBuffer(100_000);
    for (let i = 0; i < 10; i++) replay.push(Buffer.alloc(65_536, 97 + i));
    assert.equal(replay.size, 100_000);
    assert.equal(replay.contents().at(-1), 97 + 9);
  });
});
