/** Every order in which concurrent requests' events may be processed: all merges that keep each request's own order. */
export function interleavings<T>(sequences: T[][]): T[][] {
  const live = sequences.filter((sequence) => sequence.length > 0);
  if (live.length <= 1) return [live.flat()];
  return live.flatMap((sequence, index) => {
    const rest = live.map((other, j) => (j === index ? other.slice(1) : other));
    return interleavings(rest).map((tail) => [sequence[0], ...tail]);
  });
}
