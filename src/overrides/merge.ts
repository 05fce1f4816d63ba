/**
 * The merge rule for overrides, documented in docs/overrides-and-analytics.md: objects merge key by
 * key, arrays and every other value replace, `null` removes the key. The base is
 * never modified.
 */
export function mergeConfig<T>(base: T, patch: unknown): T {
  if (!isObject(patch) || !isObject(base)) return (patch === undefined ? base : patch) as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isObject(value) && isObject(out[key])) out[key] = mergeConfig(out[key], value);
    else out[key] = value;
  }
  return out as T;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Paths where two JSON values differ, with both sides (for `npm run config -- diff`). */
export function diffPaths(a: unknown, b: unknown, path = '$'): Array<{ path: string; before: unknown; after: unknown }> {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffPaths(a[k], b[k], `${path}${/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`}`));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path, before: a, after: b }];
}
