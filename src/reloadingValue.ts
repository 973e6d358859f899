/**
 * A value read from the database and kept in memory, so a hot path runs no SQL: reloaded every `refreshMs`, and on
 * demand when a caller meets something the value does not know yet (a token made a moment ago in another process).
 */
export interface ReloadingValue<T> {
  /** The last value loaded, or undefined when no load has succeeded yet. */
  current(): T | undefined;
  /**
   * A reload that starts after the caller asked. A reload already running may have read too early: every caller
   * arriving meanwhile waits for the one that follows it, together, so callers, however many, cost at most one
   * query at a time.
   */
  reloadStartedNow(): Promise<void>;
  stop(): void;
}

export async function startReloadingValue<T>(load: () => Promise<T>, refreshMs: number, onError: (error: Error) => void): Promise<ReloadingValue<T>> {
  let value: T | undefined;
  let inFlight: Promise<void> | undefined;
  let next: Promise<void> | undefined;

  function reload(): Promise<void> {
    inFlight ??= load()
      .then((loaded) => {
        value = loaded;
      })
      .catch(onError)
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  await reload();
  const timer = setInterval(reload, refreshMs);
  timer.unref();

  return {
    current: () => value,
    reloadStartedNow() {
      if (!inFlight) return reload();
      next ??= inFlight.then(() => {
        next = undefined;
        return reload();
      });
      return next;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
