/**
 * Decodes the kernel's rtnetlink dumps (as nslab-nsread passes them through) into the
 * shapes `ip -j -d` prints for the same dumps, so that iproute.ts maps both readers
 * into the model with one piece of code. Layouts and numbers are the kernel's uapi
 * headers: linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h,
 * linux/netconf.h; names of protocols, scopes and types are iproute2's rt_names.
 */
import { ipv4Text, ipv6Text, macText } from '@nslab/model';
import type { IpAddrInfo, IpLink, IpNetconf, IpRoute } from './iproute';

// linux/rtnetlink.h message types.
const RTM_NEWLINK = 16;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;
const RTM_NEWNETCONF = 80;

/** sizeof(struct nlmsghdr). */
const NLMSG_HDRLEN = 16;

/** The main routing table (RT_TABLE_MAIN), the one `ip route show` lists. */
export const RT_TABLE_MAIN = 254;

const AF_INET = 2;
const AF_INET6 = 10;

/** netlink (and nslab-nsread's framing) is in host byte order; the reader does not assume which. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LITTLE = HOST_LITTLE_ENDIAN;

/** One decoder for every name: making one per call cost more than the decoding. */
export const UTF8 = new TextDecoder();

/** One attribute: its type (without the nested/byte-order bits) and its payload. */
interface Attr { type: number; data: Uint8Array; view: DataView }

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** The attributes packed in `b` (struct rtattr / nlattr: u16 length, u16 type, payload, padding). */
export function attributes(b: Uint8Array): Map<number, Attr> {
  const out = new Map<number, Attr>();
  const v = view(b);
  let at = 0;
  while (at + 4 <= b.length) {
    const len = v.getUint16(at, LITTLE);
    const type = v.getUint16(at + 2, LITTLE) & 0x3fff;
    if (len < 4 || at + len > b.length) break;
    const data = b.subarray(at + 4, at + len);
    if (!out.has(type)) out.set(type, { type, data, view: view(data) });
    at += align4(len);
  }
  return out;
}

/** The messages of a dump: type and body (after the netlink header). */
export function messages(b: Uint8Array): { type: number; body: Uint8Array }[] {
  const out: { type: number; body: Uint8Array }[] = [];
  const v = view(b);
  let at = 0;
  while (at + NLMSG_HDRLEN <= b.length) {
    const len = v.getUint32(at, LITTLE);
    if (len < NLMSG_HDRLEN || at + len > b.length) break;
    out.push({ type: v.getUint16(at + 4, LITTLE), body: b.subarray(at + NLMSG_HDRLEN, at + len) });
    at += align4(len);
  }
  return out;
}

function str(a: Attr | undefined): string | undefined {
  if (!a) return undefined;
  const end = a.data.indexOf(0);
  return UTF8.decode(end < 0 ? a.data : a.data.subarray(0, end));
}

function u32(a: Attr | undefined): number | undefined {
  return a && a.data.length >= 4 ? a.view.getUint32(0, LITTLE) : undefined;
}

function s32(a: Attr | undefined): number | undefined {
  return a && a.data.length >= 4 ? a.view.getInt32(0, LITTLE) : undefined;
}

function ipText(a: Attr | undefined): string | undefined {
  if (!a) return undefined;
  if (a.data.length === 4) return ipv4Text(a.data, 0);
  if (a.data.length === 16) return ipv6Text(a.data, 0);
  return undefined;
}

// linux/if.h device flags, in the order `ip link` prints them.
const IFF_NAMES: [number, string][] = [
  [0x8, 'LOOPBACK'], [0x2, 'BROADCAST'], [0x10, 'POINTOPOINT'], [0x1000, 'MULTICAST'], [0x80, 'NOARP'],
  [0x200, 'ALLMULTI'], [0x100, 'PROMISC'], [0x400, 'MASTER'], [0x800, 'SLAVE'], [0x1, 'UP'], [0x10000, 'LOWER_UP'],
  [0x20000, 'DORMANT'], [0x40000, 'ECHO'],
];
const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;

/** IF_OPER_* (RFC 2863 operational states), as `ip` names them. */
const OPERSTATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'];

/** ARPHRD_LOOPBACK: lo's hardware type. */
const ARPHRD_LOOPBACK = 772;
/** ARPHRD_* hardware types that nslab meets, as `ip` names them (link_type). */
const LINK_TYPES = new Map<number, string>([[1, 'ether'], [ARPHRD_LOOPBACK, 'loopback'], [768, 'ipip'], [776, 'sit'], [778, 'gre'], [65534, 'none']]);

