/**
 * The few icons the page uses, drawn inline (no icon font, nothing to fetch), all
 * 16px on a 24-unit grid with round strokes in the current colour.
 */
import type { ReactElement } from 'react';

/** The names of the icons. */
export type IconName =
  | 'namespace' | 'bridge' | 'router' | 'internet' | 'host'
  | 'undo' | 'fit' | 'search' | 'open' | 'download' | 'image' | 'script' | 'sun' | 'moon'
  | 'trash' | 'plus' | 'close' | 'play' | 'log' | 'keyboard' | 'check' | 'cross' | 'alert' | 'present'
  | 'restore' | 'maximise' | 'chevron-up' | 'chevron-down' | 'book' | 'terminal' | 'route' | 'pause' | 'freeze';

const PATHS: Record<IconName, ReactElement> = {
  namespace: <><rect x="4" y="5" width="16" height="14" rx="3" /><path d="M8 10h8M8 14h5" /></>,
  host: <><rect x="3" y="4" width="18" height="16" rx="3" /><rect x="7" y="11" width="10" height="5" rx="1.5" /><path d="M7 8h6" /></>,
  bridge: <><rect x="3" y="9" width="18" height="6" rx="2" /><path d="M7 9V6M12 9V6M17 9V6M7 15v3M17 15v3" /></>,
  router: <><circle cx="12" cy="12" r="8" /><path d="M8 12h8M13 9l3 3-3 3M12 4v3M12 17v3" /></>,
  internet: <><circle cx="12" cy="12" r="8.5" /><path d="M3.5 12h17M12 3.5c2.5 2.6 3.5 5.4 3.5 8.5s-1 5.9-3.5 8.5c-2.5-2.6-3.5-5.4-3.5-8.5s1-5.9 3.5-8.5z" /></>,
  undo: <><path d="M9 14L4 9l5-5" /><path d="M4 9h10.5a5.5 5.5 0 010 11H11" /></>,
  fit: <><path d="M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5" /></>,
  search: <><circle cx="11" cy="11" r="6" /><path d="M20 20l-4.5-4.5" /></>,
  open: <><path d="M4 19V6a1 1 0 011-1h5l2 2h7a1 1 0 011 1v3" /><path d="M4 19l3-7h15l-3 7z" /></>,
  download: <><path d="M12 4v11M7 10l5 5 5-5M5 20h14" /></>,
  image: <><rect x="4" y="5" width="16" height="14" rx="2" /><circle cx="9" cy="10" r="1.5" /><path d="M20 16l-5-5-8 8" /></>,
  script: <><path d="M8 9l-3 3 3 3M16 9l3 3-3 3M13.5 7l-3 10" /></>,
  sun: <><circle cx="12" cy="12" r="4" /><path d="M12 3v2M12 19v2M3 12h2M19 12h2M5.6 5.6l1.4 1.4M17 17l1.4 1.4M5.6 18.4L7 17M17 7l1.4-1.4" /></>,
  moon: <><path d="M20 14.5A8 8 0 019.5 4a8 8 0 1010.5 10.5z" /></>,
  trash: <><path d="M5 7h14M10 7V5h4v2M7 7l1 13h8l1-13" /></>,
  plus: <><path d="M12 5v14M5 12h14" /></>,
  close: <><path d="M6 6l12 12M18 6L6 18" /></>,
  play: <><path d="M8 5l11 7-11 7z" /></>,
  log: <><path d="M5 6h14M5 10h14M5 14h9M5 18h6" /></>,
  keyboard: <><rect x="3" y="6" width="18" height="12" rx="2" /><path d="M7 10h.01M11 10h.01M15 10h.01M7 14h10" /></>,
  check: <><path d="M5 12.5l4.5 4.5L19 7.5" /></>,
  cross: <><path d="M7 7l10 10M17 7L7 17" /></>,
  alert: <><path d="M12 4l9 16H3z" /><path d="M12 10v4M12 17h.01" /></>,
  restore: <><rect x="4" y="8" width="12" height="12" rx="2" /><path d="M8 8V5a1 1 0 011-1h10a1 1 0 011 1v10a1 1 0 01-1 1h-3" /></>,
  maximise: <><rect x="4" y="4" width="16" height="16" rx="2" /><path d="M4 9h16" /></>,
  'chevron-up': <><path d="M6 15l6-6 6 6" /></>,
  'chevron-down': <><path d="M6 9l6 6 6-6" /></>,
  present: <><rect x="3" y="4" width="18" height="12" rx="1.5" /><path d="M12 16v4M8 20h8" /></>,
  book: <><path d="M5 4h10a4 4 0 014 4v12H9a4 4 0 01-4-4z" /><path d="M5 16a4 4 0 014-4h10" /></>,
  terminal: <><rect x="3" y="5" width="18" height="14" rx="2" /><path d="M7 10l3 2-3 2M12 15h5" /></>,
  route: <><circle cx="6" cy="18" r="2" /><circle cx="18" cy="6" r="2" /><path d="M8 18h7a3 3 0 000-6H9a3 3 0 010-6h7" /></>,
  pause: <><path d="M9 6v12M15 6v12" /></>,
  freeze: <><path d="M12 3v18M4.2 7.5l15.6 9M4.2 16.5l15.6-9M9.5 4.5L12 7l2.5-2.5M9.5 19.5L12 17l2.5 2.5" /></>,
};

/** An icon; decorative (hidden from screen readers) since every control has its own label. */
export function Icon({ name, size = 16 }: { name: IconName; size?: number }) {
  return (
    <svg className="icon" width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      {PATHS[name]}
    </svg>
  );
}
