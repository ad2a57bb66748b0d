/**
 * The canvas as a picture (SVG or PNG) of the whole lab, not just what is in view, in the
 * current theme's colours. The SVG is drawn in vector shapes from what the canvas shows:
 * a rectangle for every box with a background or a border (namespaces, bridges, badges,
 * state dots), a text element for every run of text, and the links' own paths, so it stays
 * small and sharp on a projector and in a document. While it is drawn the nodes show every
 * route and firewall rule in full (the `exporting` class), not "2 firewall rules". The PNG
 * is that SVG rasterised, so both pictures always agree.
 */
import type { ReactFlowInstance } from '@xyflow/react';
import { saveAs } from '../editing/files';

/** Margin around the lab in the picture (flow units), and the largest PNG side (px). */
const MARGIN = 24;
const MAX_PNG_SIDE = 4096;
/** PNG pixels per flow unit: sharp on a projector, within MAX_PNG_SIDE. */
const PNG_SCALE = 2;

/** A rectangle in flow coordinates. */
interface Box { x: number; y: number; width: number; height: number }

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (n: number) => String(Math.round(n * 100) / 100);
const visible = (color: string) => color !== '' && color !== 'transparent' && !/rgba\([^)]*,\s*0\)$/.test(color);

type ToFlow = ReactFlowInstance['screenToFlowPosition'];

/**
 * A computed colour as SVG 1.1 readers take it: browsers compute `color-mix()` and
 * relative colours to `color(srgb r g b / a)`, which Inkscape and older viewers ignore.
 */
export function paint(color: string): string {
  const m = /^color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)(?: \/ ([\d.e-]+))?\)$/.exec(color);
  if (!m) return color;
  const c = (v: string | undefined) => Math.round(Math.min(1, Math.max(0, Number(v))) * 255);
  return `rgba(${c(m[1])}, ${c(m[2])}, ${c(m[3])}, ${m[4] ?? 1})`;
}

/** A text node's lines as laid out on screen (a wrapped run of text is several), with their boxes. */
function textLines(node: ChildNode): { text: string; rect: DOMRect }[] {
  const content = node.textContent ?? '';
  if (!content.trim()) return [];
  const range = document.createRange();
  range.selectNodeContents(node);
  const rects = range.getClientRects();
  if (rects.length <= 1) {
    const rect = range.getBoundingClientRect();
    return rect.width > 0 ? [{ text: content.replace(/\s+/g, ' '), rect }] : [];
  }
  // Wrapped: group the characters by the line box they are drawn in.
  const lines: { text: string; rect: DOMRect }[] = [];
  let top = Number.NaN;
  let start = 0;
  const flush = (end: number) => {
    if (end <= start) return;
    const r = document.createRange();
    r.setStart(node, start);
    r.setEnd(node, end);
    const text = content.slice(start, end).replace(/\s+/g, ' ').trim();
    const rect = r.getBoundingClientRect();
    if (text && rect.width > 0) lines.push({ text, rect });
  };
  for (let i = 0; i < content.length; i += 1) {
    range.setStart(node, i);
    range.setEnd(node, i + 1);
    const t = range.getBoundingClientRect().top;
    if (Number.isNaN(top)) top = t;
    else if (Math.abs(t - top) > 2 && content[i]?.trim()) {
      flush(i);
      start = i;
      top = t;
    }
  }
  flush(content.length);
  return lines;
}

/** A DOM rectangle (screen pixels) in flow coordinates. */
function flowBox(rect: DOMRect, toFlow: ToFlow): Box {
  const a = toFlow({ x: rect.left, y: rect.top }, { snapToGrid: false });
  const b = toFlow({ x: rect.right, y: rect.bottom }, { snapToGrid: false });
  return { x: a.x, y: a.y, width: b.x - a.x, height: b.y - a.y };
}

