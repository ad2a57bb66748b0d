/** The wire shapes of a ping trace: the hops of one echo across a lab, and the verdict. */
import type { PacketDirection } from './sll';

/** Addresses changed between two consecutive hops of the same echo: [before, after]. */
export interface Rewrite {
  src?: [string, string];
  dst?: [string, string];
}

/** One sighting of the traced echo. */
export interface PingHop {
  node: string;
  interface: string;
  direction: PacketDirection | null;
  /** Seconds since the epoch (float). */
  time: number;
  type: 'request' | 'reply';
  /** The echo's own IP addresses here (inside VXLAN, the inner ones). */
  src: string;
  dst: string;
  /** Set when NAT changed an address since the previous hop of the same type. */
  rewritten?: Rewrite;
  /** Set when the echo was seen inside VXLAN here: the VNI and the outer addresses. */
  encapsulation?: { vni: number; src: string; dst: string };
}

/** The echo a trace follows. */
export interface TracedEcho {
  id: number;
  seq: number;
  family: 4 | 6;
}

/** What ping itself printed. */
export interface PingOutput {
  stdout: string;
  stderr: string;
  code: number;
}

/** The trace of one echo. */
export interface PingTraceResult {
  /** True when the reply came back to the source. */
  ok: boolean;
  source: string;
  destination: string;
  /** The echo followed (read off the wire), or null when the source sent none. */
  echo: TracedEcho | null;
  /** Every sighting of the echo request and reply, in time order. */
  hops: PingHop[];
  /** The last hop, for a failed ping: where the packet was last seen. */
  lastSeen: PingHop | null;
  /** Why the ping failed, in words; null when it worked. */
  cause: string | null;
  /** Packets the captures' kernels dropped ("packets dropped by kernel"): when not 0, hops may be missing. */
  dropped: number;
  ping: PingOutput;
}
