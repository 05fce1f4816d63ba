/**
 * The conversation itself, for one turn: classify -> navigate -> retrieve ->
 * respond, under the turn's config variant. The responder may judge criteria
 * (an LLM); the navigator decides with its judgement, and a text written for
 * another step is never sent. Commands, safety and storage are the engine's.
 */
import type { Decision } from '../navigator/navigator.js';
import type { TurnVariant } from '../overrides/variant.js';
import type { RetrievedExample, Retriever } from '../rag/retriever.js';
import type { Judged, ReplyLength, Responder, ResponderInput, StepPlan } from '../responder/responder.js';
import type { HistoryEntry } from '../session/store.js';
import { isCleanSlot } from '../classifier/slots.js';
import { fillSlots, slotNames } from '../text/template.js';
import { errorCode } from '../util/error-code.js';
import type { Logger } from '../util/logger.js';
import type { RiskOpinionResult } from '../safety/opinion.js';
import type { SessionState } from './session-state.js';
import { rememberLine, recentLines } from './recent-lines.js';
import { stepPlan } from './step-plan.js';
import { summarySentence } from './summary.js';
import type { Step, TurnInput } from './types.js';

export interface ConversationDeps {
  retriever: Retriever;
  /** The session's last `limit` history entries (read only when the responder wants context). */
  history: (limit: number) => Promise<HistoryEntry[]>;
  logger: Logger;
  /** Examples retrieved per category. */
  k: number;
}

