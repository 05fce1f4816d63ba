/** `{slot}` templates used by fallback lines and command texts. */

const SLOT = /\{([a-z_][a-z0-9_]*)\}/g;

/** The slot names a template uses. */
export function slotNames(template: string): string[] {
  return [...template.matchAll(SLOT)].map((m) => m[1]!);
}

/** Fills `{slot}` from values; unknown slots are left as they are (the config check catches them). */
export function fillSlots(template: string, values: Record<string, string | number>): string {
  return template.replace(SLOT, (whole, name: string) => (values[name] !== undefined ? String(values[name]) : whole));
}

/** Slots the engine fills itself: {summary} is what the person found so far (engine/summary.ts). */
export const BUILT_IN_SLOTS: readonly string[] = ['summary'];
