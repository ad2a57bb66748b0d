/** Lesson requests on the lab socket: the catalogue, starting a lesson in a lab, following its status, solving or resetting a step. */
import type { ClientMessage, PlannedOp, Topology } from '@nslab/model';
import type { OpEvent } from '../kernel/apply';
import { LabError } from '../labs';
import type { Client } from './client';
import type { HubContext } from './context';

/** Every lesson request's type. */
export type LessonRequest = Extract<ClientMessage, { type: `lesson-${string}` }>;

/** Runs a lesson request of `client` and answers it; a server without lessons refuses it. */
export async function answerLesson(hub: HubContext, client: Client, message: LessonRequest): Promise<void> {
  const lessons = hub.lessons;
  if (!lessons) throw new LabError('not-found', 'this server offers no lessons');
  const id = 'id' in message && message.id ? { id: message.id } : {};
  const hooks = {
    // A lesson's lab counts against a trainee's quotas like any other.
    ...(hub.classroom ? { admit: (t: Topology) => hub.classroom?.admitTopology(t) } : {}),
    plan: (lab: string, ops: PlannedOp[]) => hub.send(client, { type: 'plan', lab, ops, dryRun: false, ...id }),
    progress: (lab: string, e: OpEvent) => hub.send(client, { type: 'progress', lab, index: e.index, argv: e.argv, status: e.status, code: e.code, stdout: e.stdout, stderr: e.stderr, ...id }),
  };
  client.lessonSend ??= (m) => hub.send(client, m);
  switch (message.type) {
    case 'lesson-list':
      return hub.send(client, { type: 'lessons', lessons: await lessons.engine.catalog.infos(), ...id });
    case 'lesson-start': {
      // A trainee's lesson takes the trainee's own values unless the page says otherwise: classmates' labs differ.
      const vary = message.vary ?? client.principal.kind === 'trainee';
      await lessons.engine.start(message.lesson, message.lab, { params: new Map(Object.entries(message.params ?? {})), vary, ...hooks });
      hub.send(client, { type: 'result', lab: message.lab, ok: true, ran: 0, ...id });
      hub.feed.refreshLabs().catch((err: unknown) => console.error(`nslab: listing labs after starting a lesson in ${message.lab} failed: ${err instanceof Error ? err.message : String(err)}`));
      await lessons.live.started(message.lab);
      return;
    }
    case 'lesson-watch':
      await hub.feed.watch(message.lab);
      return lessons.live.watch(message.lab, client.lessonSend);
    case 'lesson-unwatch':
      return lessons.live.unwatch(client.lessonSend, message.lab);
    case 'lesson-solve': {
      if (message.dryRun) {
        // One plan for the whole step, sent here: a step made of commands alone has no edits to plan.
        const r = await lessons.engine.solveStep(message.lab, message.step, { dryRun: true });
        hub.send(client, { type: 'plan', lab: message.lab, ops: r.ops, dryRun: true, ...id });
        hub.send(client, { type: 'result', lab: message.lab, ok: true, ran: 0, ...id });
        return;
      }
      const r = await lessons.engine.solveStep(message.lab, message.step, { dryRun: false, ...hooks });
      hub.send(client, { type: 'result', lab: message.lab, ok: true, ran: r.ops.length + r.commands.length, ...id });
      lessons.live.changed(message.lab);
      return;
    }
    case 'lesson-reset':
      await lessons.engine.reset(message.lab, message.step, hooks);
      hub.send(client, { type: 'result', lab: message.lab, ok: true, ran: 0, ...id });
      lessons.live.changed(message.lab);
      return;
  }
}
