/**
 * The kernel's naming rules, checked before any name reaches a command line,
 * and the mapping from lab names to kernel namespace names.
 */

/** Lab and node names: lower-case letters, digits and '-', 1-24 characters, not starting with '-'. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,23}$/;

/** The kernel's limit on an interface name: IFNAMSIZ (16) less the terminating NUL. */
export const IFNAME_MAX_BYTES = 15;

/** Prefix of every kernel namespace name nslab creates: `nslab.<lab>.<node>`. */
export const NETNS_PREFIX = 'nslab.';

/**
 * Names JavaScript gives a meaning on every plain object (`__proto__` is the prototype
 * itself; `constructor` is `Object`): a user-chosen name that is one of these would
 * read or write the object's machinery instead of an entry, so they are refused as
 * node, interface, network and container names alike.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

/** Why a user-chosen name is reserved by JavaScript, or undefined when it is not. */
export function reservedNameProblem(name: string, what: string): string | undefined {
  return RESERVED_NAMES.has(name) ? `${what} name "${name}" is reserved (it names part of every JavaScript object): pick another name` : undefined;
}

/** The entry of a record under a user-chosen key, never one inherited from Object.prototype. */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Sets an entry of a record as an own property, even under a name like `__proto__` (which plain assignment would turn into a prototype change). */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Why a lab or node name is unusable, or undefined when it is fine. */
export function nameProblem(name: string, what: 'lab' | 'node'): string | undefined {
  const reserved = reservedNameProblem(name, what);
  if (reserved) return reserved;
  if (name.length === 0) return `the ${what} name is empty: use 1-24 of a-z, 0-9 and '-'`;
  if (name.includes('..')) return `${what} name "${name}" contains "..": use only a-z, 0-9 and '-'`;
  if (name.length > 24) return `${what} name "${name}" is ${name.length} characters long: use at most 24`;
  if (name.startsWith('-')) return `${what} name "${name}" starts with '-': start it with a letter or digit`;
  if (!NAME_PATTERN.test(name)) return `${what} name "${name}" has characters other than a-z, 0-9 and '-': rename it, e.g. "${suggestName(name)}"`;
  return undefined;
}

function suggestName(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').slice(0, 24);
  return s.length > 0 ? s : 'ns1';
}

/**
 * Words `ip` reads as keywords where a device name may stand (`ip link set up up` does
 * not name a device called "up"): the kernel would take them, the commands would not.
 */
const IP_KEYWORDS = new Set([
  'up', 'down', 'dev', 'name', 'master', 'nomaster', 'type', 'peer', 'netns', 'alias', 'mtu', 'address',
  'broadcast', 'brd', 'txqueuelen', 'qlen', 'link', 'index', 'group', 'vrf', 'help', 'all', 'any', 'default',
  'via', 'src', 'metric', 'table', 'scope', 'proto', 'label', 'local', 'remote', 'dstport', 'id', 'nexthop',
]);

/** Why an interface name is unusable by the kernel (or by nslab), or undefined. */
export function ifnameProblem(name: string): string | undefined {
  const bytes = utf8Length(name);
  if (name.length === 0) return 'the interface name is empty';
  const reserved = reservedNameProblem(name, 'interface');
  if (reserved) return reserved;
  if (bytes > IFNAME_MAX_BYTES) return `interface name "${name}" is ${bytes} bytes long: the kernel allows at most ${IFNAME_MAX_BYTES}`;
  if (name.includes('/')) return `interface name "${name}" contains '/', which the kernel refuses`;
  if (/\s/.test(name)) return `interface name "${name}" contains whitespace, which the kernel refuses`;
  if (name.includes(':')) return `interface name "${name}" contains ':', which the kernel reserves for alias labels`;
  if (name === '.' || name === '..') return `interface name "${name}" is not allowed by the kernel`;
  if (name.startsWith('-')) return `interface name "${name}" starts with '-': start it with a letter or digit`;
  if (!/^[A-Za-z0-9_.@-]+$/.test(name)) return `interface name "${name}" has characters other than letters, digits, '_', '.', '@' and '-'`;
  if (IP_KEYWORDS.has(name)) return `interface name "${name}" is a word ip reads as a keyword (ip link set ${name} up would not name it): pick another name`;
  return undefined;
}

function utf8Length(text: string): number {
  let n = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

/** The kernel namespace name of a node: unique across labs because '.' is not allowed in names. */
export function netnsName(lab: string, node: string): string {
  return `${NETNS_PREFIX}${lab}.${node}`;
}

/** Splits a kernel namespace name made by `netnsName`; undefined for names nslab did not make. */
export function parseNetnsName(name: string): { lab: string; node: string } | undefined {
  if (!name.startsWith(NETNS_PREFIX)) return undefined;
  const rest = name.slice(NETNS_PREFIX.length).split('.');
  if (rest.length !== 2) return undefined;
  const [lab, node] = rest as [string, string];
  if (!NAME_PATTERN.test(lab) || !NAME_PATTERN.test(node)) return undefined;
  return { lab, node };
}

/**
 * The ownership marker nslab writes as the alias of each namespace's `lo`:
 * the kernel itself then records which lab a namespace belongs to.
 */
export function ownerMarker(lab: string, node: string): string {
  return `nslab:v1:${lab}:${node}`;
}

/** Reads an ownership marker; undefined when the alias is not one. */
export function parseOwnerMarker(alias: string | undefined): { lab: string; node: string } | undefined {
  if (!alias) return undefined;
  const m = /^nslab:v1:([a-z0-9][a-z0-9-]{0,23}):([a-z0-9][a-z0-9-]{0,23})$/.exec(alias);
  return m ? { lab: m[1] ?? '', node: m[2] ?? '' } : undefined;
}
