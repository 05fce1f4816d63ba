/**
 * A port the test controls in front of a local server (a fake Slack, a webhook receiver), for
 * the crash tests: `forward` passes bytes both ways; `refuse` drops each new connection as it
 * comes (no request reaches the server); `hold` keeps connections open but forwards nothing more
 * the client sends, so a request is on the wire and never arrives, as when a network stalls.
 * Held bytes are dropped with their connection: a client killed while held never reached the
 * server. Switching back to `forward` lets held bytes through.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type GateMode = 'forward' | 'refuse' | 'hold';

export interface TcpGate {
  /** The target's URL with the gate's port. */
  readonly url: string;
  mode: GateMode;
  /** Connections refused so far. */
  readonly dropped: number;
  /** What clients sent while held (not forwarded), as text. */
  readonly held: string;
  close(): Promise<void>;
}

export async function tcpGate(target: string, mode: GateMode = 'forward'): Promise<TcpGate> {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  const pending = new Map<Socket, Buffer[]>();
  let dropped = 0;
  let held = '';
  let current = mode;
  const flush = () => {
    for (const [s, chunks] of pending) for (const c of chunks.splice(0)) (s as Socket & { up?: Socket }).up?.write(c);
  };
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.once('close', () => {
      sockets.delete(s);
      pending.delete(s);
    });
    if (current === 'refuse') {
      dropped++;
      s.destroy();
      return;
    }
    const up = connect(Number(t.port), t.hostname);
    (s as Socket & { up?: Socket }).up = up;
    sockets.add(up);
    pending.set(s, []);
    up.once('close', () => {
      sockets.delete(up);
      s.destroy();
    });
    s.on('data', (chunk: Buffer) => {
      if (current === 'hold') {
        pending.get(s)?.push(chunk);
        held += chunk.toString('utf8');
      } else up.write(chunk);
    });
    s.once('close', () => up.destroy());
    up.pipe(s);
    s.on('error', () => up.destroy());
    up.on('error', () => s.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(target);
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    get mode() {
      return current;
    },
    set mode(m: GateMode) {
      current = m;
      if (m === 'forward') flush();
    },
    get dropped() {
      return dropped;
    },
    get held() {
      return held;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
