import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Utf8Framer, completeUtf8Length, nextUtf8Boundary, splitUtf8 } from './utf8';

const text = 'aé€😀z'; // 1, 2, 3, 4 and 1 bytes

describe('utf8 boundaries', () => {
  it('holds back only an incomplete trailing sequence', () => {
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const prefix = bytes.subarray(0, cut);
      const n = completeUtf8Length(prefix);
      assert.ok(cut - n <= 3);
      assert.equal(Buffer.from(prefix.subarray(0, n).toString('utf8')).equals(prefix.subarray(0, n)), true, `cut ${cut}`);
    }
    assert.equal(completeUtf8Length(Buffer.from([0xff, 0xfe])), 2, 'invalid bytes are not held back');
  });

  it('the framer re-joins characters split across chunks', () => {
    const bytes = Buffer.from(text.repeat(50));
    for (const size of [1, 2, 3, 5, 7]) {
      const framer = new Utf8Framer();
      const out: string[] = [];
      for (let i = 0; i < bytes.length; i += size) {
        const piece = framer.push(bytes.subarray(i, i + size));
        out.push(new TextDecoder('utf-8', { fatal: true }).decode(piece)); // each piece is valid on its own
      }
      out.push(framer.flush().toString('utf8'));
      assert.equal(out.join(''), text.repeat(50));
    }
  });

  it('splitUtf8 cuts only at boundaries and keeps every byte', () => {
    const bytes = Buffer.from(text.repeat(100));
    const parts = splitUtf8(bytes, 7);
    assert.ok(parts.every((p) => p.length <= 7));
    for (const p of parts) new TextDecoder('utf-8', { fatal: true }).decode(p);
    assert.ok(Buffer.concat(parts).equals(bytes));
  });

  it('nextUtf8Boundary skips continuation bytes', () => {
    const bytes = Buffer.from('€x');
    assert.equal(nextUtf8Boundary(bytes, 1), 3);
    assert.equal(nextUtf8Boundary(bytes, 0), 0);
  });
});