/** Shapes for one element and its descendants: boxes first, then text on top. */
function drawElement(root: Element, toFlow: ToFlow, out: string[]): void {
  const texts: string[] = [];
  const walk = (el: Element) => {
    if (el.classList.contains('react-flow__handle')) return; // knobs are for dragging, not for pictures
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') return;
    const rect = el.getBoundingClientRect();
    if (rect.width > 0 && rect.height > 0) {
      const fill = style.backgroundColor;
      const borderWidth = parseFloat(style.borderTopWidth) || 0;
      const stroke = borderWidth > 0 ? style.borderTopColor : '';
      if (visible(fill) || (stroke && visible(stroke))) {
        const b = flowBox(rect, toFlow);
        const radius = (parseFloat(style.borderTopLeftRadius) || 0);
        out.push(`<rect x="${num(b.x)}" y="${num(b.y)}" width="${num(b.width)}" height="${num(b.height)}" rx="${num(Math.min(radius, b.height / 2))}" fill="${visible(fill) ? paint(fill) : 'none'}"${stroke && visible(stroke) ? ` stroke="${paint(stroke)}" stroke-width="${num(borderWidth)}"` : ''}${style.borderStyle === 'dashed' ? ' stroke-dasharray="4 3"' : ''}/>`);
      }
    }
    for (const child of el.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        const size = parseFloat(style.fontSize) || 12;
        for (const line of textLines(child)) {
          const b = flowBox(line.rect, toFlow);
          // The baseline sits about a fifth of the font size above the line box's bottom.
          const baseline = b.y + b.height - (b.height - size) / 2 - size * 0.22;
          texts.push(`<text x="${num(b.x)}" y="${num(baseline)}" font-size="${num(size)}" font-family="${esc(style.fontFamily)}" font-weight="${style.fontWeight}" fill="${paint(style.color)}" xml:space="preserve" textLength="${num(b.width)}" lengthAdjust="spacingAndGlyphs">${esc(line.text)}</text>`);
        }
      } else if (child instanceof SVGSVGElement) {
        // An icon: its own markup, placed where it is drawn, currentColor made explicit.
        const b = flowBox(child.getBoundingClientRect(), toFlow);
        if (b.width === 0) continue;
        const color = paint(getComputedStyle(child).color);
        const icon = child.cloneNode(true) as SVGSVGElement;
        for (const [k, v] of Object.entries({ x: b.x, y: b.y, width: b.width, height: b.height })) icon.setAttribute(k, num(v));
        icon.removeAttribute('class');
        icon.removeAttribute('aria-hidden');
        texts.push(new XMLSerializer().serializeToString(icon).replace(/currentColor/g, color));
      } else if (child instanceof Element && !(child instanceof SVGElement)) {
        walk(child);
      }
    }
  };
  walk(root);
  out.push(...texts);
}

/** The whole lab as an SVG document, drawn from the canvas on screen. Exported for tests. */
export async function labSvg(rf: ReactFlowInstance): Promise<string | undefined> {
  const pane = document.querySelector<HTMLElement>('.react-flow');
  const nodeEls = [...document.querySelectorAll<HTMLElement>('.react-flow__node')];
  if (!pane || nodeEls.length === 0) return undefined;
  pane.classList.add('exporting');
  try {
    // Let the nodes lay out their full routes and rules before they are measured.
    await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
    const toFlow: ToFlow = (p, o) => rf.screenToFlowPosition(p, o);
    const shapes: string[] = [];
    // Links first, under the nodes: the paths React Flow drew, already in flow coordinates.
    for (const path of document.querySelectorAll<SVGPathElement>('.react-flow__edge path.react-flow__edge-path')) {
      const style = getComputedStyle(path);
      const d = path.getAttribute('d');
      if (!d) continue;
      const dash = style.strokeDasharray && style.strokeDasharray !== 'none' ? ` stroke-dasharray="${style.strokeDasharray.replace(/px/g, '')}"` : '';
      shapes.push(`<path d="${esc(d)}" fill="none" stroke="${style.stroke}" stroke-width="${parseFloat(style.strokeWidth) || 1.5}"${dash}/>`);
    }
    let bounds: Box | undefined;
    for (const el of nodeEls) {
      const b = flowBox(el.getBoundingClientRect(), toFlow);
      bounds = bounds
        ? { x: Math.min(bounds.x, b.x), y: Math.min(bounds.y, b.y), width: Math.max(bounds.x + bounds.width, b.x + b.width) - Math.min(bounds.x, b.x), height: Math.max(bounds.y + bounds.height, b.y + b.height) - Math.min(bounds.y, b.y) }
        : b;
      const inner: string[] = [];
      drawElement(el.firstElementChild ?? el, toFlow, inner);
      shapes.push(`<g data-node="${esc(el.dataset.id ?? '')}">${inner.join('')}</g>`);
    }
    if (!bounds) return undefined;
    const x = bounds.x - MARGIN;
    const y = bounds.y - MARGIN;
    const width = bounds.width + 2 * MARGIN;
    const height = bounds.height + 2 * MARGIN;
    const background = getComputedStyle(document.documentElement).getPropertyValue('--canvas-bg').trim() || '#ffffff';
    return [
      `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${num(x)} ${num(y)} ${num(width)} ${num(height)}" width="${Math.ceil(width)}" height="${Math.ceil(height)}">`,
      `<rect x="${num(x)}" y="${num(y)}" width="${num(width)}" height="${num(height)}" fill="${background}"/>`,
      ...shapes,
      '</svg>',
    ].join('\n');
  } finally {
    pane.classList.remove('exporting');
  }
}

/** An SVG document rasterised to a PNG blob. */
async function rasterise(svg: string): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const scale = Math.min(PNG_SCALE, MAX_PNG_SIDE / Math.max(img.width, img.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(img.width * scale);
    canvas.height = Math.ceil(img.height * scale);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('this browser cannot draw a PNG');
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return await new Promise<Blob>((ok, fail) => canvas.toBlob((b) => (b ? ok(b) : fail(new Error('the PNG could not be made'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Draws the lab and downloads it as `<name>.svg` or `<name>.png`. */
export async function downloadImage(format: 'png' | 'svg', rf: ReactFlowInstance, name: string): Promise<void> {
  const svg = await labSvg(rf);
  if (!svg) return;
  if (format === 'svg') saveAs(`${name}.svg`, svg, 'image/svg+xml');
  else saveAs(`${name}.png`, await rasterise(svg));
}
