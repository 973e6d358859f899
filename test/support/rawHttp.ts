/** Raw TCP clients for what fetch cannot send: truncated bodies, lying Content-Length, headers trickled in byte by byte. */
import net from 'node:net';

export interface RawReply {
  /** Everything the server sent before it closed the connection. */
  text: string;
  status?: number;
  body?: any;
  /** Milliseconds from connecting until the server closed the connection. */
  closedAfterMs: number;
}

function parse(text: string, closedAfterMs: number): RawReply {
  const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
  const bodyText = text.slice(text.indexOf('\r\n\r\n') + 4);
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  return { text, status: status ? Number(status) : undefined, body, closedAfterMs };
}

/**
 * Connects, writes `parts` (waiting `gapMs` between them), optionally half-closes, and collects the answer until
 * the server closes the connection or `waitMs` passes.
 */
export function rawExchange(port: number, parts: Array<string | Buffer>, options: { gapMs?: number; endAfterWrite?: boolean; waitMs?: number } = {}): Promise<RawReply> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(Buffer.concat(received).toString('utf8'), Date.now() - started));
    };
    const timer = setTimeout(finish, options.waitMs ?? 10000);
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('close', finish);
    socket.on('error', finish);
    socket.on('connect', async () => {
      for (const part of parts) {
        if (done || socket.destroyed) return;
        socket.write(part);
        if (options.gapMs) await new Promise((wait) => setTimeout(wait, options.gapMs));
      }
      if (options.endAfterWrite && !socket.destroyed) socket.end();
    });
  });
}
