/**
 * The lesson panel's words in English and Simplified Chinese. The language follows
 * the browser (navigator.language) until the learner picks one with the switch.
 * A small table for now; the page-wide library (i18next) is still to come.
 */
import { create } from 'zustand';

/** The page's languages. */
export type Lang = 'en' | 'zh';

const WORDS = {
  lesson: { en: 'Lesson', zh: '课程' },
  noLesson: { en: 'No lesson runs in this lab. Start one:', zh: '本实验中没有课程。开始一个课程：' },
  start: { en: 'Start', zh: '开始' },
  step: { en: 'Step', zh: '步骤' },
  tryThese: { en: 'Try', zh: '试一试' },
  showMe: { en: 'Show me', zh: '演示' },
  reset: { en: 'Reset step', zh: '重置此步骤' },
  progress: { en: 'steps done', zh: '个步骤已完成' },
  pending: { en: 'checking…', zh: '检查中…' },
  hint: { en: 'Hint', zh: '提示' },
  summary: { en: 'Summary', zh: '总结' },
  markdown: { en: 'Download Markdown', zh: '下载 Markdown' },
  json: { en: 'Download JSON', zh: '下载 JSON' },
  done: { en: 'Every check passes. Well done!', zh: '所有检查都已通过，做得好！' },
} as const;

/** A word of the panel. */
export type Word = keyof typeof WORDS;

/** The browser's language, as one of ours. */
export function browserLang(languages: readonly string[] = typeof navigator === 'undefined' ? [] : navigator.languages): Lang {
  return languages.some((l) => l.toLowerCase().startsWith('zh')) && !languages[0]?.toLowerCase().startsWith('en') ? 'zh' : 'en';
}

interface LangState { lang: Lang; set(lang: Lang): void }

/** The chosen language (view state). */
export const useLang = create<LangState>((set) => ({ lang: browserLang(), set: (lang) => set({ lang }) }));

/** A word in a language. */
export function t(word: Word, lang: Lang): string {
  return WORDS[word][lang];
}