// linux/if_link.h attribute numbers.
const IFLA = { ADDRESS: 1, IFNAME: 3, MTU: 4, LINK: 5, MASTER: 10, OPERSTATE: 16, LINKINFO: 18, IFALIAS: 20, LINK_NETNSID: 37 } as const;
const IFLA_INFO = { KIND: 1, DATA: 2 } as const;
const IFLA_VXLAN = { ID: 1, GROUP: 2, LINK: 3, LOCAL: 4, PORT: 15, GROUP6: 16, LOCAL6: 17 } as const;

function isMulticast(ip: string): boolean {
  return ip.includes(':') ? ip.toLowerCase().startsWith('ff') : Number(ip.split('.')[0]) >= 224 && Number(ip.split('.')[0]) <= 239;
}

/** info_data of a vxlan device, with `ip -d`'s keys (id, remote or group, local, link, port). */
function vxlanData(data: Uint8Array, names: Map<number, string>): Record<string, unknown> {
  const a = attributes(data);
  const out: Record<string, unknown> = {};
  const id = u32(a.get(IFLA_VXLAN.ID));
  if (id !== undefined) out['id'] = id;
  const group = ipText(a.get(IFLA_VXLAN.GROUP)) ?? ipText(a.get(IFLA_VXLAN.GROUP6));
  if (group && group !== '0.0.0.0' && group !== '::') out[isMulticast(group) ? 'group' : 'remote'] = group;
  const local = ipText(a.get(IFLA_VXLAN.LOCAL)) ?? ipText(a.get(IFLA_VXLAN.LOCAL6));
  if (local && local !== '0.0.0.0' && local !== '::') out['local'] = local;
  const link = u32(a.get(IFLA_VXLAN.LINK));
  if (link) out['link'] = names.get(link) ?? `if${link}`;
  const port = a.get(IFLA_VXLAN.PORT);
  // The port travels in network byte order (be16).
  if (port && port.data.length >= 2) out['port'] = port.view.getUint16(0, false);
  return out;
}

// linux/if_link.h: IFLA_MACVLAN_MODE (u32, one MACVLAN_MODE_* bit), IFLA_IPVLAN_MODE (u16),
// IFLA_VLAN_ID (u16); linux/if_tun.h via if_link.h: IFLA_TUN_TYPE (3: u8, IFF_TUN 1 or IFF_TAP 2).
const MACVLAN_MODES = new Map<number, string>([[1, 'private'], [2, 'vepa'], [4, 'bridge'], [8, 'passthru'], [16, 'source']]);
const IPVLAN_MODES = ['l2', 'l3', 'l3s'];
const TUN_TYPES = new Map<number, string>([[1, 'tun'], [2, 'tap']]);

/** info_data of the device types nslab rebuilds (macvlan, macvtap, ipvlan, vlan, tun), with `ip -d`'s keys for what it reads. */
function deviceData(kind: string, data: Uint8Array): Record<string, unknown> | undefined {
  const a = attributes(data);
  if (kind === 'macvlan' || kind === 'macvtap') {
    const mode = u32(a.get(1));
    return mode === undefined ? {} : { mode: MACVLAN_MODES.get(mode) ?? 'unknown' };
  }
  if (kind === 'ipvlan') {
    const mode = a.get(1);
    return mode && mode.data.length >= 2 ? { mode: IPVLAN_MODES[mode.view.getUint16(0, LITTLE)] ?? 'unknown' } : {};
  }
  if (kind === 'vlan') {
    const id = a.get(1);
    return id && id.data.length >= 2 ? { id: id.view.getUint16(0, LITTLE) } : {};
  }
  if (kind === 'tun') {
    const type = a.get(3);
    return type && type.data.length >= 1 ? { type: TUN_TYPES.get(type.data[0] ?? 0) ?? 'unknown' } : {};
  }
  return undefined;
}

/**
 * The alias (IFLA_IFALIAS) of the loopback device in a link dump. Destroy and the lab
 * list read only this, for every namespace on the machine: it scans for the one
 * attribute instead of decoding the message.
 */
export function loopbackAlias(dump: Uint8Array): string | undefined {
  const v = view(dump);
  for (let at = 0; at + NLMSG_HDRLEN + 16 <= dump.length; ) {
    const len = v.getUint32(at, LITTLE);
    if (len < NLMSG_HDRLEN || at + len > dump.length) break;
    if (v.getUint16(at + 4, LITTLE) === RTM_NEWLINK && v.getUint16(at + NLMSG_HDRLEN + 2, LITTLE) === ARPHRD_LOOPBACK) {
      for (let a = at + NLMSG_HDRLEN + 16; a + 4 <= at + len; ) {
        const alen = v.getUint16(a, LITTLE);
        if (alen < 4 || a + alen > at + len) break;
        if ((v.getUint16(a + 2, LITTLE) & 0x3fff) === IFLA.IFALIAS) {
          const data = dump.subarray(a + 4, a + alen);
          const end = data.indexOf(0);
          return UTF8.decode(end < 0 ? data : data.subarray(0, end));
        }
        a += align4(alen);
      }
      return undefined;
    }
    at += align4(len);
  }
  return undefined;
}

