/**
 * The edit pipeline: every change the user makes goes the same way. Checked here
 * first (local rules, instant), then sent as a dry run; the server's plan is shown
 * (the exact commands); on "Run" it is sent for real and the command log fills in
 * as each command finishes. Problems land at their node and field; a run that
 * succeeded can be undone with its inverse edits, through the same pipeline.
 */
import { describeOp, netnsName, opArgv, parseTopology, toFile } from '@nslab/model';
import type { Edit, Op, ServerMessage } from '@nslab/model';
import { checkEdits } from './check';
import { client, requestId } from '../server/client';
import { invertEdits } from './inverse';
import type { PlacedProblem } from './problems';
import { place, placeOp } from './problems';
import { openLab } from '../server/session';
import { useLab } from '../state/lab';
import type { OpRequest } from './store';
import { useOps } from './store';
import { useView } from '../state/view';

/** How long a request may wait for its answer before the log calls it lost (ms): far above any plan's run time here. */
const ANSWER_TIMEOUT_MS = 60_000;

function problem(message: string): PlacedProblem {
  return { message, field: 'lab' };
}

function send(request: OpRequest): boolean {
  const ops = useOps.getState();
  const body = request.body;
  const sent = body.kind === 'edit'
    ? client.send({ type: 'edit', id: request.id, lab: request.lab, edits: body.edits, dryRun: request.dryRun })
    : body.kind === 'apply'
      ? client.send({ type: 'apply', id: request.id, topology: body.topology, dryRun: request.dryRun })
      : body.kind === 'lesson-solve'
        ? client.send({ type: 'lesson-solve', id: request.id, lab: request.lab, step: body.step, dryRun: request.dryRun })
        : client.send({ type: 'destroy', id: request.id, lab: request.lab });
  if (!sent) {
    ops.setProblems([problem('Not connected to the server, so nothing was sent. Wait for the connection to come back (top right), then try again.')]);
    return false;
  }
  ops.track(request);
  setTimeout(() => {
    if (!useOps.getState().requests[request.id]) return;
    if (!request.dryRun) useOps.getState().finishRun(request.id, false, 'the server did not answer: check the connection and the server log');
    useOps.getState().forget(request.id);
  }, ANSWER_TIMEOUT_MS);
  return true;
}

/**
 * Proposes edits to the open lab: checked, then planned by the server (a dry run).
 * Returns false when they were refused here (the problems are shown).
 */
export function proposeEdits(edits: Edit[], label: string, options: { undoable?: boolean } = {}): boolean {
  const { lab, topology, meta } = useLab.getState();
  const ops = useOps.getState();
  if (!lab) {
    ops.setProblems([problem('Open a lab first, or name a new one in the lab box at the top.')]);
    return false;
  }
  const checked = checkEdits(lab, topology, meta, edits);
  if (!checked.ok) {
    ops.setProblems(checked.problems);
    return false;
  }
  const exists = topology !== undefined && Object.keys(topology.nodes).length > 0;
  const request: OpRequest = {
    id: requestId('plan'),
    lab,
    label,
    // A lab is its namespaces: one that has none yet is created by applying its first file.
    body: exists ? { kind: 'edit', edits } : { kind: 'apply', topology: checked.file },
    dryRun: true,
  };
  if (options.undoable !== false && topology) {
    const inverse = invertEdits(topology, edits);
    if (inverse && inverse.length > 0) request.inverse = inverse;
  }
  for (const e of edits) if (e.kind === 'node.rename') useView.getState().renamePosition(e.node, e.to);
  ops.setProblems([]);
  return send(request);
}

/**
 * Proposes a whole topology file (opened, dropped or an example) for a lab: `into` (the lab the
 * page shows, by default), or the lab the file names when no lab is open. The lab is opened and
 * the plan shown. To open a file under a new name, make the new lab first (New lab…), then Open.
 */
export function proposeFile(text: string, source: string, into: string | undefined = useLab.getState().lab): boolean {
  const parsed = parseTopology(text);
  const ops = useOps.getState();
  if (!parsed.ok) {
    ops.setProblems(parsed.problems.map((p) => problem(`${source}${p.path ? ` (${p.path})` : ''}: ${p.message}`)));
    return false;
  }
  const lab = into ?? parsed.topology.name;
  parsed.topology.name = lab;
  openLab(lab);
  ops.setProblems([]);
  return send({ id: requestId('plan'), lab, label: `apply ${source}`, body: { kind: 'apply', topology: toFile(parsed.topology, parsed.meta) }, dryRun: true });
}

/**
 * Proposes a lesson step's reference solution ("Show me"): the server plans its edits
 * (a dry run) and the plan dialog shows them with the step's commands, which run in
 * their nodes once the learner runs the plan.
 */
export function proposeLessonSolution(lab: string, step: number, title: string, commands: { node: string; command: string }[]): boolean {
  useOps.getState().setProblems([]);
  return send({ id: requestId('plan'), lab, label: `show me: ${title}`, body: { kind: 'lesson-solve', step, commands }, dryRun: true });
}

