/**
 * `nslab exec LAB NODE -- CMD`: a command run in the same kind of lab view as the lab's terminals
 * (labview.ts), so that `ip netns list` shows the lab's nodes under their own names, `ip netns exec
 * ns1 ...` works, and `ip netns add|delete NAME` makes or deletes a node of the lab (shell-bin/ip
 * and control.ts) instead of a namespace in the machine's own /run/netns. The view and its control
 * socket live as long as the command.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netnsName } from '@nslab/model';
import { controlHandler, LabControl, type LabHands } from './control';
import { TerminalError, terminalMessages } from './errors';
import { LabView } from './labview';
import { labNodes } from '../kernel/observe';
import { SHELL_BIN } from './shell';
import { start } from '../kernel/runner';

/** Runs `command` in `node` of `lab` with the terminal's stdio; resolves with its exit status (128+n for a signal). */
export async function execInLab(lab: string, node: string, command: readonly string[], hands: LabHands): Promise<number> {
  const nodes = async () => new Map((await labNodes(lab)).map((n) => [n, netnsName(lab, n)] as const));
  const dir = mkdtempSync(join(tmpdir(), 'nslab-exec-'));
  let view: LabView | undefined;
  let control: LabControl | undefined;
  try {
    const made = await LabView.create(lab);
    view = made;
    const failure = (await made.sync(await nodes())).get(node);
    if (failure) throw failure;
    if (!made.nodes().includes(node)) throw new TerminalError('no-namespace', terminalMessages.noNamespace(lab, node), { lab, node });
    control = await LabControl.listen(join(dir, 'control.sock'), controlHandler(lab, hands, () => Promise.resolve(made), nodes));
    const argv = ['nsenter', `--mount=${made.mountNamespace}`, `--wd=${process.cwd()}`, '--', 'ip', 'netns', 'exec', node, ...command];
    const env = { ...process.env, PATH: `${SHELL_BIN}:${process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`, NSLAB_CONTROL: control.path, NSLAB_LAB: lab, NSLAB_NODE: node, NSLAB_HOST_MNT: `/proc/${process.pid}/ns/mnt` };
    // Ctrl-C reaches the command (same process group); this process stays to take the view down.
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    try {
      return await new Promise<number>((resolve) => {
        const { child } = start(argv, { stdin: 'inherit', stdout: 'inherit', stderr: 'inherit', env });
        child.on('error', (e) => {
          console.error(`nslab: ${e.message}`);
          resolve(127);
        });
        child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : 1)));
      });
    } finally {
      process.off('SIGINT', ignore);
    }
  } finally {
    await control?.close();
    await view?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };
  return numbers[signal] ?? 0;
}
