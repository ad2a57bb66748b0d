/** Docker's embedded DNS as a container sees it: the address it asks and the rules that send its queries there. */
import type { NatRule } from '../nat';

/** Where Docker's embedded DNS answers inside a container (libnetwork's resolver address). */
export const EMBEDDED_DNS = '127.0.0.11';

/**
 * The container's DNS queries, to whatever server /etc/resolv.conf names, go to the
 * embedded DNS. Docker points resolv.conf at 127.0.0.11 and DNATs that to its
 * listener; a lab shares the machine's resolv.conf, so the DNAT takes every query instead.
 */
export function embeddedDnsRules(): NatRule[] {
  return (['udp', 'tcp'] as const).map((proto) => ({ type: 'other', table: 'nat', chain: 'OUTPUT', args: ['-p', proto, '-m', proto, '--dport', '53', '-j', 'DNAT', '--to-destination', `${EMBEDDED_DNS}:53`] }));
}
