/**
 * Lesson commands that nslab runs itself (a solution's `run`, an `output` check's
 * command) are split into an argv here and run without a shell: quotes group words,
 * and shell syntax (pipes, redirection, variables, `;`) is refused with a sentence.
 */

/** The argv of a command line, or why it cannot be run without a shell. */
export function splitCommand(text: string): { ok: true; argv: string[] } | { ok: false; message: string } {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
    } else if ('|;&<>$`\\(){}*?'.includes(ch)) {
      return { ok: false, message: `"${text}" uses shell syntax (${ch}): nslab runs it without a shell, so write one plain command` };
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) return { ok: false, message: `"${text}" has an unclosed ${quote}` };
  if (inWord) argv.push(word);
  if (argv.length === 0) return { ok: false, message: 'the command is empty' };
  return { ok: true, argv };
}
