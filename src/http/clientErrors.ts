/**
 * What the receiver answers when Node's HTTP parser gives up on a connection before any handler runs: headers that
 * never finish (HEADERS_TIMEOUT_MS, slowloris), a request that is not complete in time (REQUEST_TIMEOUT_MS), headers
 * too large, or bytes that are not HTTP. Node's own answer has no body; this one carries the usual JSON reason.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log';

export function clientErrorResponse(code: string | undefined): { status: number; statusText: string; error: string } {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, statusText: 'Request Timeout', error: 'the request was not complete in time (REQUEST_TIMEOUT_MS / HEADERS_TIMEOUT_MS); connection closed' };
    case 'HPE_INVALID_EOF_STATE':
      return { status: 400, statusText: 'Bad Request', error: 'the client ended the connection before the whole request (as its Content-Length announced) arrived' };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, statusText: 'Request Header Fields Too Large', error: 'the request headers are too large' };
    default:
      return { status: 400, statusText: 'Bad Request', error: 'the request is not valid HTTP' };
  }
}

/** Answers parser errors and timeouts with JSON, then closes the connection (as Node does, but with a reason). */
export function answerClientErrors(server: Server, log: Logger): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // The error's message can quote the raw request line, which may hold a token: log its code only.
    log.debug({ code: error.code }, 'client error; connection closed');
    const inResponse = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code !== 'ECONNRESET' && socket.writable && !inResponse?.headersSent) {
      const { status, statusText, error: reason } = clientErrorResponse(error.code);
      const body = JSON.stringify({ error: reason });
      socket.end(`HTTP/1.1 ${status} ${statusText}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      // A client that does not read its answer must not keep the socket open.
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    socket.destroy();
  });
}
