/**
 * What the user has selected, kept by the view store and read by every feature
 * that highlights or inspects it (canvas, inspector, containers, packets).
 */

/** What is selected: a namespace, a link (by its key), or nothing. */
export type Selection =
  | { kind: 'node'; node: string; interface?: string }
  | { kind: 'link'; key: string }
  | undefined;
