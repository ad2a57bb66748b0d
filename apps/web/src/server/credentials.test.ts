import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { authHeaders, takeToken } from './credentials';

/** A page address and a storage, as takeToken sees them. */
function place(search: string, hash = '') {
  const stored = new Map<string, string>();
  let url: string | undefined;
  return {
    stored,
    url: () => url,
    place: {
      location: { search, pathname: '/', hash },
      storage: { getItem: (k: string) => stored.get(k) ?? null, setItem: (k: string, v: string) => { stored.set(k, v); } },
      replaceUrl: (u: string) => { url = u; },
    },
  };
}

test('a live-view link\'s ?view= token is taken like ?token=, kept in the tab and removed from the address', () => {
  const token = 'a'.repeat(8) + '0123456789abcdef'.repeat(3);
  const p = place(`?view=${token}`, '#lab=web');
  assert.equal(takeToken(p.place), token);
  assert.equal(p.url(), '/#lab=web', 'the address no longer shows the token');
  assert.equal(p.stored.get('nslab.token'), token);
  assert.deepEqual(authHeaders(), { authorization: `Bearer ${token}` });
});

test('a malformed ?view= is no token and still leaves the address', () => {
  const p = place('?view=short&x=1');
  takeToken(p.place);
  assert.equal(p.url(), '/?x=1');
  assert.equal(p.stored.size, 0);
});
