/** The right column: the lab guide, then the inspector of whatever is selected, or of the lab. */
import { useView } from '../state/view';
import { LabGuide } from './LabGuide';
import { LabOverview } from './LabOverview';
import { LinkInspector } from './LinkInspector';
import { NamespaceInspector } from './NamespaceInspector';

/** The inspector. */
export function Inspector() {
  const selection = useView((s) => s.selection);
  return (
    <aside className="inspector" aria-label="Inspector">
      <LabGuide />
      {selection?.kind === 'node' ? <NamespaceInspector key={selection.node} node={selection.node} focus={selection.interface} />
        : selection?.kind === 'link' ? <LinkInspector linkId={selection.key} />
          : <LabOverview />}
    </aside>
  );
}
