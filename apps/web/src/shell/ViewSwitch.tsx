/** The switch between the two views of the lab: the kernel's (the canvas) and Docker's (containers). */
import { useDock } from './store';
import type { LabView } from './store';

const VIEWS: { view: LabView; label: string; title: string }[] = [
  { view: 'kernel', label: 'Kernel', title: 'What exists in the kernel: namespaces, veth pairs, bridges' },
  { view: 'containers', label: 'Containers', title: "Docker's model: sandboxes, endpoints, networks" },
];

/** The view switch, over the canvas's top-left corner. */
export function ViewSwitch() {
  const view = useDock((s) => s.view);
  return (
    <div className="view-switch" role="radiogroup" aria-label="View">
      {VIEWS.map((v) => (
        <button key={v.view} role="radio" aria-checked={view === v.view} className={view === v.view ? 'active' : ''} title={v.title} onClick={() => useDock.getState().setView(v.view)}>
          {v.label}
        </button>
      ))}
    </div>
  );
}
