/**
 * The root namespace's fingerprint: its links, addresses, routes (every table), the IPv4
 * sysctls a lab could plausibly change, and its firewall (iptables-save, nft). nslab must
 * never change any of it (DESIGN.md section 4). Run as a script it prints the fingerprint.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Sysctls under /proc/sys/net/ipv4 that a lab leaking into the root namespace would change. */
const SYSCTLS = ['ip_forward', 'conf/all/forwarding', 'conf/default/forwarding', 'conf/all/rp_filter', 'conf/all/proxy_arp', 'conf/all/send_redirects', 'ip_local_port_range', 'ip_nonlocal_bind'];

function cmd(argv: string[]): string {
  try {
    return execFileSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return `(${argv.join(' ')} failed)`;
  }
}

/** The fingerprint as text: one section per source, the same across runs when nothing changed. */
export function fingerprint(): string {
  const links = (JSON.parse(cmd(['ip', '-j', 'link', 'show'])) as { ifname: string; flags: string[]; mtu: number; master?: string; address?: string }[])
    .map((l) => `${l.ifname} ${[...l.flags].filter((f) => f !== 'LOWER_UP').sort().join(',')} mtu ${l.mtu} master ${l.master ?? '-'} ${l.address ?? ''}`);
  const addrs = cmd(['ip', '-o', 'addr', 'show']).split('\n').map((l) => l.replace(/\s+valid_lft.*$/, '')).filter(Boolean);
  const routes = cmd(['ip', 'route', 'show', 'table', 'all']).split('\n').filter(Boolean);
  const routes6 = cmd(['ip', '-6', 'route', 'show', 'table', 'all']).split('\n').filter(Boolean).map((l) => l.replace(/ expires \S+/, ''));
  const sysctls = SYSCTLS.map((k) => `${k} = ${readFileSync(`/proc/sys/net/ipv4/${k}`, 'utf8').trim()}`);
  // Comments (a timestamp) and counters change on their own: only the rules are compared.
  const iptables = cmd(['iptables-save']).split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/, ''));
  const nft = cmd(['nft', 'list', 'ruleset']).split('\n').map((l) => l.replace(/counter packets \d+ bytes \d+/, 'counter'));
  const sections: [string, string[]][] = [['links', links], ['addresses', addrs], ['routes', routes], ['routes6', routes6], ['sysctls', sysctls], ['iptables', iptables], ['nft', nft]];
  return sections.map(([name, lines]) => `== ${name}\n${lines.join('\n')}`).join('\n');
}

if (process.argv[1]?.endsWith('fingerprint.ts')) process.stdout.write(fingerprint());
