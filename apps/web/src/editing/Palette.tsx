/**
 * The palette: namespace, bridge, router and internet, to drag onto the canvas or
 * to click (which adds at the centre of the view; a clicked bridge goes inside the
 * selected namespace). Below, the two preferences that shape every edit.
 */
import { useReactFlow } from '@xyflow/react';
import { addFromPalette } from './actions';
import type { PaletteKind } from './palette';
import { PALETTE, PALETTE_MIME } from './palette';
import { useView } from '../state/view';
import { Icon } from '../ui/Icons';

/** The palette column. */
export function Palette() {
  const rf = useReactFlow();
  const autoAddress = useView((s) => s.autoAddress);
  const askBeforeRun = useView((s) => s.askBeforeRun);

  const add = (kind: PaletteKind) => {
    const rect = document.querySelector('.canvas')?.getBoundingClientRect();
    const centre = rect ? rf.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 }) : { x: 0, y: 0 };
    const selection = useView.getState().selection;
    addFromPalette(kind, centre, kind === 'bridge' && selection?.kind === 'node' ? selection.node : undefined);
  };

  return (
    <aside className="palette" aria-label="Palette">
      <h2 className="panel-title">Add to the lab</h2>
      <div className="palette-items">
        {PALETTE.map((item) => (
          <button
            key={item.kind}
            className={`palette-item kind-${item.kind}`}
            draggable
            title={`${item.title}: ${item.hint}. Drag it onto the canvas, or click to add it in the middle${item.kind === 'bridge' ? ' (inside the selected namespace, if one is selected)' : ''}.`}
            onDragStart={(e) => {
              e.dataTransfer.setData(PALETTE_MIME, item.kind);
              e.dataTransfer.effectAllowed = 'copy';
            }}
            onClick={() => add(item.kind)}
          >
            <span className="palette-icon"><Icon name={item.kind} size={18} /></span>
            <span className="palette-text"><strong>{item.title}</strong><small>{item.hint}</small></span>
          </button>
        ))}
      </div>
      <p className="palette-help">
        To connect two namespaces, drag the <span className="knob" aria-hidden="true">+</span> at the corner of one onto the other, or onto a bridge.
      </p>
      <h2 className="panel-title">Options</h2>
      <label className="check">
        <input type="checkbox" checked={autoAddress} onChange={(e) => useView.getState().setAutoAddress(e.target.checked)} />
        <span>Assign addresses to new links</span>
      </label>
      <label className="check">
        <input type="checkbox" checked={askBeforeRun} onChange={(e) => useView.getState().setAskBeforeRun(e.target.checked)} />
        <span>Show each plan before running it</span>
      </label>
    </aside>
  );
}
