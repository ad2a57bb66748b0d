/**
 * The instructor's requests about the class: the trainee list, adding and removing a trainee,
 * and a lesson started for everyone (apps/server/src/http/api.ts, classroom/routes.ts).
 */
import { classLessonResult, sessionInfo, traineeEntry, traineeList } from '@nslab/model';
import type { ClassLessonResult, TraineeEntry } from '@nslab/model';
import { apiFetch, errorOf } from '../server/credentials';

const json = { 'content-type': 'application/json' };

/** The class list, each trainee with their join link. */
export async function listTrainees(): Promise<TraineeEntry[]> {
  const res = await apiFetch('/api/trainees');
  if (!res.ok) throw new Error(await errorOf(res));
  const parsed = traineeList.safeParse(await res.json());
  if (!parsed.success) throw new Error('the server did not answer with a class list');
  return parsed.data.trainees;
}

/** Makes a trainee; throws the server's sentence (a wrong or taken name, a full room). */
export async function addTrainee(name: string): Promise<TraineeEntry> {
  const res = await apiFetch('/api/trainees', { method: 'POST', headers: json, body: JSON.stringify({ name }) });
  if (!res.ok) throw new Error(await errorOf(res));
  const parsed = traineeEntry.safeParse(await res.json());
  if (!parsed.success) throw new Error('the server did not answer with a trainee');
  return parsed.data;
}

/** Removes a trainee: their shells, captures and labs end and their link opens nothing any more. */
export async function removeTrainee(name: string): Promise<void> {
  const res = await apiFetch(`/api/trainees/${encodeURIComponent(name)}`, { method: 'DELETE' });
  if (!res.ok) throw new Error(await errorOf(res));
}

/** Starts lesson `lesson` for every trainee; the answer says, per trainee, where it started or why not. */
export async function startClassLesson(lesson: string, vary: boolean): Promise<ClassLessonResult> {
  const res = await apiFetch('/api/class/lessons', { method: 'POST', headers: json, body: JSON.stringify({ lesson, vary }) });
  const body: unknown = await res.json().catch(() => undefined);
  const parsed = classLessonResult.safeParse(body);
  if (parsed.success) return parsed.data;
  const error = (body as { error?: unknown } | undefined)?.error;
  throw new Error(typeof error === 'string' ? error : `the server answered ${res.status} ${res.statusText}`);
}

/** Whether this page is the instructor's on a classroom server (GET /api/session). */
export async function classAvailable(): Promise<boolean> {
  try {
    const res = await apiFetch('/api/session');
    if (!res.ok) return false;
    const parsed = sessionInfo.safeParse(await res.json());
    return parsed.success && parsed.data.role === 'instructor' && parsed.data.classroom === true;
  } catch {
    return false;
  }
}
