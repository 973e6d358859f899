/**
 * A warning that would fire once per request while a dependency is down (850 lines in 4 s during a Redis outage):
 * logged the first time, then at most once per interval, saying how many were left out in between.
 */
import type { Logger } from './log';

export type RepeatedWarning = (fields?: Record<string, unknown>) => void;

export const REPEATED_WARNING_INTERVAL_MS = 5000;

export function repeatedWarning(log: Logger, message: string, everyMs = REPEATED_WARNING_INTERVAL_MS): RepeatedWarning {
  let quiet: NodeJS.Timeout | undefined;
  let suppressed = 0;
  let lastFields: Record<string, unknown> = {};
  const endOfInterval = () => {
    if (suppressed === 0) {
      quiet = undefined;
      return;
    }
    log.warn({ ...lastFields, repeated: suppressed, seconds: everyMs / 1000 }, `${message} (${suppressed} more times in the last ${everyMs / 1000} s)`);
    suppressed = 0;
    quiet = setTimeout(endOfInterval, everyMs).unref();
  };
  return (fields = {}) => {
    if (quiet) {
      suppressed += 1;
      lastFields = fields;
      return;
    }
    log.warn(fields, message);
    quiet = setTimeout(endOfInterval, everyMs).unref();
  };
}
