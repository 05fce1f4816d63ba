/**
 * JSON.parse with a syntax error a person can act on: the line and column of the
 * first bad character. Node 20's messages give "at position 1017" at best, and
 * for an unexpected token only a snippet of the text, so the position is found
 * here with a small scanner of the JSON grammar (run only after JSON.parse failed).
 */

export type JsonText = { ok: true; value: unknown } | { ok: false; line: number; column: number; message: string };

export function parseJsonText(text: string): JsonText {
  // An editor's byte order mark is invisible in the editor and not JSON.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch (err) {
    const raw = (err as Error).message;
    const at = firstError(body) ?? Number(/at position (\d+)/.exec(raw)?.[1] ?? body.length);
    const { line, column } = lineColumn(body, at);
    return { ok: false, line, column, message: cleanMessage(raw) };
  }
}

/** V8's message without the position (shown as line:column instead) and without its echo of the text. */
function cleanMessage(raw: string): string {
  return raw
    .replace(/, ".*" is not valid JSON$/s, '')
    .replace(/ in JSON at position \d+( \(line \d+ column \d+\))?$/, '')
    .replace(/ after JSON at position \d+( \(line \d+ column \d+\))?$/, ' after the JSON value');
}

/** 1-based line and column of a string index. */
export function lineColumn(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, index);
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

/** Index of the first character that breaks the JSON grammar, or undefined if none is found. */
function firstError(s: string): number | undefined {
  let i = 0;
  const fail = (at = i): never => {
    throw new SyntaxAt(at);
  };
  const ws = () => {
    while (i < s.length && ' \t\n\r'.includes(s[i]!)) i++;
  };
  const digits = () => {
    const start = i;
    while (i < s.length && s[i]! >= '0' && s[i]! <= '9') i++;
    if (i === start) fail();
  };
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    for (const word of ['true', 'false', 'null']) {
      if (c === word[0]) {
        for (const ch of word) if (s[i++] !== ch) fail(i - 1);
        return;
      }
    }
    fail();
  };
  const object = () => {
    i++;
    ws();
    if (s[i] === '}') return void i++;
    for (;;) {
      ws();
      if (s[i] !== '"') fail();
      string();
      ws();
      if (s[i] !== ':') fail();
      i++;
      value();
      ws();
      if (s[i] === ',') i++;
      else if (s[i] === '}') return void i++;
      else fail();
    }
  };
  const array = () => {
    i++;
    ws();
    if (s[i] === ']') return void i++;
    for (;;) {
      value();
      ws();
      if (s[i] === ',') i++;
      else if (s[i] === ']') return void i++;
      else fail();
    }
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= s.length) fail();
      const c = s[i]!;
      if (c === '"') return void i++;
      if (c.charCodeAt(0) < 0x20) fail();
      if (c === '\\') {
        const e = s[i + 1];
        if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else if (e === 'u') {
          for (let k = 2; k < 6; k++) if (!/[0-9a-fA-F]/.test(s[i + k] ?? '')) fail(i + k);
          i += 6;
        } else fail(i + 1);
      } else i++;
    }
  };
  const number = () => {
    if (s[i] === '-') i++;
    if (s[i] === '0') i++;
    else digits();
    if (s[i] === '.') {
      i++;
      digits();
    }
    if (s[i] === 'e' || s[i] === 'E') {
      i++;
      if (s[i] === '+' || s[i] === '-') i++;
      digits();
    }
  };
  try {
    value();
    ws();
    if (i < s.length) fail();
    return undefined;
  } catch (err) {
    if (err instanceof SyntaxAt) return err.at;
    return undefined; // nested past the stack (a pathological document): fall back to V8's position
  }
}

class SyntaxAt {
  constructor(readonly at: number) {}
}
