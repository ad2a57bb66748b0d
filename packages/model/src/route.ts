/**
 * Routes, written in `ip route` syntax ("default via 192.168.1.254",
 * "10.0.2.0/24 via 10.0.1.1 dev eth0 metric 100") and parsed into data.
 */
import { canonicalIp, parseCidr, parseIp, parsePrefix, formatCidr, isNetworkAddress, networkOf } from './address';
import { ifnameProblem } from './names';

/** A unicast route in the main table. */
export interface Route {
  /** "default" or a network prefix in canonical CIDR form. */
  dst: string;
  gateway?: string;
  dev?: string;
  metric?: number;
  /** Preferred source address. */
  src?: string;
}

/** Result of parsing a route: the route, or a sentence saying what is wrong. */
export type RouteParse = { ok: true; route: Route } | { ok: false; message: string };

const KEYWORDS = new Set(['via', 'dev', 'metric', 'src']);

/** Parses one route in `ip route` syntax. */
export function parseRoute(text: string): RouteParse {
  const words = text.trim().split(/\s+/).filter((w) => w.length > 0);
  const fail = (message: string): RouteParse => ({ ok: false, message: `route "${text}": ${message}` });
  if (words.length === 0) return fail('empty: write e.g. "default via 192.168.1.254" or "10.0.2.0/24 dev eth0"');
  let dst = words[0] ?? '';
  if (dst === 'default' || dst === '0.0.0.0/0') {
    dst = 'default';
  } else {
    const cidr = parsePrefix(dst);
    if (!cidr) return fail(`"${dst}" is not a destination: write "default" or a prefix like 10.0.2.0/24`);
    if (!isNetworkAddress(cidr)) return fail(`"${dst}" has host bits set: the network is ${formatCidr(networkOf(cidr))}`);
    dst = formatCidr(cidr);
  }
  const route: Route = { dst };
  for (let i = 1; i < words.length; i += 2) {
    const key = words[i] ?? '';
    const value = words[i + 1];
    if (!KEYWORDS.has(key)) return fail(`unknown word "${key}": nslab understands via, dev, metric and src`);
    if (value === undefined) return fail(`"${key}" needs a value`);
    switch (key) {
      case 'via': {
        const gw = canonicalIp(value);
        if (!gw) return fail(`gateway "${value}" is not an IP address`);
        route.gateway = gw;
        break;
      }
      case 'src': {
        const src = canonicalIp(value);
        if (!src) return fail(`source "${value}" is not an IP address`);
        route.src = src;
        break;
      }
      case 'dev': {
        const problem = ifnameProblem(value);
        if (problem) return fail(problem);
        route.dev = value;
        break;
      }
      case 'metric': {
        if (!/^[0-9]{1,10}$/.test(value) || Number(value) > 0xffffffff) return fail(`metric "${value}" is not a number from 0 to 4294967295`);
        route.metric = Number(value);
        break;
      }
    }
  }
  if (!route.gateway && !route.dev) return fail('it needs a gateway ("via ADDR") or a device ("dev IFACE")');
  return { ok: true, route };
}

/** The route in `ip route` syntax, the inverse of `parseRoute`. */
export function formatRoute(route: Route): string {
  const parts = [route.dst];
  if (route.gateway) parts.push('via', route.gateway);
  if (route.dev) parts.push('dev', route.dev);
  if (route.metric !== undefined && route.metric !== 0) parts.push('metric', String(route.metric));
  if (route.src) parts.push('src', route.src);
  return parts.join(' ');
}

/** The address family of a route. */
export function routeFamily(route: Route): 4 | 6 {
  if (route.dst !== 'default') return parseCidr(route.dst)?.family ?? 4;
  return route.gateway && parseIp(route.gateway)?.family === 6 ? 6 : 4;
}

/**
 * The kernel identifies a route in a table by destination and metric: two routes
 * with the same key cannot both exist, so this is what `plan` compares.
 */
export function routeKey(route: Route): string {
  return `${routeFamily(route)} ${route.dst} ${route.metric ?? 0}`;
}

/**
 * True when an observed route satisfies a desired one: same destination and metric,
 * same gateway, and the same device and source where the desired route names them
 * (the kernel fills in the device the user left out).
 */
export function routeSatisfies(observed: Route, desired: Route): boolean {
  return routeKey(observed) === routeKey(desired)
    && (observed.gateway ?? '') === (desired.gateway ?? '')
    && (desired.dev === undefined || observed.dev === desired.dev)
    && (desired.src === undefined || observed.src === desired.src);
}
