/**
 * Token counting with a real BPE tokenizer (gpt-tokenizer: pure JavaScript, no
 * install scripts), so a prompt's budget is measured, not guessed from
 * characters. Models outside OpenAI's families count differently; the budget's
 * margin covers that.
 */
export interface TokenCounter {
  readonly encoding: string;
  count(text: string): number;
}

/** What the chat format adds per message (role and separators), and once to prime the reply. */
export const TOKENS_PER_MESSAGE = 4;
export const TOKENS_REPLY_PRIMING = 3;

export type EncodingName = 'o200k_base' | 'cl100k_base';

/** Loads one encoding's ranks (a few MB), only when an LLM is configured. */
export async function loadTokenCounter(encoding: EncodingName): Promise<TokenCounter> {
  const mod = encoding === 'o200k_base' ? await import('gpt-tokenizer/encoding/o200k_base') : await import('gpt-tokenizer/encoding/cl100k_base');
  // Special-token text a person types ("<|endoftext|>") is counted as the plain text the API
  // also treats it as; by default the tokenizer would throw on it.
  const plain = { disallowedSpecial: new Set<string>() };
  return { encoding, count: (text) => mod.countTokens(text, plain) };
}
