/**
 * Which lesson runs in a lab, with the learner's values, kept in /run/nslab beside the
 * lab's metadata: `nslab lesson check LAB` and the page both find it there.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nameProblem } from '@nslab/model';

/** Where lesson records live. */
export const LESSON_DIR = '/run/nslab/lessons';

/** A lesson started in a lab. */
export interface LessonRecord { lesson: string; params: Record<string, string>; started: number }

function pathOf(lab: string): string {
  const problem = nameProblem(lab, 'lab');
  if (problem) throw new Error(problem);
  return join(LESSON_DIR, `${lab}.json`);
}

/** Saves the lesson running in a lab. */
export async function writeLessonRecord(lab: string, record: LessonRecord): Promise<void> {
  await mkdir(LESSON_DIR, { recursive: true });
  await writeFile(pathOf(lab), JSON.stringify(record));
}

/** The lesson running in a lab, or undefined. */
export async function readLessonRecord(lab: string): Promise<LessonRecord | undefined> {
  try {
    const data = JSON.parse(await readFile(pathOf(lab), 'utf8')) as Partial<LessonRecord>;
    if (typeof data.lesson !== 'string' || typeof data.params !== 'object' || data.params === null) return undefined;
    return { lesson: data.lesson, params: { ...data.params }, started: Number(data.started) || 0 };
  } catch {
    return undefined;
  }
}
