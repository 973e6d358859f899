/**
 * `Expect: 100-continue`: the receiver says `100 Continue` only once a handler starts reading the body, so a request
 * refused before that (a wrong token, a declared length over the limit or the memory budget) gets its refusal at
 * once and the client never sends the body. Node's default would say `100 Continue` to every such request.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** Requests whose client waits for `100 Continue`, until it is sent. */
const awaiting = new WeakMap<IncomingMessage, ServerResponse>();

export function continueOnlyWhenRead(server: Server): void {
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    awaiting.set(request, response);
    server.emit('request', request, response);
  });
}

/** Called by the body reader before it reads: the client may send the body now. */
export function sendContinue(request: IncomingMessage): void {
  const response = awaiting.get(request);
  if (!response) return;
  awaiting.delete(request);
  if (!response.headersSent) response.writeContinue();
}

/** The client still waits for `100 Continue`: it was answered without it and will not send the body. */
export function stillAwaitingContinue(request: IncomingMessage): boolean {
  return awaiting.has(request);
}
