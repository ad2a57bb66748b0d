/**
 * The page: top bar; palette, canvas and inspector side by side; the dock
 * (terminals, packets, ping trace, command log) under the canvas. In presentation
 * mode the top bar, palette and inspector are hidden and the lab guide (or the
 * lesson) stands beside the canvas in large type. Overlays (the
 * view switch, the container view, packets and marks, empty state, plan, search,
 * problems) sit on the canvas.
 */
import { useEffect } from 'react';
import { ReactFlowProvider } from '@xyflow/react';
import { useShortcuts } from './shortcuts';
import { useView } from '../state/view';
import { Canvas } from '../canvas/Canvas';
import { CanvasOverlay } from '../canvas/CanvasOverlay';
import { ContainerView } from '../containers/ContainerView';
import { Dock } from './Dock';
import { EmptyState } from './EmptyState';
import { FileDrop } from '../editing/FileDrop';
import { Inspector } from '../inspector/Inspector';
import { NodeMenu } from '../canvas/NodeActions';
import { Palette } from '../editing/Palette';
import { PlanDialog } from '../editing/PlanDialog';
import { ProblemBanner } from '../editing/ProblemBanner';
import { SearchBox } from '../canvas/SearchBox';
import { ShortcutsHelp } from './ShortcutsHelp';
import { TopBar } from './TopBar';
import { ViewSwitch } from './ViewSwitch';
import { useDock } from './store';
import { LessonPanel } from '../lessons/LessonPanel';
import { LabGuide } from '../inspector/LabGuide';
import { Icon } from '../ui/Icons';
import { useLiveView } from '../liveview/store';
import { ClassView } from '../classroom/ClassView';

/** The whole app. */
export function App() {
  const theme = useView((s) => s.theme);
  const labView = useDock((s) => s.view);
  const presenting = useView((s) => s.panels.present);
  const lessonOpen = useView((s) => s.panels.lesson);
  // The canvas gains the room the chrome leaves (or gives it back): fit the lab into it.
  useEffect(() => {
    requestAnimationFrame(() => useView.getState().requestFit());
  }, [presenting]);
  // A live view shows the lab and offers nothing that changes it.
  const viewer = useLiveView((s) => s.viewer !== undefined);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.documentElement.style.colorScheme = theme;
  }, [theme]);
  useShortcuts();
  return (
    <ReactFlowProvider>
      <div className={`app${presenting ? ' presenting' : ''}${viewer ? ' read-only' : ''}`}>
        <TopBar />
        {viewer ? null : <Palette />}
        <main className="stage">
          <Canvas />
          <CanvasOverlay />
          {labView === 'containers' ? <ContainerView /> : null}
          <ViewSwitch />
          {viewer ? null : <EmptyState />}
          <SearchBox />
          <ProblemBanner />
          {viewer ? null : <PlanDialog />}
          {presenting ? (
            <button className="btn present-exit" aria-label="Leave presentation" title="Leave presentation mode (Escape or P)" onClick={() => useView.getState().setPanel('present', false)}><Icon name="close" size={14} />Leave presentation</button>
          ) : null}
        </main>
        <Inspector />
        {presenting && !lessonOpen ? <aside className="present-side" aria-label="Guide"><LabGuide /></aside> : null}
        <LessonPanel />
        <Dock />
        {viewer ? null : <ClassView />}
      </div>
      {viewer ? null : <NodeMenu />}
      <ShortcutsHelp />
      {viewer ? null : <FileDrop />}
    </ReactFlowProvider>
  );
}
