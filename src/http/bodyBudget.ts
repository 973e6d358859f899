/**
 * The bytes of request bodies one receiver process holds at once, across all requests (BODY_MEMORY_BUDGET_BYTES).
 * A request takes a lease before its body is read and gives it back once it has been answered; past the budget a
 * request is refused with 503 instead of adding to a pile of bodies that would take the process down.
 */
export interface BodyLease {
  /** The body has reached `totalBytes`; false when that would take the process past its budget. */
  grow(totalBytes: number): boolean;
  /** The request is answered; idempotent. */
  release(): void;
}

export interface BodyBudget {
  /** A lease holding `expectedBytes` (the declared length) at once, or undefined when the budget cannot hold it. */
  open(expectedBytes: number): BodyLease | undefined;
  /** Bytes held now, for tests and metrics. */
  held(): number;
}

export function createBodyBudget(maxBytes: number): BodyBudget {
  let used = 0;
  return {
    open(expectedBytes) {
      if (used >= maxBytes || used + expectedBytes > maxBytes) return undefined;
      let held = expectedBytes;
      let released = false;
      used += held;
      return {
        grow(totalBytes) {
          if (released || totalBytes <= held) return true;
          if (used + (totalBytes - held) > maxBytes) return false;
          used += totalBytes - held;
          held = totalBytes;
          return true;
        },
        release() {
          if (released) return;
          released = true;
          used -= held;
        },
      };
    },
    held: () => used,
  };
}
