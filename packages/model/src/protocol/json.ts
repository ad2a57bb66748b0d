/** The one decoder of a JSON object from wire text, for every channel of the protocol. */

/**
 * The JSON object in a text frame from a peer; undefined when the text is longer than
 * `maxLength`, is not JSON, or is not an object (an array is not one here).
 */
export function jsonObject(text: string, maxLength: number): Record<string, unknown> | undefined {
  if (text.length > maxLength) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
}
