/** The right column: the lab guide, then the inspector of whatever is selected, or of the lab. */
import { useView } from '../state/view';
import { useLiveView } from '../liveview/store';
import { LabGuide } from './LabGuide';
import { LabOverview } from './LabOverview';
import { LinkInspector } from './LinkInspector';
import { NamespaceInspector } from './NamespaceInspector';

/** The inspector. */
export function Inspector() {
  const selection = useView((s) => s.selection);
  // A live view reads every field and changes none: the browser disables each control in the fieldset.
  const viewer = useLiveView((s) => s.viewer !== undefined);
  return (
    <aside className="inspector" aria-label="Inspector">
      <fieldset className="read-only-fields" disabled={viewer}>
        <LabGuide />
        {selection?.kind === 'node' ? <NamespaceInspector key={selection.node} node={selection.node} focus={selection.interface} />
          : selection?.kind === 'link' ? <LinkInspector linkId={selection.key} />
            : <LabOverview />}
      </fieldset>
    </aside>
  );
}
