/**
 * The page: top bar; palette, canvas and inspector side by side; the dock
 * (terminals, packets, ping trace, command log) under the canvas. Overlays (the
 * view switch, the container view, packets and marks, empty state, plan, search,
 * problems) sit on the canvas.
 */
import { useEffect } from 'react';
import { ReactFlowProvider } from '@xyflow/react';
import { useShortcuts } from './shortcuts';
import { useView } from './store/view';
import { Canvas } from './components/Canvas';
import { CanvasOverlay } from './components/CanvasOverlay';
import { ContainerView } from './components/ContainerView';
import { Dock } from './components/Dock';
import { EmptyState } from './components/EmptyState';
import { FileDrop } from './components/FileDrop';
import { Inspector } from './components/Inspector';
import { NodeMenu } from './components/NodeActions';
import { Palette } from './components/Palette';
import { PlanDialog } from './components/PlanDialog';
import { ProblemBanner } from './components/ProblemBanner';
import { SearchBox } from './components/SearchBox';
import { ShortcutsHelp } from './components/ShortcutsHelp';
import { TopBar } from './components/TopBar';
import { ViewSwitch } from './components/ViewSwitch';
import { useDock } from './store/dock';
import { LessonPanel } from './lessons/LessonPanel';

/** The whole app. */
export function App() {
  const theme = useView((s) => s.theme);
  const labView = useDock((s) => s.view);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.documentElement.style.colorScheme = theme;
  }, [theme]);
  useShortcuts();
  return (
    <ReactFlowProvider>
      <div className="app">
        <TopBar />
        <Palette />
        <main className="stage">
          <Canvas />
          <CanvasOverlay />
          {labView === 'containers' ? <ContainerView /> : null}
          <ViewSwitch />
          <EmptyState />
          <SearchBox />
          <ProblemBanner />
          <PlanDialog />
        </main>
        <Inspector />
        <LessonPanel />
        <Dock />
      </div>
      <NodeMenu />
      <ShortcutsHelp />
      <FileDrop />
    </ReactFlowProvider>
  );
}
