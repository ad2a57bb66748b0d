/**
 * IPAM: addresses for the containers of one network, as Docker's default IPAM hands
 * them out: the gateway takes the first host address, containers get the next ones
 * in order, an address is never given twice, and one whose container is gone is free
 * again. Addresses a container already has (read from the kernel) are kept.
 */
import type { Cidr, IpValue } from '../address';
import { contains, formatIp, nthAddress, parseIp, prefixSize } from '../address';

/** An allocator over one subnet. */
export class Ipam {
  private readonly used = new Set<bigint>();

  constructor(readonly subnet: Cidr) {
    // The network address is never a host; in IPv4 neither is the broadcast address.
    this.used.add(subnet.value);
    if (subnet.family === 4) this.used.add(subnet.value + prefixSize(subnet) - 1n);
  }

  /** Takes a specific address (the gateway, or one a container already has); false when taken or outside. */
  claim(ip: IpValue): boolean {
    if (!contains(this.subnet, ip) || this.used.has(ip.value)) return false;
    this.used.add(ip.value);
    return true;
  }

  /** The lowest free address, taken; undefined when the subnet is full. */
  next(): IpValue | undefined {
    const size = prefixSize(this.subnet);
    for (let i = 1n; i < size; i += 1n) {
      const ip = nthAddress(this.subnet, i);
      if (ip && !this.used.has(ip.value)) {
        this.used.add(ip.value);
        return ip;
      }
    }
    return undefined;
  }

  /** Text form of a claimed address with the subnet's prefix ("172.17.0.2/16"). */
  cidrOf(ip: IpValue): string {
    return `${formatIp(ip)}/${this.subnet.prefix}`;
  }

  /** Claims an address given as text if it is valid and free. */
  claimText(text: string): IpValue | undefined {
    const ip = parseIp(text);
    return ip && this.claim(ip) ? ip : undefined;
  }
}
