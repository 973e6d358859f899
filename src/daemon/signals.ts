/** One ordered shutdown on SIGINT or SIGTERM; a second signal only says it is still stopping. */
import type { Logger } from '../log';

export function stopOnSignals(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'still stopping: finishing or handing back in-flight work');
      return;
    }
    stopping = true;
    log.info({ signal }, 'stopping: no new work taken');
    stop().then(
      () => {
        log.info('stopped cleanly');
        process.exit(0);
      },
      (error: Error) => {
        log.error({ err: error }, 'error while stopping');
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
