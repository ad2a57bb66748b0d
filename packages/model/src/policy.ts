/**
 * Chain policies: the verdict of a built-in iptables chain for a packet no rule decided
 * (`iptables -P FORWARD DROP`). A node's `policies:` map names them as "TABLE/CHAIN"
 * ("filter/FORWARD": DROP); `iptables-save` prints them as ":FORWARD DROP [0:0]" lines,
 * which is where they are read back from.
 */
import { BUILTIN_CHAINS } from './firewall';

/** The verdicts a built-in chain's policy can be (iptables(8), "-P": "only built-in chains can have policies", ACCEPT or DROP). */
export type ChainPolicy = 'ACCEPT' | 'DROP';

/** The tables whose built-in chains' policies nslab reads and sets (security is for SELinux labels, left alone). */
export const POLICY_TABLES: ReadonlySet<string> = new Set(['filter', 'nat', 'mangle', 'raw']);

/** "filter/FORWARD": how a policy is named in the file and the model. */
export function policyKey(table: string, chain: string): string {
  return `${table}/${chain}`;
}

/** The table and chain a policy key names, or a sentence saying what is wrong with it. */
export function parsePolicyKey(key: string): { table: string; chain: string } | string {
  const at = key.indexOf('/');
  if (at < 0) return `"${key}" names no table: write TABLE/CHAIN, e.g. filter/FORWARD`;
  const table = key.slice(0, at);
  const chain = key.slice(at + 1);
  if (!POLICY_TABLES.has(table)) return `"${table}" is not a table nslab sets policies in: use filter, nat, mangle or raw (e.g. filter/FORWARD)`;
  const builtin = BUILTIN_CHAINS.get(table);
  if (!builtin?.has(chain)) {
    return `"${chain}" is not a built-in chain of the ${table} table, and only built-in chains have a policy: use one of ${[...(builtin ?? [])].join(', ')}; a chain of your own ends by returning to the chain that jumped to it`;
  }
  return { table, chain };
}

/** Why `value` cannot be the policy at `key` (already a valid key), or undefined when it can. */
export function policyValueProblem(key: string, value: string): string | undefined {
  const upper = value.toUpperCase();
  if (upper !== 'ACCEPT' && upper !== 'DROP') {
    const target = upper === 'REJECT' || upper === 'RETURN' || upper === 'LOG';
    return `a chain's policy is ACCEPT or DROP, not "${value}"${target ? `: ${upper} is a target of a rule; set the policy to DROP, or add a rule "-A ${key.slice(key.indexOf('/') + 1)} -j ${upper}" at the chain's end under firewall:` : ''}`;
  }
  // iptables-nft: "The "nat" table is not intended for filtering, the use of DROP is therefore inhibited."
  if (key.startsWith('nat/') && upper === 'DROP') return 'the nat table does not filter: iptables refuses a DROP policy there; set it in filter (e.g. filter/FORWARD) instead';
  return undefined;
}

/**
 * The policies of `iptables-save` output: every built-in chain of the four tables above,
 * as a null-prototype object by "TABLE/CHAIN". User chains print "-" there and are skipped.
 */
export function parseIptablesPolicies(text: string): Record<string, ChainPolicy> {
  const out = Object.create(null) as Record<string, ChainPolicy>;
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) { table = line.slice(1); continue; }
    if (!line.startsWith(':') || !POLICY_TABLES.has(table)) continue;
    const [chain = '', policy = ''] = line.slice(1).split(/\s+/);
    if ((policy === 'ACCEPT' || policy === 'DROP') && BUILTIN_CHAINS.get(table)?.has(chain)) out[policyKey(table, chain)] = policy;
  }
  return out;
}

/** The policies that differ from a fresh namespace's (every chain ACCEPT), sorted by key: what export writes and the inspector shows. */
export function changedPolicies(policies: Record<string, ChainPolicy> | undefined): [string, ChainPolicy][] {
  return Object.entries(policies ?? {}).filter(([, v]) => v !== 'ACCEPT').sort(([a], [b]) => a.localeCompare(b));
}

/** "FORWARD policy DROP" (with its table when it is not filter): one line for people. */
export function describePolicy(key: string, policy: ChainPolicy): string {
  const at = key.indexOf('/');
  const table = key.slice(0, at);
  const chain = key.slice(at + 1);
  return `${chain} policy ${policy}${table === 'filter' ? '' : ` (${table} table)`}`;
}
