/** Nesting allowed in any JSON the service accepts: far above real attribute data, far below stack limits. */
export const MAX_JSON_DEPTH = 32;

/**
 * The JSON pointer of the first value nested deeper than `maxDepth` objects/arrays, or undefined.
 * Iterative on purpose: the input may be nested thousands of levels, deeper than a recursive walk
 * (or JSON.stringify, or a validator) can go without overflowing the stack.
 */
export function tooDeepAt(value: unknown, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 0 }];
  while (stack.length) {
    const item = stack.pop()!;
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth >= maxDepth) return item.path || '/';
    const entries = Array.isArray(item.value) ? item.value.map((v, i) => [String(i), v] as const) : Object.entries(item.value);
    for (const [key, child] of entries) {
      if (child !== null && typeof child === 'object') {
        stack.push({ value: child, path: `${item.path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`, depth: item.depth + 1 });
      }
    }
  }
  return undefined;
}
