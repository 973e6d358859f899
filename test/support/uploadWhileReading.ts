/**
 * A raw HTTP client that uploads a large body in chunks while it reads, as an SDK does: it sends the whole body even
 * when the answer comes first, and a connection reset or close before the body is sent is a network error to it.
 */
import net from 'node:net';

export interface UploadReply {
  /** The first answer's status: 100 when the server said `100 Continue` first. */
  status?: number;
  body?: any;
  /** Why the exchange failed (ECONNRESET, EPIPE, closed, timeout), or undefined when the whole body went out and a whole answer came back. */
  failure?: string;
  /** Body bytes written when the exchange ended. */
  sentBytes: number;
}

/** The first answer in `received` once it is whole: an interim 1xx, or a final status with its Content-Length of body. */
function wholeAnswer(received: Buffer): { status: number; body: any } | undefined {
  const headEnd = received.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const head = received.subarray(0, headEnd).toString('latin1');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  if (status < 200) return { status, body: undefined };
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
  const body = received.subarray(headEnd + 4);
  if (!(body.length >= length)) return undefined;
  return { status, body: JSON.parse(body.subarray(0, length).toString('utf8')) };
}

/**
 * Writes `head`, then the parts as fast as the socket takes them; resolves once the body is sent and the first whole
 * answer is in (or a 1xx came when the body is empty), or with why not.
 */
export function uploadWhileReading(port: number, head: string, parts: Iterable<Buffer>, timeoutMs = 20000): Promise<UploadReply> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let sentBytes = 0;
    let allSent = false;
    let settled = false;
    const finish = (failure?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...wholeAnswer(received), failure, sentBytes });
    };
    const finishIfDone = () => {
      if (allSent && wholeAnswer(received)) finish();
    };
    const timer = setTimeout(() => finish('no whole answer in time'), timeoutMs);
    const write = (bytes: string | Buffer) => (socket.write(bytes) ? Promise.resolve() : new Promise<void>((drained) => socket.once('drain', drained).once('close', drained)));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      finishIfDone();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    socket.on('close', () => finish(allSent ? 'closed before a whole answer' : 'closed while the body was being sent'));
    socket.on('connect', async () => {
      await write(head);
      for (const part of parts) {
        if (settled) return;
        await write(part);
        sentBytes += part.length;
      }
      allSent = true;
      finishIfDone();
    });
  });
}
