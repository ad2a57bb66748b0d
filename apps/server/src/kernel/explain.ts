/**
 * The kernel's terse messages, said in words a learner can act on. One catalogue:
 * every user-facing explanation of a failed command comes from here.
 */
import type { Op } from '@nslab/model';
import { describeOp } from '@nslab/model';

interface Entry { match: RegExp; say: (op: Op | undefined) => string }

const CATALOGUE: Entry[] = [
  { match: /Unknown device type|Operation not supported|not supported/i, say: (op) => `this kernel does not support ${op && op.kind === 'device.add' ? `${op.device.kind} devices` : 'this operation'}` },
  { match: /File exists/, say: (op) => `${op ? describeOp(op) : 'it'}: it already exists (a change made outside nslab? apply again to converge)` },
  { match: /Cannot find device|does not exist/, say: (op) => `${op ? describeOp(op) : 'it'}: the device is not there (deleted from a terminal? apply again)` },
  { match: /Nexthop has invalid gateway|Network is unreachable/, say: () => 'the gateway is not on a connected, up subnet of this namespace' },
  { match: /Cannot open network namespace|No such file or directory/, say: () => 'the namespace is gone (deleted while nslab worked on it?)' },
  { match: /Address already in use|already assigned/, say: () => 'that address is already on another device' },
  { match: /No such process/, say: (op) => `${op ? describeOp(op) : 'it'}: there was nothing to remove (already gone)` },
  { match: /Bad rule|does a matching rule exist/, say: () => 'that firewall rule is not in the table' },
  { match: /Permission denied|Operation not permitted/, say: () => 'nslab needs to run as root to change namespaces' },
];

/** A sentence for a failed op, from the kernel's stderr. */
export function explain(op: Op | undefined, stderr: string): string {
  for (const entry of CATALOGUE) if (entry.match.test(stderr)) return entry.say(op);
  const first = stderr.trim().split('\n')[0] ?? '';
  return first.length > 0 ? first : 'the command failed without a message';
}