export interface ConversationTurn {
  input: TurnInput;
  text: string;
  state: SessionState;
  variant: TurnVariant;
  /** The responder for this turn (the variant's flags may choose the offline one). */
  responder: Responder;
  /** Shows the reply so far (streaming), framed like the final reply. */
  show?: ((replySoFar: string) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Moderation's opinion, running since the turn began: awaited before any reply is shown. */
  opinion?: Promise<RiskOpinionResult> | undefined;
  /** The person's reply length (`settings replies`); default normal. */
  replyLength?: ReplyLength | undefined;
}

/** The step for an ordinary message; 'risk' when the responder saw a risk the crisis check missed. */
export async function conversationStep(deps: ConversationDeps, t: ConversationTurn): Promise<Step | 'risk'> {
  const { input, text, state, variant: v, responder } = t;
  const { logger } = deps;
  const responses = v.config.responses;
  const classification = v.classifier.classify(text);
  // The navigator decides, and says which of the message's words become slots (clean phrases
  // for the facts it stated); a responder that judges criteria (an LLM) may only pick one of its choices.
  const decide = (judged?: Judged) => v.navigator.navigate({ state: state.nav, classification, slots: state.slots, text, signals: judged?.criteria, quotes: judged?.quotes });
  const base = decide();
  // What the navigator does when a responder judges criteria met as well (those the matcher found stay met).
  const judge = (j: Judged) => (j.criteria.length === 0 ? base : decide({ criteria: [...base.criteriaMet, ...j.criteria], quotes: j.quotes }));
  const slots = { ...state.slots, ...base.captured };
  const plan = responder.judgesCriteria ? stepPlan(v.navigator, state.nav, base, judge, slots) : undefined;
  const byCategory = await examples(deps, responder, input.sessionId, text, base, plan);
  const historyWindow = responder.historyWindow ?? 0;
  // A history that cannot be read (a damaged entry, a retired key) costs the context, not the turn.
  const history =
    historyWindow > 0
      ? await deps.history(historyWindow).catch((err: unknown) => {
          logger.warn({ sessionId: input.sessionId, err: errorCode(err) }, 'history unreadable; replying without it');
          return [];
        })
      : [];
  // The reply around the line: moving on after the cap, and the questions skipped because the
  // person answered them earlier ("You mentioned your chest already.").
  const withCap = (d: Decision, line: string) => {
    const said = { ...slots, ...d.captured };
    const lead = [d.capReached ? responses.system.cap_move_on : '', ...acknowledgements(responses, d.acknowledged, said, line)].filter(Boolean);
    return lead.length > 0 ? `${lead.join(' ')} ${line}` : line;
  };
  const show = t.opinion && t.show ? gated(t.show, t.opinion) : t.show;
  const respondInput: ResponderInput = {
    sessionId: input.sessionId,
    action: base.action,
    substate: base.substate,
    // {summary}: what the person found, for the line that ends a stage.
    slots: v.offline.quotes(base.action, 'summary') ? { ...slots, summary: summarySentence(responses, { ...state, slots, facts: [...state.facts, ...base.criteriaMet, ...base.ahead] }) } : slots,
    examples: byCategory.get(base.ragCategory) ?? [],
    recentLines: recentLines(state),
    turn: state.turns,
    text,
    classification,
    history,
    signal: t.signal,
    llm: v.config.llm,
    replyLength: t.replyLength,
    ...(plan ? { plan: { ...plan, examples: byCategory } } : {}),
    ...(show ? { onText: (line: string, judged: Judged) => show(withCap(judge(judged), line)) } : {}),
  };
  let decision = base;
  let line: string;
  try {
    const out = await responder.respond(respondInput);
    if (out.risk) {
      logger.warn({ sessionId: input.sessionId }, 'responder flagged a risk the crisis check missed');
      return 'risk';
    }
    line = out.text;
    if (out.criteriaMet?.length) decision = judge({ criteria: out.criteriaMet, quotes: out.quotes ?? {} });
    if (decision.action !== (out.action ?? base.action)) {
      // A text written for another step than the navigator's: not sent (the responder should have caught it).
      logger.warn({ sessionId: input.sessionId, action: decision.action }, 'responder wrote for another step; using the offline line');
      decision = base;
      line = v.offline.line(respondInput);
    }
  } catch (err) {
    // The person always gets a reply: the offline line stands in for a failed responder.
    logger.warn({ sessionId: input.sessionId, err: errorCode(err) }, 'responder failed; using the offline line');
    line = v.offline.line(respondInput);
  }
  if (t.opinion) {
    // Moderation never delays the offline check (that ran first), only the conversational reply.
    const o = await t.opinion;
    if (o.error) logger.warn({ sessionId: input.sessionId, err: o.error }, 'moderation unavailable; the offline check stands');
    if (o.flagged) {
      logger.warn({ sessionId: input.sessionId, kind: o.kind, categories: o.categories }, 'moderation flagged a risk the crisis check missed');
      return 'risk';
    }
  }
  const reply = withCap(decision, line);
  Object.assign(slots, decision.captured);
  if (decision.capReached) logger.info({ sessionId: input.sessionId, from: decision.from, to: decision.substate }, 'attempt cap reached; moving on');
  const facts = [...new Set([...state.facts, ...decision.criteriaMet, ...decision.ahead])];
  return {
    kind: 'reply',
    reply,
    state: { ...state, nav: decision.state, slots, ...rememberLine(state, line), facts },
    keepUserText: true,
    action: decision.action,
    interrupt: decision.interrupt,
  };
}

/**
 * The acknowledgement lines for questions skipped because the person answered them earlier:
 * clean slots only, and not when the reply's own line already quotes the same words.
 */
function acknowledgements(responses: TurnVariant['config']['responses'], criteria: readonly string[], slots: Record<string, string>, line: string): string[] {
  const out: string[] = [];
  for (const c of criteria) {
    const ack = responses.acknowledge[c];
    if (ack === undefined) continue;
    const names = slotNames(ack);
    if (!names.every((n) => isCleanSlot(slots[n]))) continue;
    if (names.length > 0 && names.every((n) => line.includes(slots[n]!))) continue;
    out.push(fillSlots(ack, slots));
  }
  return out.length > 2 && responses.acknowledge_many ? [responses.acknowledge_many] : out;
}

/**
 * Previews held back until moderation has answered: then the latest one is shown (and later
 * ones pass straight through), unless it flagged a risk, when none ever is.
 */
function gated(show: (text: string) => void, opinion: Promise<RiskOpinionResult>): (text: string) => void {
  let settled: RiskOpinionResult | undefined;
  let latest: string | undefined;
  void opinion.then((o) => {
    settled = o;
    if (!o.flagged && latest !== undefined) show(latest);
  });
  return (text) => {
    if (settled) {
      if (!settled.flagged) show(text);
      return;
    }
    latest = text;
  };
}

/**
 * Retrieved examples by category, when the responder would use them: the navigator's
 * step's, and with a plan every option's (one embedding). A retrieval failure costs the
 * examples, not the turn.
 */
async function examples(
  deps: ConversationDeps,
  responder: Responder,
  sessionId: string,
  text: string,
  base: Decision,
  plan: Omit<StepPlan, 'examples'> | undefined,
): Promise<Map<string | undefined, RetrievedExample[]>> {
  const out = new Map<string | undefined, RetrievedExample[]>();
  if (!(responder.usesExamples?.(base.action) ?? true)) return out;
  const categories = [...new Set([base.ragCategory, ...(plan?.choices.map((c) => c.category) ?? [])])].filter((c) => c !== undefined);
  if (categories.length === 0) return out;
  const { retriever, k } = deps;
  try {
    const found = retriever.retrieveEach
      ? await retriever.retrieveEach(text, categories, k)
      : await Promise.all(categories.map((category) => retriever.retrieve({ text, category, k })));
    categories.forEach((c, i) => out.set(c, found[i]!));
  } catch (err) {
    deps.logger.warn({ sessionId, err: errorCode(err) }, 'retrieval failed; replying without examples');
  }
  return out;
}