/** Names of the devices in a link dump, by ifindex. */
export function linkNames(dump: Uint8Array): Map<number, string> {
  const names = new Map<number, string>();
  for (const m of messages(dump)) {
    if (m.type !== RTM_NEWLINK || m.body.length < 16) continue;
    const name = str(attributes(m.body.subarray(16)).get(IFLA.IFNAME));
    if (name !== undefined) names.set(view(m.body).getInt32(4, LITTLE), name);
  }
  return names;
}

/**
 * A link dump and an address dump as `ip -j -d addr show` prints them: one entry per
 * device, its addresses in `addr_info`.
 */
export function decodeLinks(linkDump: Uint8Array, addrDump: Uint8Array): IpLink[] {
  const names = linkNames(linkDump);
  const addresses = decodeAddresses(addrDump);
  const links: IpLink[] = [];
  for (const m of messages(linkDump)) {
    if (m.type !== RTM_NEWLINK || m.body.length < 16) continue;
    // struct ifinfomsg: u8 family, u8 pad, u16 type, s32 index, u32 flags, u32 change.
    const h = view(m.body);
    const linkType = h.getUint16(2, LITTLE);
    const ifindex = h.getInt32(4, LITTLE);
    const flags = h.getUint32(8, LITTLE);
    const a = attributes(m.body.subarray(16));
    const ifname = str(a.get(IFLA.IFNAME));
    if (ifname === undefined) continue;
    const link: IpLink = { ifindex, ifname, flags: [] };
    if ((flags & IFF_UP) && !(flags & IFF_RUNNING)) link.flags?.push('NO-CARRIER');
    for (const [bit, name] of IFF_NAMES) if (flags & bit) link.flags?.push(name);
    const mtu = u32(a.get(IFLA.MTU));
    if (mtu !== undefined) link.mtu = mtu;
    const oper = a.get(IFLA.OPERSTATE);
    if (oper && oper.data.length >= 1) link.operstate = OPERSTATES[oper.data[0] ?? 0] ?? 'UNKNOWN';
    link.link_type = LINK_TYPES.get(linkType) ?? String(linkType);
    const address = a.get(IFLA.ADDRESS);
    if (address && address.data.length > 0) link.address = macText(address.data, 0, address.data.length);
    const alias = str(a.get(IFLA.IFALIAS));
    if (alias) link.ifalias = alias;
    const master = u32(a.get(IFLA.MASTER));
    if (master) link.master = names.get(master) ?? `if${master}`;
    const peer = u32(a.get(IFLA.LINK));
    const netnsid = s32(a.get(IFLA.LINK_NETNSID));
    if (peer) {
      // As `ip` prints it: a device in another namespace by index and nsid, one here by name.
      if (netnsid !== undefined) {
        link.link_index = peer;
        link.link_netnsid = netnsid;
      } else {
        link.link = names.get(peer) ?? `if${peer}`;
      }
    }
    const info = a.get(IFLA.LINKINFO);
    if (info) {
      const i = attributes(info.data);
      const kind = str(i.get(IFLA_INFO.KIND));
      link.linkinfo = {};
      if (kind !== undefined) link.linkinfo.info_kind = kind;
      const data = i.get(IFLA_INFO.DATA);
      if (kind === 'vxlan' && data) link.linkinfo.info_data = vxlanData(data.data, names);
      else if (kind !== undefined && data) {
        const d = deviceData(kind, data.data);
        if (d) link.linkinfo.info_data = d;
      }
    }
    link.addr_info = addresses.get(ifindex) ?? [];
    links.push(link);
  }
  return links;
}

/** RT_SCOPE_* as `ip` names them. */
const SCOPES = new Map<number, string>([[0, 'global'], [200, 'site'], [253, 'link'], [254, 'host'], [255, 'nowhere']]);
const IFA = { ADDRESS: 1, LOCAL: 2 } as const;

