/**
 * The watch on /run/netns: namespaces coming and going. One fs.watch on the directory;
 * before the first `ip netns add` the directory does not exist, and it is looked for
 * again once a second until it does.
 */
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { NETNS_DIR } from '../kernel/observe';

/** How often a missing /run/netns is looked for again (it appears once, with the first `ip netns add`). */
const DIR_POLL_MS = 1000;

/** Calls `changed` whenever an entry of /run/netns comes or goes (and once when the directory appears). */
export class NetnsDirWatch {
  private watcher?: FSWatcher;
  private poll?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly changed: () => void) {}

  /** Starts watching; a second call does nothing. */
  start(): void {
    if (this.watcher || this.poll || this.closed) return;
    try {
      this.watcher = watch(NETNS_DIR, () => this.changed());
    } catch {
      // /run/netns does not exist until the first `ip netns add`: poll for it rarely.
      this.poll = setInterval(() => {
        if (this.closed) return this.stopPolling();
        try {
          this.watcher = watch(NETNS_DIR, () => this.changed());
          this.stopPolling();
          this.changed();
        } catch { /* not yet */ }
      }, DIR_POLL_MS);
    }
  }

  /** Stops watching for good. */
  close(): void {
    this.closed = true;
    this.stopPolling();
    this.watcher?.close();
  }

  private stopPolling(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
  }
}
