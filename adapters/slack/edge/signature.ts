/**
 * Slack request signatures (v0: HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the
 * signing secret). The timestamp must be within five minutes of our clock in BOTH
 * directions, as Slack documents: Bolt's own check refuses only old timestamps, so a
 * signed request stamped in the future would stay replayable for as long as its stamp
 * is ahead. Compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's replay window. */
export const SIGNATURE_WINDOW_S = 300;

export type SignatureCheck = 'ok' | 'missing' | 'stale' | 'bad';

/** The headers alone, before the body is read: a request that cannot pass costs no body read. */
export function checkStamp(timestamp: string | undefined, signature: string | undefined, nowMs = Date.now()): SignatureCheck {
  if (!timestamp || !signature) return 'missing';
  if (!/^\d{1,12}$/.test(timestamp)) return 'bad';
  return Math.abs(Math.floor(nowMs / 1000) - Number(timestamp)) > SIGNATURE_WINDOW_S ? 'stale' : 'ok';
}

export function checkSignature(secret: string, timestamp: string | undefined, signature: string | undefined, raw: Buffer, nowMs = Date.now()): SignatureCheck {
  const stamp = checkStamp(timestamp, signature, nowMs);
  if (stamp !== 'ok') return stamp;
  const expected = Buffer.from(`v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(raw).digest('hex')}`);
  const given = Buffer.from(signature!);
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'bad';
}
