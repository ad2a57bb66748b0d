/**
 * Lesson checks followed live for the page: when the feed reports a change in a lab,
 * model checks are judged again at once and sent (kernel change -> status in one
 * step); probes then run in the background, one round at a time per lab, and their
 * results follow. A change during a round ends that round (its probes judge a state
 * that is gone: a ping waiting out its timeout would hold the learner's fix back by
 * a second) and starts a new one, except after MAX_ABORTS rounds in a row, so that
 * a lab that never stops changing still gets its probes judged. A round's last word is
 * the hint of the learner's failing reach/tcp checks, from a trace of the packet.
 */
import type { CheckResult, Lesson, LessonServerMessage, Topology } from '@nslab/model';
import type { LessonEngine } from './engine';
import { evaluateLesson, explainFailures, modelStatus } from './evaluate';

type Send = (message: LessonServerMessage) => void;

/**
 * How long a lab must stay unchanged before its failing packets are traced for their
 * hints: a learner's fix typed within it costs no trace. A trace starts a capture and an
 * nft monitor in every namespace; in bench/lesson, with traces starting at once, a fix
 * landing during one turned green later (on a machine loaded by other runs, so the share
 * is not known exactly). The probe's own hint shows meanwhile.
 */
const TRACE_SETTLE_MS = 1500;

/** Probe rounds a change may end in a row before one is left to finish: a few patches of one command arrive within a round. */
const MAX_ABORTS = 3;

interface Followed {
  lesson: Lesson; watchers: Set<Send>; results: Map<string, CheckResult>; probing: boolean; again: boolean;
  /** Ends the round in flight. */
  round?: AbortController;
  /** Rounds ended by a change since one last finished. */
  aborts: number;
}

/** Live lesson status per lab, for the sockets that follow it. */
export class LessonLive {
  private readonly labs = new Map<string, Followed>();
  /** Sockets following a lab that has no lesson yet: told when one starts there. */
  private readonly waiting = new Map<string, Set<Send>>();

  constructor(private readonly engine: LessonEngine, private readonly current: (lab: string) => Topology | undefined) {}

  /** Starts following a lab's lesson for one socket: the lesson, then its status. */
  async watch(lab: string, send: Send): Promise<void> {
    const running = await this.engine.running(lab);
    send({ type: 'lesson', lab, lesson: running?.lesson ?? null, params: running?.record.params ?? {} });
    if (!running) {
      let waiting = this.waiting.get(lab);
      if (!waiting) this.waiting.set(lab, (waiting = new Set()));
      waiting.add(send);
      return;
    }
    this.waiting.get(lab)?.delete(send);
    let f = this.labs.get(lab);
    if (!f || f.lesson.id !== running.lesson.id) {
      f = { lesson: running.lesson, watchers: f?.watchers ?? new Set(), results: new Map(), probing: false, again: false, aborts: 0 };
      this.labs.set(lab, f);
    }
    f.watchers.add(send);
    this.changed(lab);
  }

  /** Stops following for one socket (every lab when lab is undefined). */
  unwatch(send: Send, lab?: string): void {
    for (const [name, w] of this.waiting) {
      if (lab !== undefined && name !== lab) continue;
      w.delete(send);
      if (w.size === 0) this.waiting.delete(name);
    }
    for (const [name, f] of this.labs) {
      if (lab !== undefined && name !== lab) continue;
      f.watchers.delete(send);
      if (f.watchers.size === 0) this.labs.delete(name);
    }
  }

  /** A lesson was started in a lab: every socket following it gets the lesson and its status. */
  async started(lab: string): Promise<void> {
    const sockets = new Set([...(this.waiting.get(lab) ?? []), ...(this.labs.get(lab)?.watchers ?? [])]);
    this.waiting.delete(lab);
    this.labs.delete(lab); // a new lesson (or the same one again) starts with no results
    for (const send of sockets) await this.watch(lab, send);
  }

  /** The lab changed (a feed patch, a solve, a reset): judge again. */
  changed(lab: string): void {
    const f = this.labs.get(lab);
    const topology = this.current(lab);
    if (!f || !topology) return;
    this.send(lab, f, modelStatus(f.lesson, lab, topology, f.results));
    if (f.probing) {
      f.again = true;
      if (f.aborts < MAX_ABORTS && f.round && !f.round.signal.aborted) {
        f.aborts += 1;
        f.round.abort();
      }
      return;
    }
    f.probing = true;
    void (async () => {
      try {
        do {
          f.again = false;
          const now = this.current(lab);
          if (!now) break;
          const round = new AbortController();
          f.round = round;
          const status = await evaluateLesson(f.lesson, lab, now, round.signal, { explain: false });
          if (round.signal.aborted) continue; // `again` is set: judge the newer state
          f.aborts = 0;
          for (const c of status.steps.flatMap((s) => s.checks)) f.results.set(c.id, c);
          if (this.labs.get(lab) !== f) break;
          // Probes judged an older state: send them with the model's view of the newest one.
          this.send(lab, f, modelStatus(f.lesson, lab, this.current(lab) ?? now, f.results));
          // Then the failing packets of the learner's step are traced, and their hints follow in the kernel's words.
          if (f.again || !(await explainFailures(f.lesson, lab, now, status, round.signal, { settleMs: TRACE_SETTLE_MS })) || round.signal.aborted || this.labs.get(lab) !== f) continue;
          for (const c of status.steps.flatMap((s) => s.checks)) f.results.set(c.id, c);
          this.send(lab, f, modelStatus(f.lesson, lab, this.current(lab) ?? now, f.results));
        } while (f.again);
      } finally {
        f.probing = false;
        f.round = undefined;
      }
    })();
  }

  private send(lab: string, f: Followed, status: ReturnType<typeof modelStatus>): void {
    const message: LessonServerMessage = { type: 'lesson-status', lab, status, at: Date.now() };
    for (const w of f.watchers) w(message);
  }
}
