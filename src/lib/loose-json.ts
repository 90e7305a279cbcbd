/**
 * Reading values out of JSON that a language model wrote: the extraction answer and the generated
 * passport text. Models bend types ("80 %" for 80), so each reader takes what is meant and refuses the rest.
 */

/** A JSON object (not an array, not null). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A finite number, or a string that is only a number (a trailing % allowed). */
export function looseNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^\s*-?\d+(?:\.\d+)?\s*%?\s*$/.test(v)) return Number.parseFloat(v);
  return undefined;
}
