/**
 * What the fake model says in the demos' `--llm` mode: for the step the navigator chose (the
 * first action the request's schema offers), one of the config's own lines for it, streamed a
 * few characters at a time after a short pause, so the placeholder, the previews and the final
 * edit can all be seen. It judges no criterion met: the matcher's reading stands.
 */
import type { EngineConfig } from '../../src/index.js';
import type { ChatRequestLog, ChatScript } from '../../test/fakes/openai-server.js';

/** Long enough for Slack's "One moment…" (700 ms) to go up before the first words. */
const THINK_MS = 900;
/** About 80 characters a second: slow enough that each throttled edit (one a second) shows a little more. */
const CHUNK_CHARS = 8;
const CHUNK_DELAY_MS = 100;

/** The actions the request's JSON schema allows (the navigator's options for this turn). */
function actionsOf(req: ChatRequestLog): string[] {
  const format = req.responseFormat as { json_schema?: { schema?: { properties?: { action?: { enum?: string[] } } } } } | undefined;
  return format?.json_schema?.schema?.properties?.action?.enum ?? [];
}

/** A line of the config for `action`, its slots (`{goal}`) filled with a neutral word. */
function lineFor(config: EngineConfig, action: string | undefined): string {
  const lines = (action ? config.responses.actions[action] : undefined) ?? [];
  const line = lines.find((l) => !l.includes('{')) ?? lines[0] ?? 'Let us take this one step at a time. What would you like to feel instead?';
  return line.replace(/\{[^}]*\}/g, 'that');
}

export function demoModel(config: EngineConfig): (req: ChatRequestLog) => ChatScript {
  return (req) => {
    const action = actionsOf(req)[0];
    const reply = `Thank you for telling me. ${lineFor(config, action)}`;
    return {
      content: JSON.stringify({ risk: false, criteria_met: [], action, reply }),
      delayMs: THINK_MS,
      chunkChars: CHUNK_CHARS,
      chunkDelayMs: CHUNK_DELAY_MS,
    };
  };
}
