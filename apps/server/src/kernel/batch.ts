/**
 * Lines of `ip -batch` input, built from validated words. Its own module so that
 * what only reads the kernel (observe, the monitor) does not import the write path.
 */

/** A batch line from validated words; refuses anything `ip -batch`'s tokenizer would read differently. */
export function batchLine(words: string[]): string {
  for (const w of words) {
    if (w.length === 0 || /[\s"'#\\;\0]/.test(w)) throw new Error(`refusing batch word ${JSON.stringify(w)}: it holds a character ip -batch would misread`);
  }
  return words.join(' ');
}
