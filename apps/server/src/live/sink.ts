/** What the kernel's change feeds report, shared by the watch process and the fallback monitors. */

/** What the monitors report: a namespace (by kernel name) changed, or the set of namespaces did. */
export interface MonitorSink {
  changed(netns: string): void;
  namespacesChanged(): void;
}

/** A monitor process that died is started again after this long: events must keep flowing. */
export const RESTART_MS = 500;
