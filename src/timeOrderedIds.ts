/**
 * Ids the receiver makes (insert ids for events that came without one, delivery ids): UUIDv7 (RFC 9562), whose
 * first 48 bits are the time in ms. Ids made later sort later, so a unique index on them grows at its right edge
 * instead of at random pages: on SQLite a random UUIDv4 per event dirtied a different index page per row and about
 * doubled the cost of storing an activity (see docs/performance.md).
 */
import crypto from 'node:crypto';

// Random bytes for 256 ids at a time: one randomFillSync per event cost the receiver more than its JSON parsing.
const pool = Buffer.alloc(16 * 256);
let used = pool.length;

export function newTimeOrderedId(now = Date.now()): string {
  if (used === pool.length) {
    crypto.randomFillSync(pool);
    used = 0;
  }
  const bytes = pool.subarray(used, used + 16);
  used += 16;
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
