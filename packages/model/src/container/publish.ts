/** Published ports (`publish: ["8080:80"]`): parsed, checked for clashes on a host, and collected per host for its DNAT rules. */
import { pathOf } from '../problem';
import { own } from '../names';
import type { PublishedPort } from './docker-rules';
import type { Expansion } from './expansion';
import type { ContainerInfo } from './layer';
import { bridgeName } from './devices';

/** A `publish` entry, HOSTPORT:CONTAINERPORT[/tcp|/udp], or why it is not one. */
export function parsePublish(text: string): { proto: 'tcp' | 'udp'; hostPort: number; port: number } | string {
  const m = /^(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/.exec(text);
  if (!m) return `"${text}" is not HOSTPORT:CONTAINERPORT[/tcp|/udp], e.g. "8080:80"`;
  const hostPort = Number(m[1]);
  const port = Number(m[2]);
  if (hostPort < 1 || hostPort > 65535 || port < 1 || port > 65535) return `ports in "${text}" must be from 1 to 65535`;
  return { proto: (m[3] ?? 'tcp') as 'tcp' | 'udp', hostPort, port };
}

/** The ports published on each host so far, and by which container. */
export class Publications {
  /** "host proto/port" -> the container that published it. */
  private readonly taken = new Map<string, string>();
  /** Per host, its published ports, in file order. */
  readonly byHost = new Map<string, PublishedPort[]>();

  /** Publishes container `name`'s ports (`info.publish`) on its host, to its first bridge endpoint. */
  publish(x: Expansion, name: string, info: ContainerInfo): void {
    const host = info.host;
    info.publish.forEach((text, i) => {
      const ppath = pathOf('containers', name, 'publish', i);
      const parsed = parsePublish(text);
      if (typeof parsed === 'string') { x.fail(ppath, parsed); return; }
      const { proto, hostPort, port } = parsed;
      const first = info.endpoints.find((e) => own(x.layer.networks, e.network)?.driver === 'bridge');
      if (!first?.address) { x.fail(ppath, `${name} has no bridge network to publish from`); return; }
      const key = `${host} ${proto}/${hostPort}`;
      const taken = this.taken.get(key);
      if (taken) { x.fail(ppath, `${host}'s port ${hostPort}/${proto} is already published by ${taken}`); return; }
      this.taken.set(key, name);
      const list = this.byHost.get(host) ?? [];
      list.push({ proto, hostPort, address: first.address.slice(0, first.address.indexOf('/')), port, bridge: bridgeName(first.network) });
      this.byHost.set(host, list);
    });
  }
}
