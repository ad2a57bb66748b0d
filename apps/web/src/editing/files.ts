/**
 * Files in and out: the lab as YAML or as a bash script (made here by the model,
 * from what the kernel has), and topology files the user opens or drops.
 */
import { exportScript, toYaml } from '@nslab/model';
import { proposeFile } from './submit';
import { useLab } from '../state/lab';
import { useOps } from './store';

/** Saves `data` (text or a data: URL) as a download named `name`. */
export function saveAs(name: string, data: string | Blob, mime = 'text/plain'): void {
  const url = typeof data === 'string' && data.startsWith('data:') ? data : URL.createObjectURL(data instanceof Blob ? data : new Blob([data], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  if (url.startsWith('blob:')) setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function current() {
  const { lab, topology, meta } = useLab.getState();
  if (!lab || !topology || Object.keys(topology.nodes).length === 0) {
    useOps.getState().setProblems([{ field: 'lab', message: 'This lab has no namespaces yet, so there is nothing to download. Add one from the palette first.' }]);
    return undefined;
  }
  return { lab, topology, meta };
}

/** Downloads the open lab as a topology file (YAML). */
export function downloadYaml(): void {
  const c = current();
  if (c) saveAs(`${c.lab}.yaml`, toYaml(c.topology, c.meta), 'application/yaml');
}

/** Downloads the open lab as a bash script of plain ip and iptables commands. */
export function downloadScript(): void {
  const c = current();
  if (!c) return;
  try {
    saveAs(`${c.lab}.sh`, exportScript(c.topology), 'text/x-shellscript');
  } catch (err) {
    useOps.getState().setProblems([{ field: 'lab', message: err instanceof Error ? err.message : String(err) }]);
  }
}

/** Reads a topology file the user picked or dropped, and proposes it (the lab it names opens, its plan shows). */
export async function openTopologyFile(file: File): Promise<void> {
  if (file.size > 1024 * 1024) {
    useOps.getState().setProblems([{ field: 'lab', message: `${file.name} is ${Math.round(file.size / 1024)} KiB: a topology file is at most 1 MiB` }]);
    return;
  }
  proposeFile(await file.text(), file.name);
}
