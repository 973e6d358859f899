/** Length limits count characters as docs/events.md states them: Unicode code points, so an emoji (a surrogate pair) is one, not two UTF-16 units. */

/** The number of code points in `text`; an unpaired surrogate counts as one. */
export function characterCount(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/** Whether `text` holds more than `limit` characters; a text of at most `limit` UTF-16 units never does, so it is not counted. */
export function longerThan(text: string, limit: number): boolean {
  return text.length > limit && characterCount(text) > limit;
}
