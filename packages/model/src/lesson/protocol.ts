/**
 * The lab socket's lesson messages, kept apart from the core protocol, which imports
 * them: list the lessons, start one in a lab, follow its checks live, and apply a
 * step's solution or reset a step (both answered like `edit`: plan, progress, result).
 */
import { z } from 'zod';
import type { Lesson } from './lesson';
import type { LessonStatus } from './check';

const labName = z.string().min(1).max(24);
const requestId = z.string().max(64).optional();
const lessonId = z.string().min(1).max(40);

/** Lesson messages a client may send. */
export const lessonClientMessages = [
  z.strictObject({ type: z.literal('lesson-list'), id: requestId }),
  z.strictObject({ type: z.literal('lesson-start'), id: requestId, lesson: lessonId, lab: labName, params: z.record(z.string().max(32), z.string().max(64)).optional(), vary: z.boolean().optional() }),
  /** Follow the lesson running in a lab: its text, then a status whenever a check changes. */
  z.strictObject({ type: z.literal('lesson-watch'), lab: labName }),
  z.strictObject({ type: z.literal('lesson-unwatch'), lab: labName }),
  /** Apply the solution of one step (index from 0); dryRun gives its plan only. */
  z.strictObject({ type: z.literal('lesson-solve'), id: requestId, lab: labName, step: z.number().int().min(0).max(99), dryRun: z.boolean().optional() }),
  /** Restore the lab to the state a step starts from. */
  z.strictObject({ type: z.literal('lesson-reset'), id: requestId, lab: labName, step: z.number().int().min(0).max(99) }),
] as const;

/** One lesson in a list. */
export interface LessonInfo { id: string; title: { en: string; zh: string }; summary: { en: string; zh: string } }

const text = z.object({ en: z.string(), zh: z.string() });
const record = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Lesson messages the server sends (the lesson and its status checked for their outline only). */
export const lessonServerMessages = [
  z.object({ type: z.literal('lessons'), id: requestId, lessons: z.array(z.object({ id: z.string(), title: text, summary: text })) }),
  /** The lesson running in a lab, instantiated with the learner's values (null: none). */
  z.object({
    type: z.literal('lesson'), lab: z.string(),
    lesson: z.custom<Lesson>((v) => record(v) && typeof v.id === 'string' && Array.isArray(v.steps), { message: 'expected a lesson' }).nullable(),
    params: z.record(z.string(), z.string()),
  }),
  z.object({ type: z.literal('lesson-status'), lab: z.string(), status: z.custom<LessonStatus>((v) => record(v), { message: 'expected a lesson status' }), at: z.number() }),
] as const;

/** Lesson messages the server sends. */
export type LessonServerMessage = z.infer<(typeof lessonServerMessages)[number]>;
