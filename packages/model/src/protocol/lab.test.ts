import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseClientMessage } from './lab';

test('client messages are validated, with errors in words', () => {
  assert.ok(parseClientMessage('{"type":"subscribe","lab":"demo"}').ok);
  const cases: [string, RegExp][] = [
    ['not json', /not JSON/],
    ['{"type":"launch"}', /unknown message type "launch": send one of subscribe/],
    ['{"type":"subscribe"}', /invalid subscribe at lab/],
    ['{"type":"subscribe","lab":"demo","x":1}', /invalid subscribe/],
    ['{"type":"edit","lab":"d","edits":[]}', /invalid edit at edits/],
  ];
  for (const [text, re] of cases) {
    const r = parseClientMessage(text);
    assert.ok(!r.ok, text);
    assert.match(r.ok ? '' : r.error, re);
  }
});

test('conntrack follows are validated: a lab and a node, nothing else', () => {
  assert.ok(parseClientMessage('{"type":"conntrack-watch","lab":"demo","node":"host"}').ok);
  assert.ok(parseClientMessage('{"type":"conntrack-unwatch","lab":"demo"}').ok);
  for (const text of ['{"type":"conntrack-watch","lab":"demo"}', '{"type":"conntrack-watch","lab":"demo","node":""}', '{"type":"conntrack-watch","lab":"demo","node":"host","every":1}']) {
    assert.ok(!parseClientMessage(text).ok, text);
  }
});
