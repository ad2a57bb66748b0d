/** The viewer's mark in the top bar: which lab this page shows, and that it only shows. */
import { useLiveView } from './store';

/** "Live view · read-only" and the lab's name, on a viewer's page. */
export function LiveViewBadge() {
  const viewer = useLiveView((s) => s.viewer);
  if (!viewer) return null;
  const until = new Date(viewer.expires).toLocaleString();
  return (
    <div className="live-view-badge" role="status" aria-label="Live view" title={`This page shows ${viewer.lab} as it changes and changes nothing; the link ends ${until}`}>
      <span className="live-dot" aria-hidden="true" />
      <span>Live view · read-only</span>
      <span className="mono live-view-lab">{viewer.lab}</span>
    </div>
  );
}