/** An address dump, by ifindex, in dump order. */
function decodeAddresses(dump: Uint8Array): Map<number, IpAddrInfo[]> {
  const out = new Map<number, IpAddrInfo[]>();
  for (const m of messages(dump)) {
    if (m.type !== RTM_NEWADDR || m.body.length < 8) continue;
    // struct ifaddrmsg: u8 family, u8 prefixlen, u8 flags, u8 scope, u32 index.
    const family = m.body[0];
    if (family !== AF_INET && family !== AF_INET6) continue;
    const h = view(m.body);
    const a = attributes(m.body.subarray(8));
    // IFA_LOCAL is the device's own address; IFA_ADDRESS is the peer's on point-to-point links.
    const local = ipText(a.get(IFA.LOCAL)) ?? ipText(a.get(IFA.ADDRESS));
    if (!local) continue;
    const info: IpAddrInfo = { family: family === AF_INET ? 'inet' : 'inet6', local, prefixlen: m.body[1] ?? 0, scope: SCOPES.get(m.body[3] ?? 0) ?? String(m.body[3]) };
    const index = h.getUint32(4, LITTLE);
    const list = out.get(index) ?? [];
    list.push(info);
    out.set(index, list);
  }
  return out;
}

/** RTPROT_* as iproute2's rt_protos names them. */
const PROTOCOLS = new Map<number, string>([
  [0, 'unspec'], [1, 'redirect'], [2, 'kernel'], [3, 'boot'], [4, 'static'], [8, 'gated'], [9, 'ra'], [10, 'mrt'],
  [11, 'zebra'], [12, 'bird'], [13, 'dnrouted'], [14, 'xorp'], [15, 'ntk'], [16, 'dhcp'], [17, 'mrouted'],
  [18, 'keepalived'], [42, 'babel'], [99, 'openr'], [186, 'bgp'], [187, 'isis'], [188, 'ospf'], [189, 'rip'], [192, 'eigrp'],
]);
/** RTN_* route types. */
const ROUTE_TYPES = ['unspec', 'unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat', 'xresolve'];
const RTA = { DST: 1, OIF: 4, GATEWAY: 5, PRIORITY: 6, PREFSRC: 7, TABLE: 15 } as const;

/** The routes of one table in a route dump, as `ip -j -d route show table T` prints them. */
export function decodeRoutes(dump: Uint8Array, names: Map<number, string>, table = RT_TABLE_MAIN): IpRoute[] {
  const routes: IpRoute[] = [];
  for (const m of messages(dump)) {
    if (m.type !== RTM_NEWROUTE || m.body.length < 12) continue;
    // struct rtmsg: u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags.
    const [family, dstLen, , , rtmTable, protocol, , type] = m.body;
    const a = attributes(m.body.subarray(12));
    if ((u32(a.get(RTA.TABLE)) ?? rtmTable) !== table) continue;
    const bits = family === AF_INET6 ? 128 : 32;
    const dstAddr = ipText(a.get(RTA.DST));
    const dst = !dstAddr && dstLen === 0 ? 'default' : `${dstAddr ?? (family === AF_INET6 ? '::' : '0.0.0.0')}${dstLen === bits ? '' : `/${dstLen}`}`;
    const route: IpRoute = { dst, type: ROUTE_TYPES[type ?? 0] ?? String(type) };
    const gateway = ipText(a.get(RTA.GATEWAY));
    if (gateway) route.gateway = gateway;
    const oif = u32(a.get(RTA.OIF));
    if (oif) route.dev = names.get(oif) ?? `if${oif}`;
    route.protocol = PROTOCOLS.get(protocol ?? 0) ?? String(protocol);
    const metric = u32(a.get(RTA.PRIORITY));
    if (metric !== undefined) route.metric = metric;
    const prefsrc = ipText(a.get(RTA.PREFSRC));
    if (prefsrc) route.prefsrc = prefsrc;
    routes.push(route);
  }
  return routes;
}

const NETCONFA = { IFINDEX: 1, FORWARDING: 2 } as const;
/** NETCONFA_IFINDEX_ALL and _DEFAULT: the `all` and `default` rows of `ip netconf`. */
const NETCONF_ALL = -1;
const NETCONF_DEFAULT = -2;

/** A netconf dump as `ip -j netconf show` prints it (forwarding only). */
export function decodeNetconf(dump: Uint8Array, names: Map<number, string>): IpNetconf[] {
  const out: IpNetconf[] = [];
  for (const m of messages(dump)) {
    if (m.type !== RTM_NEWNETCONF || m.body.length < 4) continue;
    // struct netconfmsg is one byte (the family), padded to four.
    const family = m.body[0] === AF_INET6 ? 'inet6' : 'inet';
    const a = attributes(m.body.subarray(4));
    const index = s32(a.get(NETCONFA.IFINDEX));
    if (index === undefined) continue;
    const iface = index === NETCONF_ALL ? 'all' : index === NETCONF_DEFAULT ? 'default' : names.get(index) ?? `if${index}`;
    const entry: IpNetconf = { family, interface: iface };
    const forwarding = s32(a.get(NETCONFA.FORWARDING));
    if (forwarding !== undefined) entry.forwarding = forwarding !== 0;
    out.push(entry);
  }
  return out;
}
