/**
 * The live graph. React Flow draws what `derive` computes from the lab store, the
 * saved positions and the selection; the canvas keeps no copy of the lab. Gestures
 * become edits: a palette item dropped on the pane, a link dragged from a "+" knob
 * onto a namespace or a bridge box.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { DragEvent } from 'react';
import { Background, ConnectionMode, Controls, MiniMap, ReactFlow, useNodesInitialized, useReactFlow } from '@xyflow/react';
import type { EdgeChange, FinalConnectionState, NodeChange, NodeMouseHandler, EdgeMouseHandler, OnConnectStartParams } from '@xyflow/react';
import type { LinkEnd } from '../editing/allocator';
import { addFromPalette, connect } from '../editing/actions';
import { useAutoLayout } from './autolayout';
import type { Derived, LinkEdge as LinkEdgeType, NamespaceNode as NamespaceNodeType } from './derive';
import type { Size, XY } from '../state/plane';
import { createDataCache, derive, reuse } from './derive';
import type { PaletteKind } from '../editing/palette';
import { PALETTE, PALETTE_MIME } from '../editing/palette';
import { problemsByNode } from '../editing/problems';
import { useLab } from '../state/lab';
import { useOps } from '../editing/store';
import { useView } from '../state/view';
import { openTerminal } from '../terminals/terminals';
import { LinkEdge } from './LinkEdge';
import { useNodeMenu } from './NodeActions';
import { NamespaceNode } from './NamespaceNode';
import { useHighlight } from './useHighlight';
import { isViewer, useLiveView } from '../liveview/store';

/** Registered once, at module level, as React Flow asks. */
const nodeTypes = { namespace: NamespaceNode };
const edgeTypes = { link: LinkEdge };

/** Zoom limits: 0.1 shows a 300-node lab whole; 2 is enough to read a port. */
const MIN_ZOOM = 0.1;
const MAX_ZOOM = 2;

/**
 * Room kept free when the lab is fitted in view: the Kernel/Containers switch covers the
 * top-left corner (about 50 px) and the zoom buttons the bottom-left (about 40 px wide),
 * so no node is fitted under either.
 */
export const FIT_PADDING = { top: '64px', right: '24px', bottom: '24px', left: '64px' } as const;
/** How far presentation mode may zoom in when it fits the lab (the usual fit stops at 1). */
const PRESENT_MAX_ZOOM = 1.6;

/** The namespace (and bridge) under a point of the screen, read from the DOM the canvas drew. */
export function endAt(clientX: number, clientY: number): LinkEnd | undefined {
  const el = document.elementFromPoint(clientX, clientY);
  const nodeEl = el?.closest('.react-flow__node');
  const node = nodeEl?.getAttribute('data-id');
  if (!node) return undefined;
  const bridge = el?.closest('[data-bridge]')?.getAttribute('data-bridge') ?? undefined;
  return bridge ? { node, bridge } : { node };
}

function pointOf(event: MouseEvent | TouchEvent): { clientX: number; clientY: number } | undefined {
  if ('changedTouches' in event) {
    const t = event.changedTouches[0];
    return t ? { clientX: t.clientX, clientY: t.clientY } : undefined;
  }
  return { clientX: event.clientX, clientY: event.clientY };
}

const isPaletteKind = (v: string): v is PaletteKind => PALETTE.some((p) => p.kind === v);

