/**
 * The responder interface: turns the navigator's decision into the words the
 * person reads. The offline responder (config lines) is the default; an LLM
 * responder plugs in behind the same interface.
 */
import type { Classification } from '../classifier/classifier.js';
import type { LlmConfig } from '../config/schemas.js';
import type { RetrievedExample } from '../rag/retriever.js';
import type { HistoryEntry } from '../session/store.js';

export interface ResponderInput {
  sessionId: string;
  /** What the reply must do (from the navigator). */
  action: string;
  substate: string;
  /** Slot values known so far. */
  slots: Record<string, string>;
  examples: RetrievedExample[];
  /** Fingerprints of the session's last reply lines (engine/recent-lines.ts), oldest first, so none is repeated verbatim while another fits. */
  recentLines: readonly string[];
  /** Turn number in the session (seeds variation). */
  turn: number;
  text: string;
  classification: Classification;
  history: readonly HistoryEntry[];
  /** Where the conversation stands and what the navigator would do; given to responders that judge criteria. */
  plan?: StepPlan;
  /**
   * Streaming: called with the reply line so far (already past the reply guards) and the
   * criteria it was written for, as it is generated.
   */
  onText?: (line: string, judged: Judged) => void;
  /** Aborted when the turn is abandoned: stop generating. */
  signal?: AbortSignal | undefined;
  /** The LLM prompt config of this turn's variant (an override may change it); default: the responder's own. */
  llm?: LlmConfig | undefined;
  /** How long the reply should be: `short` (one or two sentences, `settings replies short`) or `normal` (the default). */
  replyLength?: ReplyLength | undefined;
}

/** The person's reply-length preference, as responders take it. */
export type ReplyLength = 'short' | 'normal';

/** What a responder judged the message to establish: criteria met, and the person's words for the slots they need. */
export interface Judged {
  criteria: readonly string[];
  quotes: Readonly<Record<string, string>>;
}

/** One of the navigator's possible next steps: the action it takes if the message meets `criteria`. */
export interface StepChoice {
  /** Criteria still missing that the message would have to meet (a prefix of `StepPlan.missing`). */
  criteria: string[];
  action: string;
  /** Example category for the action (retrieval). */
  category: string | undefined;
}

export interface StepPlan {
  stageTitle: string;
  substateTitle: string;
  objective: string;
  /** Criteria established in this substate so far, and those still missing, in order. */
  done: string[];
  missing: string[];
  /** The navigator's step for each prefix of `missing` (the first: none met, i.e. `action`). */
  choices: StepChoice[];
  /** Slots those criteria need that nobody knows yet, with what each holds: a responder quotes the person's words for them. */
  slots: Array<{ name: string; description: string }>;
  /** The action the navigator takes for a judgement (validates a responder's claim). */
  actionFor(judged: Judged): string;
  /** Retrieved examples by each choice's category (none when retrieval failed). */
  examples: ReadonlyMap<string | undefined, RetrievedExample[]>;
}

export interface ResponderOutput {
  text: string;
  /** Which responder produced the text (e.g. "offline", "llm"). */
  source: string;
  /**
   * Criteria the responder judged the message to meet, and the action its text was written
   * for (checked against `plan.actionFor`). Absent: it judged nothing, the text is for `action`.
   */
  criteriaMet?: string[];
  /** Slot name -> the person's words for it (checked to be in the message). */
  quotes?: Record<string, string>;
  action?: string;
  /**
   * The responder judged the message a risk statement the crisis check missed: the engine
   * gives the fixed crisis response and enters the safety state (`text` is not used).
   */
  risk?: boolean;
}

export interface Responder {
  readonly name: string;
  /** History entries the responder wants to see; 0 (the default) spares the store a read. */
  readonly historyWindow?: number;
  /** Whether retrieved examples would be used for this action; absent means always (retrieval is skipped when false). */
  usesExamples?(action: string): boolean;
  /** Wants `plan` (the navigator's choices) and reports `criteriaMet`: the engine then computes the choices. */
  readonly judgesCriteria?: boolean;
  respond(input: ResponderInput): Promise<ResponderOutput>;
}
