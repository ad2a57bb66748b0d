/**
 * The canvas highlight as a hook: reads the stores it depends on (selection,
 * focused terminal, selected packet, shown trace) narrowly and derives the
 * highlight with `highlightOf`, recomputing only when one of them really changed
 * (packet rows arrive ten times a second; the sightings of the selected packet
 * rarely change).
 */
import { useMemo } from 'react';
import { sightingsOf } from '../packets/match';
import { useLab } from '../state/lab';
import { usePackets } from '../packets/store';
import { useTerminals } from '../terminals/store';
import { useTrace } from '../trace/store';
import { useView } from '../state/view';
import { useDock } from '../shell/store';
import type { Highlight, Sighting } from './highlight';
import { highlightOf } from './highlight';
import { traceView } from '../trace/trace-view';

/** The sightings of the selected packet, as a string that changes only when they do. */
function useSightingsKey(): string {
  return usePackets((s) => {
    if (s.selected === undefined) return '';
    const selected = s.rows.find((r) => r.seq === s.selected);
    return sightingsOf(s.rows, selected).map((r) => `${r.event.node}\t${r.event.interface}\t${r.event.direction ?? ''}`).join('\n');
  });
}

/** The highlight of the canvas now. */
export function useHighlight(): Highlight {
  const topology = useLab((s) => s.topology);
  const selection = useView((s) => s.selection);
  const terminalNode = useTerminals((s) => (s.focused ? s.tabs.find((t) => t.id === s.focused)?.node : undefined));
  const sightingsKey = useSightingsKey();
  // The trace's path is drawn while its tab is in front: leaving the tab leaves the canvas clean.
  const traceInFront = useDock((s) => s.open && s.tab === 'trace');
  const result = useTrace((s) => (s.shown && traceInFront ? s.result : undefined));
  const links = topology?.links;
  const trace = useMemo(() => (result && links ? traceView(result, links) : undefined), [result, links]);
  const sightings = useMemo<Sighting[]>(() => (sightingsKey === '' ? [] : sightingsKey.split('\n').map((line) => {
    const [node = '', iface = '', dir = ''] = line.split('\t');
    return { node, interface: iface, direction: dir === 'in' || dir === 'out' ? dir : null };
  })), [sightingsKey]);
  return useMemo(() => highlightOf({ topology, selection, terminalNode, sightings, trace }), [topology, selection, terminalNode, sightings, trace]);
}
