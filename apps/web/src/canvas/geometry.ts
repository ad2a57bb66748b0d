/**
 * The size of a namespace node on the canvas, known before the browser measures it:
 * the layout needs sizes up front, and an edge picks the side of a node its port
 * faces from the node's centre. The numbers are the CSS ones in styles.css
 * (.ns-node width, row heights); change both together.
 */

/** Width of every namespace node, in canvas pixels (styles.css: .ns-node). */
export const NODE_WIDTH = 248;
/** The node header: name and badges (styles.css: .ns-header). */
export const HEADER_HEIGHT = 38;
/** One interface row (styles.css: .port). */
export const ROW_HEIGHT = 26;
/** A bridge box's title row plus its border and margins (styles.css: .bridge). */
export const BRIDGE_CHROME = 38;
/** The node's bottom padding and the line of route/NAT facts (styles.css: .ns-facts). */
export const FOOTER_HEIGHT = 26;

/** An estimate of a node's height from what it lists. */
export function nodeHeight(ports: number, bridges: readonly number[], facts: boolean): number {
  const bridgeHeight = bridges.reduce((sum, members) => sum + BRIDGE_CHROME + Math.max(1, members) * ROW_HEIGHT, 0);
  return HEADER_HEIGHT + Math.max(ports === 0 && bridges.length === 0 ? 1 : 0, ports) * ROW_HEIGHT + bridgeHeight + (facts ? FOOTER_HEIGHT : 8);
}