/** Copies the open lab, as the kernel has it, to a new lab `name` (planned, then run like any apply). */
export function cloneLab(name: string): boolean {
  const { lab, topology, meta } = useLab.getState();
  if (!lab || !topology || Object.keys(topology.nodes).length === 0) {
    useOps.getState().setProblems([problem('This lab has no namespaces yet, so there is nothing to copy.')]);
    return false;
  }
  openLab(name);
  useOps.getState().setProblems([]);
  return send({ id: requestId('plan'), lab: name, label: `copy lab ${lab} as ${name}`, body: { kind: 'apply', topology: toFile({ ...topology, name }, meta) }, dryRun: true });
}

/**
 * Proposes destroying the open lab in the plan dialog, as every other change is: one namespace
 * deletion per node (their devices, addresses, routes and rules go with them; there is no undo).
 * The server deletes only the namespaces that carry the lab's marker.
 */
export function proposeDestroy(): boolean {
  const { lab, topology } = useLab.getState();
  if (!lab || !topology) return false;
  const ops = Object.keys(topology.nodes).sort().map((node) => {
    const op: Op = { kind: 'netns.del', node, netns: netnsName(lab, node), reason: 'the lab is destroyed' };
    return { op, argv: opArgv(op), description: `${describeOp(op)}: its devices, addresses, routes and rules go with it` };
  });
  useOps.getState().setProblems([]);
  useOps.getState().showPlan({ request: { id: requestId('plan'), lab, label: `destroy lab ${lab}`, body: { kind: 'destroy' }, dryRun: true }, ops });
  return true;
}

/** Runs the plan being shown. */
export function runPlan(): void {
  const ops = useOps.getState();
  const plan = ops.plan;
  if (!plan) return;
  ops.showPlan(undefined);
  const request: OpRequest = { ...plan.request, id: requestId('run'), dryRun: false };
  if (send(request)) {
    ops.startRun(request, plan.ops);
    useView.getState().setPanel('log', true);
    // A destroyed lab's nodes keep no positions: built again, it is laid out afresh.
    if (request.body.kind === 'destroy') useView.getState().clearPositions(plan.ops.map((o) => (o.op as { node: string }).node));
  }
}

/** Drops the plan being shown; nothing runs. */
export function cancelPlan(): void {
  useOps.getState().showPlan(undefined);
}

/** Undoes the last edit made to the open lab: its inverse edits, planned and run like any edit. */
export function undo(): boolean {
  const lab = useLab.getState().lab;
  if (!lab) return false;
  const step = useOps.getState().popUndo(lab);
  if (!step) {
    useOps.getState().setProblems([problem('Nothing to undo in this lab yet.')]);
    return false;
  }
  return proposeEdits(step.inverse, `undo ${step.label}`, { undoable: false });
}

/** Reads the plan, progress, result and error messages that answer our requests. */
export function handleOpMessage(message: Extract<ServerMessage, { type: 'plan' | 'progress' | 'result' | 'error' }>): void {
  const ops = useOps.getState();
  const request = message.id ? ops.requests[message.id] : undefined;
  switch (message.type) {
    case 'plan': {
      if (!request) return;
      if (request.dryRun) {
        ops.forget(request.id);
        const commands = request.body.kind === 'lesson-solve' ? request.body.commands.length : 0;
        if (message.ops.length === 0 && commands === 0) {
          ops.startRun(request, []);
          ops.finishRun(request.id, true, 'nothing to change: the kernel already has this');
          return;
        }
        ops.showPlan({ request, ops: message.ops });
        if (!useView.getState().askBeforeRun) runPlan();
      } else {
        ops.startRun(request, message.ops);
      }
      return;
    }
    case 'progress':
      if (!message.id) return;
      ops.progress(message.id, message.index, { argv: message.argv, status: message.status, code: message.code, stdout: message.stdout, stderr: message.stderr });
      return;
    case 'result': {
      if (!request || request.dryRun) return;
      // Warnings (a duplicate address, the kernel's read differing from the plan) stay in the log with the run.
      const warned = (message.warnings ?? []).map((w) => `; warning: ${w.message}`).join('');
      ops.finishRun(request.id, message.ok, message.message ?? (message.ok ? `done: ${message.ran} command${message.ran === 1 ? '' : 's'}${warned}` : undefined));
      if (message.ok) {
        ops.setProblems([]);
        if (request.inverse) ops.pushUndo({ lab: request.lab, label: request.label, inverse: request.inverse });
      }
      ops.forget(request.id);
      return;
    }
    case 'error': {
      const edits = request?.body.kind === 'edit' ? request.body.edits : [];
      const stderr = message.stderr?.trim();
      const placed: PlacedProblem[] = message.problems && message.problems.length > 0
        ? message.problems.map((p) => place(p, edits))
        : message.op
          ? [placeOp(message.op.op, `${message.message}${stderr && !message.message.includes(stderr) ? ` (the kernel said: ${stderr})` : ''}`)]
          : [problem(message.message)];
      ops.setProblems(placed);
      if (request) {
        if (!request.dryRun) ops.finishRun(request.id, false, message.message);
        ops.forget(request.id);
      }
      return;
    }
  }
}
