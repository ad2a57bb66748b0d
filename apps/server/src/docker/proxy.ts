/**
 * Docker's userland proxy for a lab: one docker-proxy per published port, in the Docker
 * host's namespace, listening on the host's port as Docker's does (libexec/docker-proxy,
 * with Docker's flags). The DNAT rules take what reaches the host from outside; the proxy
 * answers the host's own connections to its loopback (`curl localhost:8080` on the host),
 * which Docker's OUTPUT rule leaves out (! -d 127.0.0.0/8). The processes are recorded with
 * the container processes (processes.ts, keys "proxy:CONTAINER-PROTO-PORT"), so `docker rm -f`
 * and destroy end them.
 */
import { join } from 'node:path';
import type { ContainerLayer } from '@nslab/model';
import { netnsName, parsePublish } from '@nslab/model';
import { SERVER_DIR } from '../paths';
import { endContainerProcess, isRunning, recordedKeys, startContainerProcess } from './processes';

const DOCKER_PROXY = join(SERVER_DIR, 'libexec', 'docker-proxy');

/** One proxy: where it runs and its argv, by its record key. */
export interface Proxy { key: string; host: string; argv: string[] }

/** The proxies a container layer asks for: one per published port of each container on a bridge network. */
export function proxiesFor(layer: ContainerLayer | undefined): Proxy[] {
  const out: Proxy[] = [];
  for (const [name, c] of Object.entries(layer?.containers ?? {})) {
    const endpoint = c.endpoints.find((e) => layer?.networks[e.network]?.driver === 'bridge' && e.address !== undefined);
    if (!endpoint?.address) continue;
    for (const text of c.publish) {
      const p = parsePublish(text);
      if (typeof p === 'string') continue;
      out.push({
        key: `proxy:${name}-${p.proto}-${p.hostPort}`,
        host: c.host,
        argv: [DOCKER_PROXY, '-proto', p.proto, '-host-ip', '0.0.0.0', '-host-port', String(p.hostPort), '-container-ip', endpoint.address.slice(0, endpoint.address.indexOf('/')), '-container-port', String(p.port)],
      });
    }
  }
  return out;
}

/** Starts and ends the lab's proxies to match its container layer. */
export async function syncProxies(lab: string, layer: ContainerLayer | undefined): Promise<void> {
  const wanted = new Map(proxiesFor(layer).map((p) => [p.key, p]));
  for (const key of await recordedKeys(lab)) {
    if (key.startsWith('proxy:') && !wanted.has(key)) await endContainerProcess(lab, key);
  }
  for (const proxy of wanted.values()) {
    if (!(await isRunning(lab, proxy.key))) await startContainerProcess(lab, proxy.key, netnsName(lab, proxy.host), proxy.argv);
  }
}
