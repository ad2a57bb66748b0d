/** Captures: tcpdump per namespace decoded into packet events, rate limiting per client, .pcap export, and ping traces. */
export { NetnsCapture } from './capture';
export { Sighting } from './sighting';
export { Handover } from './handover';
export type { CaptureOptions } from './capture';
export type { CaptureFormat, ExportFilter } from './ring';
export { PacketRateLimiter, startTicking } from './limiter';
export type { LimitedEvent } from './limiter';
export { PingTraceError } from './ping-trace';
export { traceInLab } from './lab-trace';
