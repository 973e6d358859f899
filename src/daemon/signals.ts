/** One ordered shutdown on SIGINT or SIGTERM, bounded by SHUTDOWN_TIMEOUT_MS; a second signal only says it is still stopping. */
import type { Logger } from '../log';

/** Names what the shutdown is doing now, so a shutdown cut short can say what it did not finish. */
export type StopStep = (what: string) => void;

export function stopOnSignals(log: Logger, timeoutMs: number, stop: (step: StopStep) => Promise<void>): void {
  let stopping = false;
  let current = 'stopping';
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, `still stopping: ${current}`);
      return;
    }
    stopping = true;
    log.info({ signal }, 'stopping: no new work taken');
    // Whatever Redis or the database are doing (down, slow, never answering), the process is gone by the deadline,
    // so pm2 or systemd never have to kill it; jobs it held go back to the queue when their lock runs out.
    setTimeout(() => {
      log.error({ timeoutMs }, `not stopped within SHUTDOWN_TIMEOUT_MS (${timeoutMs} ms): could not finish ${current}; exiting anyway (jobs not finished go back to the queue once JOB_LOCK_MS runs out)`);
      process.exit(1);
    }, timeoutMs);
    stop((what) => (current = what)).then(
      () => {
        log.info('stopped cleanly');
        process.exit(0);
      },
      (error: Error) => {
        log.error({ err: error }, `error while ${current}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Tells pm2 (wait_ready) that this process is listening and connected. */
export function announceReady(): void {
  process.send?.('ready');
}
