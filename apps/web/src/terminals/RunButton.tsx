/**
 * The Run button beside a command to try (the lab guide's and the lesson's): it types
 * the command into a terminal on the node it runs in, opening one when needed, so the
 * learner sees it run. Its name says where: "Run in NODE: COMMAND".
 */
import { useLab } from '../state/lab';
import { Icon } from '../ui/Icons';
import { commandNode, runCommand } from './terminals';

/** A Run button for `command`, in `node` when given, else in the node the command names. */
export function RunButton({ command, node: on }: { command: string; node?: string }) {
  const nodes = useLab((s) => s.topology?.nodes);
  const names = Object.keys(nodes ?? {});
  const node = on !== undefined && names.includes(on) ? on : commandNode(command, names);
  return (
    <button className="btn guide-run" aria-label={node ? `Run in ${node}: ${command}` : `Run: ${command}`} disabled={!node} title={node ? `Type this in a terminal on ${node} and run it` : 'The lab has no namespaces yet'} onClick={() => void runCommand(command, node)}>
      <Icon name="play" size={12} />Run{node ? <span className="muted"> in {node}</span> : null}
    </button>
  );
}
