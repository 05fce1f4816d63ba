/**
 * The flood for the edge bench (edge.ts forks this file; it is not run by hand):
 * `connections` raw TCP connections, each sending one oversized request after
 * another as fast as loopback takes them, one request per connection. Raw
 * sockets, not fetch, so the end of each request is seen exactly: the status
 * line if one arrived, then a clean close or a reset. Like an attacker, a
 * connection keeps writing its body after the refusal until the server cuts it.
 *
 *   unsigned   Content-Length `bytes`, no signature headers (refused on the headers: 401)
 *   oversized  signed (v0 HMAC-SHA256 of the body, current timestamp); every other
 *              request declares its length (refused on the headers: 413), the rest are
 *              chunked with no length (64 KiB chunks to at least `bytes`), so the edge
 *              reads up to its limit before it can refuse (413)
 *
 * Messages: child -> parent `{ ready: true }`, then on `'stop'` the counts; the
 * sockets still open then are destroyed and counted as cut, and the process exits.
 */
import { createHmac } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface FloodCounts {
  mode: string;
  /** Requests that ended before the stop. */
  requests: number;
  /** By the first status line received (or `none`), then how the connection ended. */
  outcomes: Record<string, number>;
  /** Bytes the flood got into the kernel (all requests, the cut ones too). */
  bytesSent: number;
  seconds: number;
  /** In flight at the stop, destroyed by the flood itself. */
  cut: number;
}

const [port, mode, connections, bytes, secret] = [Number(process.argv[2]), process.argv[3] as 'unsigned' | 'oversized', Number(process.argv[4]), Number(process.argv[5]), process.argv[6] ?? ''];
const CHUNK = 64 * 1024;

// One body for every request (written by reference, never copied); for `oversized` signed once.
const body = Buffer.alloc(bytes, 'x');
body.write('{"pad":"', 0);
body.write('"}', bytes - 2);
const stamp = Math.floor(Date.now() / 1000);
const signature = `v0=${createHmac('sha256', secret).update(`v0:${stamp}:`).update(body).digest('hex')}`;
const chunkFrame = Buffer.concat([Buffer.from(`${CHUNK.toString(16)}\r\n`), body.subarray(0, CHUNK), Buffer.from('\r\n')]);

function head(chunked: boolean): string {
  const lines = ['POST /slack/events HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Content-Type: application/json'];
  if (mode === 'oversized') lines.push(`X-Slack-Request-Timestamp: ${stamp}`, `X-Slack-Signature: ${signature}`);
  lines.push(chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${bytes}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

const outcomes: Record<string, number> = {};
const open = new Set<Socket>();
let requests = 0;
/** Bytes handed to the kernel (a write's callback without error): what the flood actually sent. */
let flushed = 0;
let stopping = false;
let seq = 0;

/** One request on a fresh connection; resolves when the connection is gone. */
function request(chunked: boolean): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    open.add(socket);
    let status = 'none';
    let seen = '';
    let error: string | undefined;
    socket.setNoDelay(true);
    let sent = 0;
    /** Writes the body in 64 KiB pieces as the socket drains, until it is all out or the socket is gone. */
    const pump = () => {
      while (!socket.destroyed && sent < bytes) {
        const piece = chunked ? chunkFrame : body.subarray(sent, sent + CHUNK);
        sent += CHUNK;
        const more = socket.write(piece, (err) => void (err || (flushed += piece.length)));
        if (sent >= bytes && chunked) socket.write('0\r\n\r\n');
        if (!more) return void socket.once('drain', pump);
      }
    };
    socket.on('connect', () => {
      socket.write(head(chunked));
      pump();
    });
    socket.on('data', (d: Buffer) => {
      if (status !== 'none' || seen.length > 64) return;
      seen += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(seen);
      if (m) status = m[1]!;
    });
    socket.on('error', (err: NodeJS.ErrnoException) => void (error = err.code ?? 'error'));
    socket.on('close', () => {
      open.delete(socket);
      if (!stopping) {
        requests++;
        const end = error === undefined ? 'closed' : error === 'ECONNRESET' || error === 'EPIPE' ? 'reset' : error;
        const key = `${status} ${end}`;
        outcomes[key] = (outcomes[key] ?? 0) + 1;
      }
      resolve();
    });
  });
}

const started = performance.now();
const workers = Array.from({ length: connections }, async () => {
  while (!stopping) await request(mode === 'oversized' && seq++ % 2 === 1);
});

process.on('message', (msg) => {
  if (msg !== 'stop') return;
  stopping = true;
  const seconds = (performance.now() - started) / 1000;
  const cut = open.size;
  for (const s of open) s.destroy();
  void Promise.all(workers).then(() => {
    const counts: FloodCounts = { mode, requests, outcomes, bytesSent: flushed, seconds, cut };
    process.send!(counts, () => process.exit(0));
  });
});
process.on('disconnect', () => process.exit(0)); // the bench is gone: so is the flood
process.send!({ ready: true });
