/**
 * A trace asked for by name: a lab, a node of it, a destination and what to send.
 * The one place that turns a lab into the namespaces a trace captures in, used by
 * the socket hub and the command line alike.
 */
import type { PingTraceResult, TraceProto } from '@nslab/model';
import { netnsName } from '@nslab/model';
import { pingTrace } from './ping-trace';

/** What a client or the command line asks to trace. */
export interface LabTraceRequest {
  lab: string;
  /** Every node of the lab (each is captured). */
  nodes: readonly string[];
  source: string;
  destination: string;
  proto?: TraceProto;
  port?: number;
  waitSeconds?: number;
}

/** Runs one trace in a lab. Throws PingTraceError for a request that cannot run (bad destination, unknown node, missing port). */
export function traceInLab(request: LabTraceRequest): Promise<PingTraceResult> {
  return pingTrace({
    namespaces: request.nodes.map((node) => ({ node, netns: netnsName(request.lab, node) })),
    source: request.source,
    destination: request.destination,
    ...(request.proto !== undefined ? { proto: request.proto } : {}),
    ...(request.port !== undefined ? { port: request.port } : {}),
    ...(request.waitSeconds !== undefined ? { waitSeconds: request.waitSeconds } : {}),
  });
}
