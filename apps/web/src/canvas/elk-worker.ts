/**
 * The page's ELK runs in a Web Worker: the worker script ships as an asset of the
 * build, and layouts are messages to it, so the main thread keeps drawing.
 */
import ELK from 'elkjs/lib/elk-api.js';
import type { ELK as ElkApi } from 'elkjs/lib/elk-api';
import workerUrl from 'elkjs/lib/elk-worker.min.js?url';

/** An ELK whose layouts run in a worker. */
export function elkInWorker(): Promise<ElkApi> {
  return Promise.resolve(new ELK({ workerUrl }));
}
