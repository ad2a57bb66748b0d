/** The composition root of `nslab serve` (the live server lands here). */

/** Starts the server; resolves with the exit status when it stops. */
export async function serve(_args: string[]): Promise<number> {
  console.error('nslab serve: not built yet');
  return 1;
}
