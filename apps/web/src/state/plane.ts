/**
 * Points and sizes on the canvas plane: plain shapes the view store keeps (saved
 * positions, measured node sizes) without depending on how the canvas is derived.
 */

/** A point on the canvas. */
export interface XY { x: number; y: number }

/** A measured size. */
export interface Size { width: number; height: number }
