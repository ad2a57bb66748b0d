/**
 * The lesson panel's words in English and Simplified Chinese, through i18next. The
 * language follows the browser (navigator.languages, by i18next's language detector)
 * until the learner picks one with the switch; lesson text itself comes in both
 * languages in the lesson file and is picked with `lang`.
 */
import i18next from 'i18next';
import type { i18n as I18n } from 'i18next';
import LanguageDetector from 'i18next-browser-languagedetector';
import { initReactI18next, useTranslation } from 'react-i18next';

/** The page's languages. */
export type Lang = 'en' | 'zh';

const en = {
  lesson: 'Lesson',
  noLesson: 'No lesson runs in this lab. Start one:',
  start: 'Start',
  vary: 'My own values (addresses differ from other learners\')',
  varyTitle: 'The lesson picks its subnets and addresses from this lab\'s name, so two learners get different ones; the steps and checks show yours',
  step: 'Step',
  tryThese: 'Try',
  showMe: 'Show me',
  reset: 'Reset step',
  progress: 'steps done',
  pending: 'checking…',
  hint: 'Hint',
  summary: 'Summary',
  markdown: 'Download Markdown',
  json: 'Download JSON',
  done: 'Every check passes. Well done!',
};

/** Every word of `en`, in Chinese (the compiler checks that none is missing). */
const zh: Record<keyof typeof en, string> = {
  lesson: '课程',
  noLesson: '本实验中没有课程。开始一个课程：',
  start: '开始',
  vary: '使用我自己的取值（地址与其他学员不同）',
  varyTitle: '课程根据本实验的名称选取子网和地址，两个学员得到的不同；步骤和检查显示的是你的取值',
  step: '步骤',
  tryThese: '试一试',
  showMe: '演示',
  reset: '重置此步骤',
  progress: '个步骤已完成',
  pending: '检查中…',
  hint: '提示',
  summary: '总结',
  markdown: '下载 Markdown',
  json: '下载 JSON',
  done: '所有检查都已通过，做得好！',
};

/** The page's i18next instance: its own, so that nothing else on the page can reconfigure it. */
export const i18n: I18n = i18next.createInstance();
void i18n
  .use(LanguageDetector)
  .use(initReactI18next)
  .init({
    resources: { en: { lesson: en }, zh: { lesson: zh } },
    ns: ['lesson'],
    defaultNS: 'lesson',
    fallbackLng: 'en',
    supportedLngs: ['en', 'zh'],
    nonExplicitSupportedLngs: true, // zh-CN, zh-Hans and zh-SG are zh
    load: 'languageOnly',
    // The browser's languages decide; a pick from the switch lasts for the page (not stored).
    detection: { order: ['navigator'], caches: [] },
    interpolation: { escapeValue: false }, // React escapes what it renders
    initAsync: false, // resources are inline: ready before the first render
  });

/** One of our languages for an i18next language code ("zh-CN" -> zh). */
export function langOf(code: string | undefined): Lang {
  return code?.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

/** The panel's translate function, the current language and the switch. */
export function useLang(): { t: (word: keyof typeof en) => string; lang: Lang; set: (lang: Lang) => void } {
  const { t, i18n: instance } = useTranslation('lesson', { i18n });
  return { t: (word) => t(word), lang: langOf(instance.resolvedLanguage ?? instance.language), set: (lang) => void instance.changeLanguage(lang) };
}
