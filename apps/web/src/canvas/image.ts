/**
 * The canvas as a picture (PNG or SVG) of the whole lab, not just what is in view:
 * the nodes' bounds are fitted into the image, in the current theme's colours.
 * html-to-image is pinned at 1.11.11, the version React Flow's own example uses
 * (later ones export blank images, per that example's note).
 */
import { toPng, toSvg } from 'html-to-image';
import { getNodesBounds, getViewportForBounds } from '@xyflow/react';
import type { Node } from '@xyflow/react';
import { saveAs } from '../editing/files';

/** Margin around the lab in the picture, and the largest picture we make (px). */
const PADDING = 0.08;
const MAX_SIDE = 4096;

/** Renders the lab's nodes to an image and downloads it. */
export async function downloadImage(format: 'png' | 'svg', nodes: Node[], name: string): Promise<void> {
  const viewport = document.querySelector<HTMLElement>('.react-flow__viewport');
  if (!viewport || nodes.length === 0) return;
  const bounds = getNodesBounds(nodes);
  const scale = Math.min(1.5, MAX_SIDE / Math.max(bounds.width, bounds.height));
  const width = Math.ceil(bounds.width * scale * (1 + 2 * PADDING));
  const height = Math.ceil(bounds.height * scale * (1 + 2 * PADDING));
  const t = getViewportForBounds(bounds, width, height, 0.05, 2, PADDING);
  const background = getComputedStyle(document.documentElement).getPropertyValue('--canvas-bg').trim() || '#ffffff';
  const options = {
    backgroundColor: background,
    width,
    height,
    style: { width: `${width}px`, height: `${height}px`, transform: `translate(${t.x}px, ${t.y}px) scale(${t.zoom})` },
    // Handles are for dragging, not for pictures.
    filter: (el: HTMLElement) => !(el.classList?.contains('connect-handle')),
  };
  const url = format === 'png' ? await toPng(viewport, { ...options, pixelRatio: 1 }) : await toSvg(viewport, options);
  saveAs(`${name}.${format}`, url);
}