/** The canvas. */
export function Canvas() {
  const rf = useReactFlow<NamespaceNodeType, LinkEdgeType>();
  const lab = useLab((s) => s.lab);
  const topology = useLab((s) => s.topology);
  const positions = useView((s) => s.positions);
  const selection = useView((s) => s.selection);
  const theme = useView((s) => s.theme);
  const viewer = useLiveView((s) => s.viewer !== undefined);
  const fitRequest = useView((s) => s.fitRequest);
  const problems = useOps((s) => s.problems);
  const nodeProblems = useMemo(() => problemsByNode(problems), [problems]);
  const [measured, setMeasured] = useState<Record<string, Size>>({});
  const layoutPending = useAutoLayout();

  const cache = useRef(createDataCache());
  const last = useRef<Derived>({ nodes: [], edges: [] });
  const highlight = useHighlight();
  // The one place render reads refs, on purpose: the derivation's cache and the last output are
  // what let an unchanged node keep its object (React Flow then skips it), and neither is shown.
  /* eslint-disable react-hooks/refs */
  const derived = useMemo(() => {
    const next = derive({ topology, positions, selection, problems: nodeProblems, measured, cache: cache.current, highlight });
    const out = { nodes: reuse(last.current.nodes, next.nodes), edges: reuse(last.current.edges, next.edges) };
    last.current = out;
    return out;
  }, [topology, positions, selection, nodeProblems, measured, highlight]);
  /* eslint-enable react-hooks/refs */

  // Fit the lab in view when asked (after a layout, on opening a lab), once per request,
  // as soon as the nodes are measured. Adding a node must not move the view.
  const initialized = useNodesInitialized();
  const loaded = topology !== undefined;
  const fitted = useRef(0);
  useEffect(() => {
    if (loaded) useView.getState().requestFit();
  }, [lab, loaded]);
  // A canvas that changes size (window resized, dock opened or closed, presentation mode)
  // fits the lab again, unless the user has panned or zoomed since the last fit.
  const userMoved = useRef(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    let last = { width: el.clientWidth, height: el.clientHeight };
    const observer = new ResizeObserver(() => {
      const now = { width: el.clientWidth, height: el.clientHeight };
      if (now.width === last.width && now.height === last.height) return;
      last = now;
      if (!userMoved.current && now.width > 0 && now.height > 0) useView.getState().requestFit();
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  const onMoveStart = useCallback((event: MouseEvent | TouchEvent | null) => {
    if (event) userMoved.current = true; // a programmatic move (a fit) has no event
  }, []);

  useEffect(() => {
    if (fitRequest === fitted.current || layoutPending) return;
    if (derived.nodes.length === 0) {
      // An empty lab: nothing to fit, and the first node dropped must stay where it was dropped.
      if (loaded) fitted.current = fitRequest;
      return;
    }
    if (!initialized) return;
    fitted.current = fitRequest;
    userMoved.current = false;
    // On a projector the lab may be drawn larger than life: its text is read from the back of the room.
    const maxZoom = useView.getState().panels.present ? PRESENT_MAX_ZOOM : 1;
    void rf.fitView({ padding: FIT_PADDING, maxZoom, minZoom: MIN_ZOOM });
    // Only a new request or the nodes becoming measured should refit, not every change of the lab.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [fitRequest, initialized, layoutPending, loaded]);

  const onNodesChange = useCallback((changes: NodeChange<NamespaceNodeType>[]) => {
    const moved: Record<string, XY> = {};
    let save = false;
    let sized: Record<string, Size> | undefined;
    for (const c of changes) {
      if (c.type === 'position' && c.position) {
        moved[c.id] = { x: Math.round(c.position.x), y: Math.round(c.position.y) };
        if (!c.dragging) save = true;
      } else if (c.type === 'dimensions' && c.dimensions) {
        sized ??= {};
        sized[c.id] = { width: c.dimensions.width, height: c.dimensions.height };
      } else if (c.type === 'select' && c.selected) {
        useView.getState().select({ kind: 'node', node: c.id });
      }
    }
    if (Object.keys(moved).length > 0) useView.getState().setPositions(moved, save);
    if (sized) {
      const add = sized;
      setMeasured((m) => ({ ...m, ...add }));
    }
  }, []);

  const onNodeDragStop = useCallback((_e: unknown, _n: unknown, nodes: NamespaceNodeType[]) => {
    useView.getState().setPositions(Object.fromEntries(nodes.map((n) => [n.id, { x: Math.round(n.position.x), y: Math.round(n.position.y) }])), true, true);
  }, []);

  const onEdgesChange = useCallback((changes: EdgeChange<LinkEdgeType>[]) => {
    for (const c of changes) if (c.type === 'select' && c.selected) useView.getState().select({ kind: 'link', key: c.id.replace(/^link:/, '') });
  }, []);

  const onNodeClick: NodeMouseHandler<NamespaceNodeType> = useCallback((event, node) => {
    const port = (event.target as Element | null)?.closest?.('[data-port]')?.getAttribute('data-port') ?? undefined;
    useView.getState().select(port ? { kind: 'node', node: node.id, interface: port } : { kind: 'node', node: node.id });
  }, []);

  const onEdgeClick: EdgeMouseHandler<LinkEdgeType> = useCallback((_event, edge) => {
    useView.getState().select({ kind: 'link', key: edge.id.replace(/^link:/, '') });
  }, []);

  const onPaneClick = useCallback(() => useView.getState().select(undefined), []);

  // A namespace's shell: double-click it, or its context menu.
  // A live view opens no shell and offers no menu of changes (liveview/).
  const onNodeDoubleClick: NodeMouseHandler<NamespaceNodeType> = useCallback((_event, node) => {
    if (!isViewer()) void openTerminal(node.id);
  }, []);
  const onNodeContextMenu: NodeMouseHandler<NamespaceNodeType> = useCallback((event, node) => {
    event.preventDefault();
    if (isViewer()) return;
    useNodeMenu.getState().open(node.id, event.clientX, event.clientY);
  }, []);

  const from = useRef<LinkEnd | undefined>(undefined);
  const onConnectStart = useCallback((_e: unknown, params: OnConnectStartParams) => {
    const node = params.nodeId ?? undefined;
    const handle = params.handleId ?? '';
    from.current = node ? (handle.startsWith('connect:') ? { node, bridge: handle.slice('connect:'.length) } : { node }) : undefined;
  }, []);

  const onConnectEnd = useCallback((event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    const start = from.current;
    from.current = undefined;
    if (!start || isViewer()) return;
    const point = pointOf(event);
    let to = point ? endAt(point.clientX, point.clientY) : undefined;
    if (!to && state.toNode) {
      const h = state.toHandle?.id ?? '';
      to = h.startsWith('connect:') ? { node: state.toNode.id, bridge: h.slice('connect:'.length) } : { node: state.toNode.id };
    }
    if (!to || (to.node === start.node && to.bridge === start.bridge)) return;
    connect(start, to);
  }, []);

  const onDragOver = useCallback((event: DragEvent) => {
    if (!event.dataTransfer.types.includes(PALETTE_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
  }, []);

  const onDrop = useCallback((event: DragEvent) => {
    const kind = event.dataTransfer.getData(PALETTE_MIME);
    if (!kind || !isPaletteKind(kind) || isViewer()) return;
    event.preventDefault();
    event.stopPropagation();
    const at = rf.screenToFlowPosition({ x: event.clientX, y: event.clientY });
    addFromPalette(kind, at, endAt(event.clientX, event.clientY)?.node);
  }, [rf]);

  const nodes = layoutPending ? [] : derived.nodes;
  return (
    <div className="canvas" ref={box} onDragOver={onDragOver} onDrop={onDrop} aria-label="Canvas" role="region">
      <ReactFlow<NamespaceNodeType, LinkEdgeType>
        nodes={nodes}
        edges={layoutPending ? [] : derived.edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onNodeClick={onNodeClick}
        onNodeDragStop={onNodeDragStop}
        onEdgeClick={onEdgeClick}
        onPaneClick={onPaneClick}
        onMoveStart={onMoveStart}
        onNodeDoubleClick={onNodeDoubleClick}
        onNodeContextMenu={onNodeContextMenu}
        onConnectStart={onConnectStart}
        onConnectEnd={onConnectEnd}
        isValidConnection={() => false}
        nodesConnectable={!viewer}
        connectionMode={ConnectionMode.Loose}
        connectionRadius={24}
        colorMode={theme}
        minZoom={MIN_ZOOM}
        maxZoom={MAX_ZOOM}
        deleteKeyCode={null}
        multiSelectionKeyCode={null}
        selectionKeyCode={null}
        zoomOnDoubleClick={false}
        proOptions={{ hideAttribution: false }}
      >
        <Background gap={24} size={1.2} />
        <Controls showInteractive={false} position="bottom-left" />
        <MiniMap pannable zoomable position="bottom-right" ariaLabel="Mini map" nodeBorderRadius={6} className="minimap" />
      </ReactFlow>
      {layoutPending ? <div className="canvas-note" role="status">Laying out {Object.keys(topology?.nodes ?? {}).length} namespaces…</div> : null}
    </div>
  );
}
