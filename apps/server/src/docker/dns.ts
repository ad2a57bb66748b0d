/**
 * Docker's embedded DNS for a lab: one dnsmasq per container on a user-defined
 * network, inside the container's namespace, answering at 127.0.0.11:53 (the
 * expansion DNATs the container's DNS queries there) with the names of the
 * containers it shares a user-defined network with, as Docker resolves them. On the
 * default bridge nothing answers, as in Docker.
 *
 * Each resolver reads a hosts directory (/run/nslab/labs/<lab>.d/dns/<container>/),
 * which dnsmasq watches (--hostsdir): a container joining or leaving is a file
 * rewrite, not a restart. The processes are recorded with the container processes
 * (processes.ts, keys "dns:NAME"), so destroy ends them.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerLayer } from '@nslab/model';
import { EMBEDDED_DNS, GWBRIDGE, netnsName } from '@nslab/model';
import { endContainerProcess, isRunning, labDir, recordedKeys, startContainerProcess } from './processes';

/** The hosts lines a container's resolver answers with: every container sharing one of its user-defined networks, by name. */
export function hostsFor(layer: ContainerLayer, container: string): string[] {
  const own = layer.containers[container];
  const nets = new Set((own?.endpoints ?? []).map((e) => e.network).filter((n) => n !== 'bridge' && n !== GWBRIDGE));
  const lines: string[] = [];
  for (const [name, c] of Object.entries(layer.containers)) {
    for (const e of c.endpoints) if (nets.has(e.network) && e.address) lines.push(`${e.address.split('/')[0]} ${name}`);
    // A container in container mode answers at the shared container's addresses, under its own name too.
    if (c.mode === 'container' && c.shares) {
      for (const e of layer.containers[c.shares]?.endpoints ?? []) if (nets.has(e.network) && e.address) lines.push(`${e.address.split('/')[0]} ${name}`);
    }
  }
  return lines;
}

/** Starts, updates and ends the lab's resolvers to match its container layer. */
export async function syncDns(lab: string, layer: ContainerLayer | undefined): Promise<void> {
  const wanted = new Map<string, string>();
  for (const [name, c] of Object.entries(layer?.containers ?? {})) if (c.dns && c.node === name) wanted.set(name, c.node);
  for (const key of await recordedKeys(lab)) {
    if (key.startsWith('dns:') && !wanted.has(key.slice(4))) {
      await endContainerProcess(lab, key);
      await rm(join(labDir(lab), 'dns', key.slice(4)), { recursive: true, force: true });
    }
  }
  for (const [name, node] of wanted) {
    const dir = join(labDir(lab), 'dns', name);
    await mkdir(dir, { recursive: true });
    const hosts = `${hostsFor(layer as ContainerLayer, name).join('\n')}\n`;
    // Written whole and renamed into place, so dnsmasq never reads half a file.
    await writeFile(join(dir, '.hosts.tmp'), hosts);
    await rename(join(dir, '.hosts.tmp'), join(dir, 'hosts'));
    if (await isRunning(lab, `dns:${name}`)) continue;
    await startContainerProcess(lab, `dns:${name}`, netnsName(lab, node), [
      'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--bind-interfaces',
      `--listen-address=${EMBEDDED_DNS}`, '--port=53', `--hostsdir=${dir}`, `--pid-file=${join(dir, 'pid')}`, '--user=root', '--log-facility=-',
    ]);
  }
}
