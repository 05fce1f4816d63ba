/** Input hygiene, before a message reaches any other step. */
import { stripVTControlCharacters } from 'node:util';

// C0/C1 control characters except tab and newline, plus invisible characters that
// can hide a word from a pattern: soft hyphen, combining grapheme joiner, Arabic
// letter mark, Mongolian vowel separator, zero-width and bidi controls, BOM.
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u034F\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

/**
 * Strips terminal escape sequences whole (a pasted "calm\x1b[0m" is "calm", not "calm[0m":
 * stripping only the ESC left the rest), then control characters; a line ending is a newline
 * and a bare carriage return is a space (text pasted from an old editor or a progress line is
 * one message, not several).
 */
export function sanitize(text: string): string {
  return stripVTControlCharacters(text).replace(/\r\n/g, '\n').replace(/\r/g, ' ').replace(CONTROL, '');
}

/** True when nothing is left to read. */
export function isBlank(text: string): boolean {
  return text.trim().length === 0;
}

export type ChatCommand = 'help' | 'reset' | 'status' | 'forget' | 'summary' | 'breathe' | 'human' | 'settings' | 'stop';

const COMMAND = /^[/!]?(help|reset|status|forget|summary|breathe|human|stop)[.!?]*$/i;
/** `settings`, alone or with what to change (`settings country AU`): engine/settings.ts reads the rest. */
const SETTINGS = /^[/!]?settings(?:\s+[\w:./+-]+){0,3}[.!?]*$/i;
/** Asking for a person in so many words, as the whole message: the `human` command. */
const ASK_FOR_HUMAN =
  /^(?:(?:please|hi|hey|hello)[,!]?\s+)?(?:(?:can|could|may) i\s+|i(?:'?d| would) like to\s+|i want to\s+|i need to\s+|let me\s+)?(?:talk|speak|chat) (?:to|with) (?:a |an |some )?(?:real |actual )?(?:person|human|human being|someone real)(?: please)?[.!?]*$/i;

/** The command a whole message names ("help", "/reset", "Status?", "I'd like to talk to a person"), or null. */
export function parseCommand(text: string): ChatCommand | null {
  const t = text.trim();
  const m = COMMAND.exec(t);
  if (m) return m[1]!.toLowerCase() as ChatCommand;
  if (SETTINGS.test(t)) return 'settings';
  return ASK_FOR_HUMAN.test(t.replace(/[’‘]/g, "'")) ? 'human' : null;
}

const CONFIRM = /^(yes|y|yes please|confirm|i confirm|forget|forget me|do it|yes,? forget( me)?|yes,? erase( it| everything)?)[.!]*$/i;

/** True when the message confirms a pending `forget`. */
export function isConfirmation(text: string): boolean {
  return CONFIRM.test(text.trim());
}

/**
 * What a raw message is, as the engine will read it: a command, the "yes" that may confirm a
 * pending `forget`, or anything else. (Whether it is a risk statement is the crisis check's
 * to say.) The turn runner asks this to exempt commands from rate limits, instead of parsing
 * the command grammar again.
 */
export function messageKind(raw: string): 'command' | 'confirmation' | 'message' {
  const text = sanitize(raw);
  return parseCommand(text) !== null ? 'command' : isConfirmation(text) ? 'confirmation' : 'message';
}
