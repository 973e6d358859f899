/** Durations as people type them on a command line or in a query: 0, 500ms, 90s, 30m, 24h, 7d. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or undefined when the text is not a duration of at most maxMs; a number other than 0 needs its unit. */
export function parseDuration(text: string, maxMs: number): number | undefined {
  const match = /^(\d{1,9})(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  if (unit === undefined && Number(amount) !== 0) return undefined;
  const ms = Number(amount) * UNIT_MS[unit ?? 'ms'];
  return ms <= maxMs ? ms : undefined;
}
