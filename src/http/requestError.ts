/** A request refused with 400 (or the given status) and this message; thrown by handlers, answered by http/errorAnswers. */
export class RequestError extends Error {
  constructor(message: string, readonly status = 400) {
    super(message);
  }
}
