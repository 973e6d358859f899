/**
 * JOB_ENCRYPTION_KEY's cipher: AES-256-GCM over text, with a context bound in as associated data, so text sealed
 * for one purpose (a tenant's job, the delivery outbox) does not open as another. Shared by the queue and the
 * delivery outbox; neither owns it.
 */
import crypto from 'node:crypto';

const PREFIX = 'aes256gcm:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A job (or record) that cannot be opened: no key, or not the key it was sealed with. Retrying cannot help. */
export class SealedPayloadError extends Error {}

export function sealText(key: Buffer, text: string, context: string): string {
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

function isSealed(text: string): boolean {
  return text.startsWith(PREFIX);
}

/** Opens sealed text; plain text (written while encryption was off) passes through, so turning it on strands nothing. */
export function openText(key: Buffer | undefined, text: string, context: string): string {
  if (!isSealed(text)) return text;
  if (!key) throw new SealedPayloadError('payload is encrypted but JOB_ENCRYPTION_KEY is not set; set it and replay');
  const raw = Buffer.from(text.slice(PREFIX.length), 'base64');
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new SealedPayloadError('payload does not open with JOB_ENCRYPTION_KEY (another key, or altered in Redis); set the key it was written with and replay');
  }
}
