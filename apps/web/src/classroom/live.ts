/**
 * The class view's live graphs: while it is open, the page's socket subscribes to every
 * trainee's labs (and follows their lessons); snapshots and patches of those labs update the
 * class store, and a lab that goes away is unsubscribed. The lab the canvas follows is shared
 * with the canvas and never unsubscribed from here.
 */
import { applyChanges } from '@nslab/model';
import type { ServerMessage } from '@nslab/model';
import { client } from '../server/client';
import { listen } from '../server/dispatch';
import { useLab } from '../state/lab';
import { useClass } from './store';

/** The id of the class view's lesson-list request, so its answer is known as its own. */
const LESSONS_ID = 'class-lessons';

/** The kernel labs the class view follows now. */
const followed = new Set<string>();

/** The trainee a kernel lab belongs to (TRAINEE--LAB), among the class's trainees. */
export function traineeOf(lab: string, trainees: readonly { name: string }[]): string | undefined {
  return trainees.find((t) => lab.startsWith(`${t.name}--`))?.name;
}

/** Subscribes to the trainee labs the class shows and unsubscribes from the rest. */
function sync(): void {
  const { open, trainees } = useClass.getState();
  const { labs, lab: canvasLab } = useLab.getState();
  const wanted = new Set(open ? labs.map((l) => l.name).filter((name) => traineeOf(name, trainees) !== undefined) : []);
  for (const lab of [...followed]) {
    if (wanted.has(lab)) continue;
    followed.delete(lab);
    if (lab !== canvasLab) {
      client.send({ type: 'unsubscribe', lab });
      client.send({ type: 'lesson-unwatch', lab });
    }
    useClass.getState().setGraph(lab, undefined);
    useClass.getState().setStatus(lab, undefined);
  }
  for (const lab of wanted) {
    if (followed.has(lab)) continue;
    followed.add(lab);
    client.send({ type: 'subscribe', lab });
    client.send({ type: 'lesson-watch', lab });
  }
}

/** One server message, as the class view reads it. */
function hear(message: ServerMessage): void {
  switch (message.type) {
    case 'hello':
      // A new socket holds no subscription: every lab is asked again.
      followed.clear();
      queueMicrotask(sync);
      if (useClass.getState().open) client.send({ type: 'lesson-list', id: LESSONS_ID });
      return;
    case 'snapshot':
      if (followed.has(message.lab)) useClass.getState().setGraph(message.lab, message.topology);
      return;
    case 'patch': {
      const graph = useClass.getState().graphs.get(message.lab);
      if (followed.has(message.lab) && graph) useClass.getState().setGraph(message.lab, applyChanges(graph, message.changes));
      return;
    }
    case 'lesson':
      if (followed.has(message.lab) && message.lesson === null) useClass.getState().setStatus(message.lab, undefined);
      return;
    case 'lesson-status':
      if (followed.has(message.lab)) useClass.getState().setStatus(message.lab, message.status);
      return;
    case 'lessons':
      if (message.id === LESSONS_ID) useClass.getState().setLessons(message.lessons);
      return;
    default:
      return;
  }
}

/** Installs the class view's listener and subscriptions (called once by main.tsx). */
export function installClassLive(): void {
  listen(hear);
  useLab.subscribe((s, prev) => {
    // The canvas left a lab the class view follows: its unsubscribe ended the class's too, so subscribe again.
    if (s.lab !== prev.lab && prev.lab !== undefined && followed.has(prev.lab)) client.send({ type: 'subscribe', lab: prev.lab });
    if (s.labs !== prev.labs) sync();
  });
  useClass.subscribe((s, prev) => {
    if (s.open !== prev.open && s.open) client.send({ type: 'lesson-list', id: LESSONS_ID });
    if (s.open !== prev.open || s.trainees !== prev.trainees) sync();
  });
}
