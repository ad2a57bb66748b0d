/** Captures: tcpdump per namespace decoded into packet events, rate limiting per client, .pcap export, and ping traces. */
export { NetnsCapture, CaptureError, STOP_GRACE_MS, START_TIMEOUT_MS, BUFFERED_HOLD_MS } from './capture';
export type { CaptureEvent, CaptureEnd, CaptureEndReason, CaptureOptions } from './capture';
export { PacketRing, RING_MAX_PACKETS, RING_MAX_BYTES } from './ring';
export type { CaptureFormat, ExportFilter, RingEntry } from './ring';
export { PacketRateLimiter, startTicking, DEFAULT_EVENT_RATE, DEFAULT_AGGREGATE_INTERVAL_MS } from './limiter';
export type { LimitedEvent, AggregateCount, LimiterOptions } from './limiter';
export { pingTrace, parseDestination, explainFailure, kernelFacts, PingTraceError, PING_WAIT_SECONDS } from './ping-trace';
export type { PingTraceRequest, TraceNamespace, KernelFacts, Destination } from './ping-trace';
export { CAPTURE_SNAPLEN, IMMEDIATE_SNAPLEN, tcpdumpArgv } from './argv';
export { traceInLab } from './lab-trace';
export type { LabTraceRequest } from './lab-trace';
export { readConntrack, parseConntrackLine } from './conntrack';
