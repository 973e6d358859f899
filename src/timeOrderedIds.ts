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

function formatted(now: number, sequence?: number): string {
  if (used === pool.length) {
    crypto.randomFillSync(pool);
    used = 0;
  }
  const bytes = pool.subarray(used, used + 16);
  used += 16;
  bytes.writeUIntBE(now, 0, 6);
  // RFC 9562's method 1: a counter in rand_a (12 bits) orders the ids made within one millisecond.
  if (sequence === undefined) bytes[6] = 0x70 | (bytes[6] & 0x0f);
  else bytes.writeUInt16BE(0x7000 | sequence, 6);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function newTimeOrderedId(now = Date.now()): string {
  return formatted(now);
}

let lastMs = 0;
let sequence = 0;

/**
 * A time-ordered id that also sorts after every id this process made with this function before it, within one
 * millisecond too: delivery ids, whose order is the order of requests (the arrival stamp, src/process/arrivalStamp.ts).
 * A clock that goes back keeps the last time; past 4,096 ids in one millisecond the time moves on by one.
 */
export function newSequencedId(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else if (++sequence > 0xfff) {
    lastMs += 1;
    sequence = 0;
  }
  return formatted(lastMs, sequence);
}
