/**
 * The pattern classifier: every phrase in input_classification_patterns.json
 * (and every slot cue) compiled once into one PhraseMatcher at start-up; one
 * scan per message gives every label with its spans, the computed labels
 * (silence, rambling) and the slot values.
 */
import type { ClassificationConfig } from '../config/schemas.js';
import { PhraseMatcher, type Match, type PatternSpec } from './matcher.js';
import { extractSlot, slotCueTag } from './slots.js';

/** A label found in the message and where. */
export interface LabelMatch {
  label: string;
  /** The config phrase that matched. */
  phrase: string;
  start: number;
  end: number;
}

export interface Classification {
  /** Every label that matched, in order of first appearance (computed labels last). */
  labels: string[];
  /** Each label match with its span in the original text. */
  matches: LabelMatch[];
  /** Slot values taken from this message (only the ones found). */
  slots: Record<string, string>;
  wordCount: number;
}

/** Matcher groups: labels suppress contained labels; cues are suppressed by labels and cues. */
const LABEL_GROUP = 0;
const CUE_GROUP = 1;

/** A label that is the cue and then only "my" or "I" ("when my" after the cue "when"). */
function pronounAfter(label: Match, cue: Match): boolean {
  if (label.start !== cue.start || !label.phrase.startsWith(`${cue.phrase} `)) return false;
  return /^(my|i|im|ive|id)$/.test(label.phrase.slice(cue.phrase.length + 1));
}

export class Classifier {
  private readonly matcher: PhraseMatcher;

  constructor(private readonly config: ClassificationConfig) {
    const specs: PatternSpec[] = [];
    for (const [label, phrases] of Object.entries(config.situation_classifications)) {
      for (const phrase of phrases) specs.push({ phrase, tag: label, group: LABEL_GROUP });
    }
    for (const [slot, spec] of Object.entries(config.slots)) {
      for (const phrase of spec.after ?? []) specs.push({ phrase, tag: slotCueTag(slot), group: CUE_GROUP });
    }
    this.matcher = new PhraseMatcher(specs);
  }

  /** Number of phrases compiled (labels and slot cues). */
  get patternCount(): number {
    return this.matcher.size;
  }

  /** Every label defined in config, including computed ones. */
  get labelNames(): string[] {
    return [...Object.keys(this.config.situation_classifications), ...Object.keys(this.config.computed)];
  }

  classify(text: string): Classification {
    const { matches: raw, wordCount } = this.matcher.scan(text);
    // A cue inside a longer label ("want to feel" inside "don't want to feel", "when" inside
    // "when I was") is not a cue; one a label only continues with a pronoun ("when" of "when my")
    // still is.
    const all = raw.filter(
      (m) =>
        m.group === LABEL_GROUP ||
        !raw.some((o) => o.group === LABEL_GROUP && o.start <= m.start && o.end >= m.end && o.end - o.start > m.end - m.start && !pronounAfter(o, m)),
    );
    const matches: LabelMatch[] = [];
    const labels: string[] = [];
    for (const m of all) {
      if (m.group !== LABEL_GROUP) continue;
      matches.push({ label: m.tag, phrase: m.phrase, start: m.start, end: m.end });
      if (!labels.includes(m.tag)) labels.push(m.tag);
    }
    const { silence, rambling } = this.config.computed;
    if (silence && wordCount <= silence.max_words && !labels.includes('silence')) labels.push('silence');
    if (rambling && wordCount >= rambling.min_words) labels.push('rambling');
    return { labels, matches, slots: this.slots(text, all), wordCount };
  }

  private slots(text: string, matches: Match[]): Record<string, string> {
    const out: Record<string, string> = {};
    if (matches.length === 0) return out;
    for (const [name, spec] of Object.entries(this.config.slots)) {
      // "when I was made redundant" is a memory, not what sets the pattern off.
      if (spec.unless.length > 0 && matches.some((m) => m.group === LABEL_GROUP && spec.unless.includes(m.tag))) continue;
      const value = extractSlot(name, spec, text, matches);
      if (value) out[name] = value;
    }
    return out;
  }
}
