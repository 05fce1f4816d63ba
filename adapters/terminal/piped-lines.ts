/**
 * The messages of piped input: one per line, a line ending being `\n` or `\r\n`. Unlike
 * readline, a bare `\r` does not end a line: it stays in the message (the engine reads it as
 * a space), so text with old Mac line endings or a progress line is not cut into messages.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

export async function* pipedLines(input: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let buffered = '';
  for await (const chunk of input) {
    buffered += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      yield stripCr(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  }
  buffered += decoder.end();
  if (buffered) yield stripCr(buffered); // a last line without its newline is still a message
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
