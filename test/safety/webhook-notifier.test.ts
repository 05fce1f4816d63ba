/**
 * The webhook destination against a real local HTTP receiver: signed bodies that verify, a
 * wrong secret or a stale timestamp that does not, no message text unless the tenant includes
 * it, and every failure (a 5xx, a redirect, a hung receiver, nothing listening) thrown so the
 * worker retries, without the receiver's body in the error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../src/safety/alerts/alert.js';
import { WebhookNotifier, verifyWebhookSignature, webhookSignature } from '../../src/safety/alerts/webhook-notifier.js';
import { WebhookReceiver } from '../fakes/webhook-receiver.js';
import { freePort } from '../redis/helpers.js';

const SECRET = 'whsec-test-0123456789';
const TEXT = 'the words the person wrote';

function record(url: string, over: { text?: string; includeText?: boolean; tenant?: string; link?: string } = {}): AlertRecord {
  return {
    alert: {
      episode: 'ep_0123456789abcdef',
      kind: 'crisis',
      platform: 'slack',
      tenant: over.tenant,
      sessionId: 'slack:T1:C1:U1',
      userId: 'U1',
      at: '2025-01-02T03:04:05.000Z',
      text: over.text,
    },
    target: { webhookUrl: url, includeText: over.includeText ?? false, team: 'the care team' },
    link: over.link,
    sent: {},
    failed: [],
  };
}

const receivers: WebhookReceiver[] = [];
async function receiver(opts: ConstructorParameters<typeof WebhookReceiver>[0] = {}): Promise<{ rx: WebhookReceiver; url: string }> {
  const rx = new WebhookReceiver(opts);
  receivers.push(rx);
  return { rx, url: await rx.start() };
}
afterEach(async () => {
  while (receivers.length) await receivers.pop()!.stop();
});

describe('WebhookNotifier', () => {
  it('POSTs the alert as signed JSON the receiver verifies, and an acknowledged event', async () => {
    const { rx, url } = await receiver({ secret: SECRET });
    const n = new WebhookNotifier({ secret: SECRET });
    const r = record(url, { tenant: 'acme', link: 'https://example.slack.com/archives/C1/p1' });
    expect(await n.send(r)).toBeUndefined();
    await n.acknowledged(r, undefined, { by: 'cli:dana', at: '2025-01-02T03:10:00.000Z' });
    const [sent, ack] = await rx.waitFor(2);
    expect(sent).toMatchObject({ method: 'POST', path: '/hook', verified: true });
    expect(sent!.headers['content-type']).toBe('application/json');
    expect(sent!.headers['x-trt-timestamp']).toMatch(/^\d{10}$/);
    expect(Math.abs(Number(sent!.headers['x-trt-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(sent!.headers['x-trt-signature']).toBe(webhookSignature(SECRET, sent!.headers['x-trt-timestamp'] as string, sent!.raw));
    expect(sent!.json).toEqual({
      event: 'safety_alert',
      episode: 'ep_0123456789abcdef',
      kind: 'crisis',
      platform: 'slack',
      tenant: 'acme',
      session: 'slack:T1:C1:U1',
      person: 'U1',
      at: '2025-01-02T03:04:05.000Z',
      link: 'https://example.slack.com/archives/C1/p1',
    });
    expect(ack).toMatchObject({ verified: true, json: { event: 'safety_alert_acknowledged', episode: 'ep_0123456789abcdef', by: 'cli:dana', at: '2025-01-02T03:10:00.000Z' } });
  });

  it('a receiver with another secret, a changed body or a stale timestamp does not verify', async () => {
    const { rx, url } = await receiver({ secret: 'another-secret' });
    await new WebhookNotifier({ secret: SECRET }).send(record(url));
    const [req] = await rx.waitFor(1);
    expect(req!.verified).toBe(false);
    const ts = req!.headers['x-trt-timestamp'] as string;
    const sig = req!.headers['x-trt-signature'] as string;
    expect(verifyWebhookSignature(SECRET, ts, req!.raw, sig)).toBe(true);
    expect(verifyWebhookSignature(SECRET, ts, req!.raw.replace('crisis', 'requested'), sig)).toBe(false);
    expect(verifyWebhookSignature(SECRET, String(Number(ts) + 1), req!.raw, sig)).toBe(false);
    expect(verifyWebhookSignature(SECRET, ts, req!.raw, sig, { nowSeconds: Number(ts) + 301 })).toBe(false);
    expect(verifyWebhookSignature(SECRET, ts, req!.raw, sig, { nowSeconds: Number(ts) + 299 })).toBe(true);
    expect(verifyWebhookSignature(SECRET, ts, req!.raw, undefined)).toBe(false);
    expect(verifyWebhookSignature(SECRET, ts, req!.raw, 'sha256=00')).toBe(false);
  });

  it('without a secret the body is sent unsigned (still timestamped)', async () => {
    const { rx, url } = await receiver({ secret: SECRET });
    await new WebhookNotifier().send(record(url));
    const [req] = await rx.waitFor(1);
    expect(req!.headers['x-trt-signature']).toBeUndefined();
    expect(req!.headers['x-trt-timestamp']).toMatch(/^\d+$/);
    expect(req!.verified).toBe(false);
  });

  it('carries no message text unless the tenant includes it', async () => {
    const { rx, url } = await receiver({ secret: SECRET });
    const n = new WebhookNotifier({ secret: SECRET });
    await n.send(record(url));
    // Text on the alert but a target that does not include it: still not sent.
    await n.send(record(url, { text: TEXT, includeText: false }));
    await n.send(record(url, { text: TEXT, includeText: true }));
    const [none, notIncluded, included] = await rx.waitFor(3);
    expect(none!.json).not.toHaveProperty('text');
    expect(notIncluded!.json).not.toHaveProperty('text');
    expect(notIncluded!.raw).not.toContain(TEXT);
    expect(none!.json).toMatchObject({ tenant: null, link: null });
    expect(included!.json).toMatchObject({ text: TEXT });
    expect(included!.verified).toBe(true);
  });

  it('a 500 throws, naming the status but not the body; the next try is delivered', async () => {
    const { rx, url } = await receiver({ secret: SECRET, statuses: [500, 500, 500] });
    const n = new WebhookNotifier({ secret: SECRET });
    const r = record(url, { text: TEXT, includeText: true });
    for (let i = 0; i < 3; i++) {
      const err = await n.send(r).then(() => undefined, (e: Error) => e);
      expect(err?.message).toBe('webhook: answered 500');
      expect(err?.message).not.toContain(TEXT);
    }
    await expect(n.send(r)).resolves.toBeUndefined();
    expect(rx.requests.map((q) => q.status)).toEqual([500, 500, 500, 200]);
  });

  it('a redirect is not followed and throws', async () => {
    const { rx, url } = await receiver({ statuses: [302] });
    await expect(new WebhookNotifier().send(record(url))).rejects.toThrow(/^webhook: answered 302/);
    expect(rx.requests).toHaveLength(1);
  });

  it('a hung receiver times out and throws', async () => {
    const { rx, url } = await receiver({ statuses: ['hang'] });
    const started = Date.now();
    await expect(new WebhookNotifier({ timeoutMs: 200 }).send(record(url))).rejects.toThrow('webhook: no answer within 200 ms');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(rx.requests).toHaveLength(1);
  });

  it('nothing listening throws (a network error)', async () => {
    const url = `http://127.0.0.1:${await freePort()}/hook`;
    await expect(new WebhookNotifier({ timeoutMs: 2_000 }).send(record(url))).rejects.toThrow(/^webhook: request failed \(ECONNREFUSED\)$/);
  });

  it('a target without a webhook URL throws', async () => {
    const r = record('');
    await expect(new WebhookNotifier().send(r)).rejects.toThrow('has no webhook URL');
  });
});
