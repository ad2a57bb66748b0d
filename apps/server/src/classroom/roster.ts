/**
 * The trainees of a classroom: each a name and a token the instructor hands out. Kept in the
 * server's memory: a restarted classroom makes its trainees again (their labs stay in the kernel
 * under their names and are theirs again once a trainee of that name exists).
 */
import { newToken, tokenMatches } from '../http/auth';
import type { Principal } from './scope';
import { INSTRUCTOR } from './scope';

/** A trainee's name: 1-12 of a-z, 0-9 and '-', starting with a letter, no "--", not ending in '-' (see scope.ts). */
const TRAINEE_NAME = /^[a-z](?:[a-z0-9-]{0,10}[a-z0-9])?$/;

/** How many trainees one classroom server takes (the room is 30; a shard holds fewer, docs/scale.md). */
export const MAX_TRAINEES = 100;

/** Why a trainee name is refused, or undefined. */
export function traineeNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return 'send {"name": "..."}: a trainee name of 1-12 characters';
  if (!TRAINEE_NAME.test(name) || name.includes('--')) {
    return `trainee name "${name.slice(0, 40)}" is not allowed: use 1-12 of a-z, 0-9 and '-', starting with a letter, with no "--" and no '-' at the end`;
  }
  return undefined;
}

/** One trainee as the instructor sees them. */
export interface Trainee { name: string; token: string }

/** The classroom's trainees, by name; tokens are compared in constant time. */
export class Roster {
  private readonly trainees = new Map<string, Trainee>();

  /** Adds a trainee with a fresh token; throws a sentence when the name is wrong, taken or the room is full. */
  add(name: unknown): Trainee {
    const problem = traineeNameProblem(name);
    if (problem) throw new RosterError('invalid', problem);
    const n = name as string;
    if (this.trainees.has(n)) throw new RosterError('conflict', `there is already a trainee named "${n}": choose another name`);
    if (this.trainees.size >= MAX_TRAINEES) throw new RosterError('full', `this classroom has its ${MAX_TRAINEES} trainees: run another shard for more (docs/scale.md)`);
    const trainee = { name: n, token: newToken() };
    this.trainees.set(n, trainee);
    return trainee;
  }

  /** Removes a trainee: their token opens nothing from now on. False when there was no such trainee. */
  remove(name: string): boolean {
    return this.trainees.delete(name);
  }

  /** The trainees, in the order they were added. */
  list(): Trainee[] {
    return [...this.trainees.values()];
  }

  /** The principal a token belongs to: the instructor's token, a trainee's, or none. */
  principal(token: string | undefined, instructorToken: string): Principal | undefined {
    if (tokenMatches(token, instructorToken)) return INSTRUCTOR;
    for (const t of this.trainees.values()) if (tokenMatches(token, t.token)) return { kind: 'trainee', name: t.name };
    return undefined;
  }
}

/** A refusal to add a trainee. */
export class RosterError extends Error {
  constructor(readonly code: 'invalid' | 'conflict' | 'full', message: string) {
    super(message);
    this.name = 'RosterError';
  }
}
