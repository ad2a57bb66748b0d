/**
 * The lessons on disk (lessons/*.yaml): read and validated once per catalogue, so a
 * broken file is reported with its paths and never half-used.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lesson, LessonInfo, Problem } from '@nslab/model';
import { parseLesson } from '@nslab/model';

/** A lesson file that could not be used, and why. */
export interface BrokenLesson { file: string; problems: Problem[] }

/** A refused file in one sentence, each problem with its path: what the server's log and `nslab lesson list` say. */
export function brokenSentence(b: BrokenLesson): string {
  return `lesson file ${b.file} is not offered: ${b.problems.map((p) => `${p.path || '(file)'}: ${p.message}`).join('; ')}`;
}

/** The lessons of a folder, by id. */
export class LessonCatalog {
  private loaded?: Promise<{ lessons: Map<string, Lesson>; broken: BrokenLesson[] }>;

  constructor(readonly dir: string) {}

  private load() {
    this.loaded ??= (async () => {
      const files = (await readdir(this.dir).catch(() => [] as string[])).filter((f) => f.endsWith('.yaml')).sort();
      const lessons = new Map<string, Lesson>();
      const broken: BrokenLesson[] = [];
      for (const file of files) {
        const parsed = parseLesson(await readFile(join(this.dir, file), 'utf8'));
        if (!parsed.ok) broken.push({ file, problems: parsed.problems });
        else if (`${parsed.lesson.id}.yaml` !== file) broken.push({ file, problems: [{ path: 'id', message: `the id "${parsed.lesson.id}" differs from the file's name: name the file ${parsed.lesson.id}.yaml` }] });
        else lessons.set(parsed.lesson.id, parsed.lesson);
      }
      return { lessons, broken };
    })();
    return this.loaded;
  }

  /** Every usable lesson, in file order. */
  async list(): Promise<Lesson[]> {
    return [...(await this.load()).lessons.values()];
  }

  /** Titles and summaries, as the protocol sends them. */
  async infos(): Promise<LessonInfo[]> {
    return (await this.list()).map((l) => ({ id: l.id, title: l.title, summary: l.summary }));
  }

  /** One lesson, or undefined. */
  async get(id: string): Promise<Lesson | undefined> {
    return (await this.load()).lessons.get(id);
  }

  /** The files that were refused. */
  async broken(): Promise<BrokenLesson[]> {
    return (await this.load()).broken;
  }

  /** The refused file of a lesson id (ID.yaml), if that is why there is no such lesson. */
  async brokenFile(id: string): Promise<BrokenLesson | undefined> {
    return (await this.load()).broken.find((b) => b.file === `${id}.yaml`);
  }
}
