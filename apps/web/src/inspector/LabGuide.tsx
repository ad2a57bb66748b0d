/**
 * The lab guide, beside the canvas: what the lab is for (its file's description)
 * and the commands worth trying, each with a Run button that opens a terminal on
 * the node the command is about and types it there. It folds away while something
 * is selected, so the inspector below it stays in view.
 */
import { useState } from 'react';
import { useLab } from '../state/lab';
import { useView } from '../state/view';
import { RunButton } from '../terminals/RunButton';
import { Icon } from '../ui/Icons';

/** The command without a trailing "# comment", and the comment. */
export function splitComment(command: string): { command: string; comment: string | undefined } {
  const m = /^(.*?)\s+#\s*(.*)$/.exec(command);
  return m ? { command: m[1] ?? command, comment: m[2] } : { command, comment: undefined };
}

/** The lab guide; nothing when the lab has neither a description nor commands. */
export function LabGuide() {
  const meta = useLab((s) => s.meta);
  const selected = useView((s) => s.selection !== undefined);
  // Open while nothing is selected (the inspector then has little to say), folded while something is;
  // a click pins it either way until the selection changes (reset during render, as React advises
  // for state that follows a prop: an effect would draw the stale pin first).
  const [pinned, setPinned] = useState<boolean | undefined>(undefined);
  const [pinnedUnder, setPinnedUnder] = useState(selected);
  if (pinnedUnder !== selected) {
    setPinnedUnder(selected);
    setPinned(undefined);
  }
  const open = pinned ?? !selected;
  if (!meta.description && !(meta.try && meta.try.length > 0)) return null;
  return (
    <section className={`lab-guide${open ? ' open' : ''}`} aria-label="Lab guide">
      <button className="lab-guide-head" aria-expanded={open} onClick={() => setPinned(!open)}>
        <Icon name="book" size={15} />
        <span>Lab guide</span>
        <Icon name={open ? 'chevron-up' : 'chevron-down'} size={14} />
      </button>
      {open ? (
        <div className="lab-guide-body">
          {meta.description ? <p className="description">{meta.description}</p> : null}
          {meta.try && meta.try.length > 0 ? (
            <>
              <h3>Commands to try</h3>
              <ul className="guide-list">
                {meta.try.map((text) => {
                  const { command, comment } = splitComment(text);
                  return (
                    <li key={text}>
                      <code className="guide-cmd">{command}</code>
                      {comment ? <span className="guide-comment muted small">{comment}</span> : null}
                      <RunButton command={command} />
                    </li>
                  );
                })}
              </ul>
            </>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
