/**
 * The instructor's class routes (classroom mode only, instructor only): remove a trainee with
 * everything they hold, and start one lesson for the whole class, each trainee in their own lab.
 * Making and listing trainees stays with the API's auth (http/api.ts).
 */
import type express from 'express';
import type { Response } from 'express';
import type { ClassLessonResult } from '@nslab/model';
import { classLessonRequest } from '@nslab/model';
import type { LabFeed } from '../live/feed';
import type { LabService } from '../labs/service';
import { LabError } from '../labs/service';
import type { LessonEngine } from '../lesson/engine';
import type { LessonLive } from '../lesson/live';
import type { ViewLinks } from '../liveview/links';
import type { Classroom } from './classroom';
import type { Principal } from './scope';
import { kernelLab, ownLab, principalOf } from './scope';

/** The close code a removed trainee's sockets get (4xxx: the application's; 4401: no longer let in). */
export const TRAINEE_REMOVED_CLOSE = 4401;

/** What the class routes act on. */
export interface ClassRouteDeps {
  classroom: Classroom;
  labs: LabService;
  feed: LabFeed;
  lessons: { engine: LessonEngine; live: LessonLive };
  views: ViewLinks;
  /** The labs of the open terminals, and the way to end a lab's terminals. */
  terminals: { labs(): string[]; closeLab(lab: string): Promise<void> };
  /** Ends a lab's captures (a lab whose namespaces are already gone has no destroy to end them). */
  stopCaptures(lab: string): Promise<void>;
  /** Told of a trainee removed (the idle culler forgets them). */
  removed?: (name: string) => void;
  /** Closes the lab sockets of the principals `match` accepts. */
  closeSockets(match: (principal: Principal) => boolean, code: number, reason: string): void;
}

/** Refuses (with a sentence) a request that is not the instructor's on a classroom server; true when it may go on. */
function instructorOnly(res: Response, what: string): boolean {
  if (principalOf(res.locals).kind !== 'instructor') {
    res.status(403).json({ error: `only the instructor ${what}` });
    return false;
  }
  return true;
}

/** Mounts DELETE /api/trainees/:name and POST /api/class/lessons. */
export function mountClassRoutes(app: express.Express, deps: ClassRouteDeps): void {
  const { classroom } = deps;

  // Removing a trainee: the token first (nothing new gets in), then their sockets, shells, captures and labs, then their cgroups and user namespace.
  app.delete('/api/trainees/:name', async (req, res, next) => {
    try {
      if (!instructorOnly(res, 'removes trainees')) return;
      const name = req.params.name;
      if (!classroom.roster.list().some((t) => t.name === name)) throw new LabError('not-found', `there is no trainee named "${name.slice(0, 40)}" in this class`);
      const trainee: Principal = { kind: 'trainee', name };
      classroom.roster.remove(name);
      deps.removed?.(name);
      deps.closeSockets((p) => p.kind === 'trainee' && p.name === name, TRAINEE_REMOVED_CLOSE, 'the instructor removed you from the class');
      const kernelLabs = deps.feed.labs().map((l) => l.name).filter((lab) => ownLab(trainee, lab) !== undefined);
      for (const lab of kernelLabs) for (const link of deps.views.list(lab)) deps.views.revoke(link.id, 'the instructor removed this lab\'s trainee from the class');
      const shellLabs = new Set(deps.terminals.labs().filter((lab) => ownLab(trainee, lab) !== undefined));
      await Promise.all([...shellLabs].map((lab) => deps.terminals.closeLab(lab)));
      await Promise.all([...shellLabs].map((lab) => deps.stopCaptures(lab)));
      // One at a time: each destroy is one batch of namespace deletions, and the feed lists labs after each.
      const destroyed: string[] = [];
      for (const lab of kernelLabs) {
        await deps.labs.destroy(lab);
        destroyed.push(ownLab(trainee, lab) ?? lab);
      }
      await deps.feed.refreshLabs().catch(() => undefined);
      const held = (await classroom.cgroups?.remove(name)) ?? [];
      // Their user namespace goes too: a trainee of the same name later gets a new one.
      classroom.users?.release(name);
      res.json({ name, labs: destroyed, ...(held.length > 0 ? { warning: `these cgroups still hold processes and stay until the next start: ${held.join(', ')}` } : {}) });
    } catch (e) { next(e); }
  });

  // One lesson for everyone: each trainee gets it in their own lab (named after the lesson unless `lab` says),
  // started through the lesson engine as a trainee's own start is, so quotas count it the same way.
  app.post('/api/class/lessons', async (req, res, next) => {
    try {
      if (!instructorOnly(res, 'starts a lesson for the class')) return;
      const parsed = classLessonRequest.safeParse((req.body as unknown) ?? {});
      if (!parsed.success) throw new LabError('invalid', 'send {"lesson": "ID"}, with "vary": true to give each trainee their own values and "lab": "NAME" to name their lab (default: the lesson\'s id)');
      const { lesson, vary } = parsed.data;
      if (!(await deps.lessons.engine.catalog.get(lesson))) throw new LabError('not-found', `no lesson "${lesson.slice(0, 40)}" (nslab lesson list shows them)`);
      const name = parsed.data.lab ?? lesson;
      const trainees = classroom.roster.list();
      if (trainees.length === 0) throw new LabError('invalid', 'this class has no trainees yet: add them before starting a lesson for the class');
      const result: ClassLessonResult = { lesson, started: [], failed: [] };
      // One after another: each start applies a lab (a batch per namespace); thirty at once would only queue in the kernel.
      for (const t of trainees) {
        try {
          const lab = kernelLab({ kind: 'trainee', name: t.name }, name);
          await deps.lessons.engine.start(lesson, lab, { vary: vary ?? false, admit: (topology) => classroom.admitTopology(topology) });
          await deps.lessons.live.started(lab);
          result.started.push({ trainee: t.name, lab: name });
        } catch (err) {
          if (!(err instanceof LabError)) throw err;
          result.failed.push({ trainee: t.name, error: err.message.split(`${t.name}--`).join('') });
        }
      }
      await deps.feed.refreshLabs().catch(() => undefined);
      res.status(result.started.length > 0 ? 200 : 409).json(result);
    } catch (e) { next(e); }
  });
}
