/** The top bar: the lab, the actions on it (undo, view, files, pictures), the connection, the lesson column and the theme. */
import { useRef } from 'react';
import { useReactFlow } from '@xyflow/react';
import { downloadScript, downloadYaml, openTopologyFile } from '../editing/files';
import { downloadImage } from '../canvas/image';
import { useLab } from '../state/lab';
import { useOps } from '../editing/store';
import { useView } from '../state/view';
import { undo } from '../editing/submit';
import { ConnectionStatus } from '../server/ConnectionStatus';
import { Icon } from '../ui/Icons';
import { LabPicker } from './LabPicker';
import { LiveViewBadge } from '../liveview/LiveViewBadge';
import { ShareLiveView } from '../liveview/ShareLiveView';
import { useLiveView } from '../liveview/store';
import { ClassButton } from '../classroom/ClassView';

/** The top bar. */
export function TopBar() {
  const rf = useReactFlow();
  const lab = useLab((s) => s.lab);
  const hasNodes = useLab((s) => Object.keys(s.topology?.nodes ?? {}).length > 0);
  const canUndo = useOps((s) => s.history.some((h) => h.lab === lab));
  const theme = useView((s) => s.theme);
  const lessonOpen = useView((s) => s.panels.lesson);
  const file = useRef<HTMLInputElement>(null);
  // A live view: its badge instead of the lab picker, and no action that changes the lab.
  const viewer = useLiveView((s) => s.viewer !== undefined);

  const image = (format: 'png' | 'svg') => {
    if (lab) void downloadImage(format, rf, lab);
  };

  return (
    <header className="topbar">
      <div className="brand" aria-label="nslab">
        <svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true"><rect x="2" y="2" width="20" height="20" rx="6" fill="var(--accent)" /><circle cx="8" cy="9" r="2.2" fill="#fff" /><circle cx="16" cy="9" r="2.2" fill="#fff" /><circle cx="12" cy="16" r="2.2" fill="#fff" /><path d="M8 9L16 9M8 9l4 7M16 9l-4 7" stroke="#fff" strokeWidth="1.4" /></svg>
        <span>nslab</span>
      </div>
      {viewer ? <LiveViewBadge /> : <LabPicker />}
      <div className="toolbar" role="toolbar" aria-label="Lab actions">
        {viewer ? null : <button className="btn icon-btn" aria-label="Undo" title="Undo the last edit (Ctrl+Z): runs its inverse plan" disabled={!canUndo} onClick={() => undo()}><Icon name="undo" /><span>Undo</span></button>}
        <button className="btn icon-btn" aria-label="Fit view" title="Fit the lab in view (F)" onClick={() => useView.getState().requestFit()}><Icon name="fit" /></button>
        <button className="btn icon-btn" aria-label="Search a node" title="Find a namespace or an address (/)" onClick={() => useView.getState().setPanel('search', true)}><Icon name="search" /></button>
        <span className="sep" aria-hidden="true" />
        {viewer ? null : <>
          <button className="btn icon-btn" aria-label="Open topology file" title="Open a topology file (YAML or JSON); you can also drop one on the page" onClick={() => file.current?.click()}><Icon name="open" /><span>Open</span></button>
          <input ref={file} type="file" accept=".yaml,.yml,.json,application/yaml,application/json,text/yaml" hidden aria-label="Topology file" onChange={(e) => { const f = e.target.files?.[0]; if (f) void openTopologyFile(f); e.target.value = ''; }} />
        </>}
        <button className="btn icon-btn" aria-label="Download YAML" title="Download the lab as a topology file" disabled={!hasNodes} onClick={downloadYaml}><Icon name="download" /><span>YAML</span></button>
        <button className="btn icon-btn" aria-label="Download script" title="Download the lab as a bash script of ip and iptables commands" disabled={!hasNodes} onClick={downloadScript}><Icon name="script" /><span>Script</span></button>
        <button className="btn icon-btn" aria-label="Download PNG" title="Download the canvas as a PNG picture" disabled={!hasNodes} onClick={() => image('png')}><Icon name="image" /><span>PNG</span></button>
        <button className="btn icon-btn" aria-label="Download SVG" title="Download the canvas as an SVG picture" disabled={!hasNodes} onClick={() => image('svg')}><Icon name="image" /><span>SVG</span></button>
      </div>
      <div className="topbar-end">
        <ConnectionStatus />
        <ClassButton />
        <ShareLiveView />
        <button className="btn" aria-label="Lessons" aria-pressed={lessonOpen} title="The lesson of this lab: steps checked live against the kernel" onClick={() => useView.getState().setPanel('lesson', !lessonOpen)}>Lesson</button>
        <button className="btn icon-btn" aria-label="Present" title="Presentation mode for a projector (P; Escape leaves it)" onClick={() => useView.getState().setPanel('present', true)}><Icon name="present" /></button>
        <button className="btn icon-btn" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)" onClick={() => useView.getState().setPanel('help', true)}><Icon name="keyboard" /></button>
        <button className="btn icon-btn" aria-label="Toggle theme" aria-pressed={theme === 'dark'} title={theme === 'dark' ? 'Switch to the light theme' : 'Switch to the dark theme'} onClick={() => useView.getState().setTheme(theme === 'dark' ? 'light' : 'dark')}><Icon name={theme === 'dark' ? 'sun' : 'moon'} /></button>
      </div>
    </header>
  );
}
