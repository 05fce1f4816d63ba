/**
 * Encryption at rest for message text: AES-256-GCM, a fresh 96-bit nonce per
 * record, and the key's id in every record so a rotated-out key
 * (HISTORY_ENCRYPTION_KEY_PREVIOUS) can still read old records.
 *
 * Record format: `enc1.<key id>.<nonce>.<ciphertext>.<tag>` (base64url parts).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export interface TextCipher {
  seal(plain: string): string;
  open(sealed: string): string;
}

const PREFIX = 'enc1.';

/** Stores text as it is; refuses to read encrypted records (no key configured). */
export const plainText: TextCipher = {
  seal: (plain) => plain,
  open: (sealed) => {
    if (sealed.startsWith(PREFIX)) throw new Error('stored data is encrypted but no HISTORY_ENCRYPTION_KEY is configured');
    return sealed;
  },
};

/** Decodes a base64 key and checks it is 32 bytes. */
export function parseKey(base64: string, name: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new Error(`${name} must be 32 bytes, base64-encoded (got ${key.length} bytes)`);
  return key;
}

export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

export class AesGcmCipher implements TextCipher {
  private readonly current: { id: string; key: Buffer };
  private readonly keys = new Map<string, Buffer>();

  /** `current` encrypts; `previous` keys only decrypt (rotation). */
  constructor(current: Buffer, previous: Buffer[] = []) {
    this.current = { id: keyId(current), key: current };
    for (const k of [current, ...previous]) this.keys.set(keyId(k), k);
  }

  seal(plain: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, nonce);
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${PREFIX}${this.current.id}.${nonce.toString('base64url')}.${ct.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
  }

  open(sealed: string): string {
    if (!sealed.startsWith(PREFIX)) return sealed; // written before encryption was turned on
    const [id, nonce, ct, tag] = sealed.slice(PREFIX.length).split('.');
    const key = this.keys.get(id ?? '');
    if (!key || !nonce || ct === undefined || !tag) throw new Error(`cannot decrypt a record with key id ${id}: set HISTORY_ENCRYPTION_KEY_PREVIOUS to the old key`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }
}
