/**
 * Whose labs a request sees. The instructor (and every user outside classroom mode) sees the
 * kernel's lab names as they are; a trainee names their labs in their own space, and the kernel
 * holds them as `TRAINEE--LAB`: so two trainees may both have a lab "web" (`nslab.ana--web.ns1`,
 * `nslab.bo--web.ns1`), and a trainee can name no lab but their own. A trainee's name has no
 * "--" and does not end in '-', so the first "--" of a kernel name is always the separator.
 */
import type { ServerMessage } from '@nslab/model';
import { nameProblem } from '@nslab/model';
import { LabError } from '../labs/service';

/** Between a trainee's name and their lab's name in the kernel's lab name. */
export const TRAINEE_SEPARATOR = '--';

/** A kernel lab name's limit (NAME_PATTERN: 24 characters). */
const LAB_NAME_MAX = 24;

/**
 * Who is asking: the instructor (or the one user of a server outside classroom mode), a trainee,
 * or a viewer of a live-view link (liveview/links.ts), who sees one lab and changes nothing.
 * A viewer's `lab` is the kernel's name; `name` is the name its maker knows the lab by.
 */
export type Principal =
  | { kind: 'instructor' }
  | { kind: 'trainee'; name: string }
  | { kind: 'viewer'; id: string; lab: string; name: string };

/** The one principal of a server outside classroom mode, and the instructor's in it. */
export const INSTRUCTOR: Principal = { kind: 'instructor' };

/** The principal an authenticated request was found to be (set by the API's token check). */
export function principalOf(locals: Record<string, unknown>): Principal {
  return (locals['principal'] as Principal | undefined) ?? INSTRUCTOR;
}

/** The kernel lab name of a trainee's lab, or a LabError (invalid) that says what to rename. */
export function kernelLab(principal: Principal, lab: string): string {
  if (principal.kind === 'instructor') {
    const problem = nameProblem(lab, 'lab');
    if (problem) throw new LabError('invalid', problem, [{ path: 'lab', message: problem }]);
    return lab;
  }
  // A viewer names one lab; every other is as unknown to it as a lab that never was.
  if (principal.kind === 'viewer') {
    if (lab === principal.name) return principal.lab;
    throw new LabError('not-found', `there is no lab "${lab.slice(0, 40)}" in this live view: it shows ${principal.name} only`);
  }
  const problem = nameProblem(lab, 'lab');
  const room = LAB_NAME_MAX - principal.name.length - TRAINEE_SEPARATOR.length;
  const tooLong = lab.length > room ? `lab name "${lab}" is ${lab.length} characters long: in this classroom use at most ${room}` : undefined;
  const wrong = problem ?? tooLong;
  if (wrong) throw new LabError('invalid', wrong, [{ path: 'lab', message: wrong }]);
  return `${principal.name}${TRAINEE_SEPARATOR}${lab}`;
}

/** The name a principal knows a kernel lab by, or undefined when the lab is not theirs. */
export function ownLab(principal: Principal, kernel: string): string | undefined {
  if (principal.kind === 'instructor') return kernel;
  if (principal.kind === 'viewer') return kernel === principal.lab ? principal.name : undefined;
  const prefix = `${principal.name}${TRAINEE_SEPARATOR}`;
  return kernel.startsWith(prefix) ? kernel.slice(prefix.length) : undefined;
}

/** A sentence from the kernel side said in the principal's names (its kernel lab names without the trainee's prefix). */
export function ownText(principal: Principal, text: string): string {
  if (principal.kind === 'instructor') return text;
  if (principal.kind === 'viewer') return principal.lab === principal.name ? text : text.split(principal.lab).join(principal.name);
  return text.split(`${principal.name}${TRAINEE_SEPARATOR}`).join('');
}

/**
 * A server message as a principal sees it: lab lists hold only their labs, under their names;
 * a message about another's lab is not theirs to see (undefined); texts say their names.
 */
export function ownMessage(principal: Principal, message: ServerMessage): ServerMessage | undefined {
  if (principal.kind === 'instructor') return message;
  if (message.type === 'hello' || message.type === 'labs') {
    return { ...message, labs: message.labs.flatMap((l) => { const name = ownLab(principal, l.name); return name === undefined ? [] : [{ ...l, name }]; }) };
  }
  if (message.type === 'error') {
    const lab = message.lab === undefined ? undefined : ownLab(principal, message.lab);
    const { lab: _kernel, ...rest } = message;
    return { ...rest, message: ownText(principal, message.message), ...(lab !== undefined ? { lab } : {}) };
  }
  if (!('lab' in message)) return message;
  const lab = ownLab(principal, message.lab);
  if (lab === undefined) return undefined;
  if (message.type === 'snapshot') return { ...message, lab, topology: { ...message.topology, name: lab } };
  return { ...message, lab };
}
