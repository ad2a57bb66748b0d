/** The end of every exhaustive `switch` over a tagged union (STYLE.md): a variant left unhandled fails to compile. */

/** Exhaustiveness guard for tagged unions: unreachable when every variant is handled; throws naming the stray value if one arrives anyway. */
export function assertNever(x: never): never {
  throw new Error(`unexpected variant: ${JSON.stringify(x)}`);
}
