/**
 * The command log: every run, each command as it ran with its exit status and its
 * output. Newest at the bottom, scrolled into view as commands finish.
 */
import { memo, useEffect, useRef } from 'react';
import { formatArgv } from '@nslab/model';
import type { LogEntry } from './store';
import { useOps } from './store';
import { Icon } from '../ui/Icons';

const Entry = memo(function Entry({ entry }: { entry: LogEntry }) {
  const time = new Date(entry.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return (
    <article className={`log-entry is-${entry.status}`} aria-label={`${entry.label}: ${entry.status}`}>
      <div className="log-entry-head">
        <span className="log-status" aria-hidden="true">{entry.status === 'ok' ? <Icon name="check" size={14} /> : entry.status === 'failed' ? <Icon name="cross" size={14} /> : <span className="spinner" />}</span>
        <span className="log-label">{entry.label}</span>
        <span className="log-lab muted">{entry.lab}</span>
        {entry.message ? <span className="log-message">{entry.message}</span> : null}
        <time className="muted">{time}</time>
      </div>
      {entry.commands.map((c, i) => (
        <div key={i} className={`log-cmd is-${c.status}`}>
          <span className="log-cmd-status" title={c.status === 'planned' ? 'not run yet' : `exit status ${c.code ?? 0}`}>{c.status === 'done' ? '✓' : c.status === 'failed' ? '✗' : '·'}</span>
          <code className="cmd-line">$ {formatArgv(c.argv)}</code>
          {c.status === 'failed' ? <span className="exit">exit {c.code}</span> : null}
          {c.stdout ? <pre className="out">{c.stdout}</pre> : null}
          {c.stderr ? <pre className="err">{c.stderr}</pre> : null}
        </div>
      ))}
    </article>
  );
});

/** The log's entries, newest at the bottom and kept in view (used alone in the dock, or in the panel below). */
export function CommandLogBody() {
  const log = useOps((s) => s.log);
  const body = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = body.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [log]);
  return (
    <div className="log-body" id="log-body" ref={body} role="log" aria-label="Command log" aria-live="polite">
      {log.length === 0 ? <p className="muted pad">Commands appear here as they run, with their output and exit status.</p> : log.map((e) => <Entry key={e.id} entry={e} />)}
    </div>
  );
}
