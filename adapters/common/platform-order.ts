/**
 * A message's place in its conversation by the platform's clock, as a fixed-width string
 * (20 digits) so that the queue's scripts and code compare orders as strings. The adapters
 * make them from what each platform stamps a message with; the queue only compares them.
 */

const WIDTH = 20;

/** Slack `ts` ("1700001000.000123": seconds and a per-channel sequence) -> order and epoch ms. */
export function slackOrder(ts: string): { order: string; sentAt: number } | undefined {
  const m = /^(\d{1,12})\.(\d{1,6})$/.exec(ts);
  if (!m) return undefined;
  return { order: `${m[1]}${m[2]!.padEnd(6, '0')}`.padStart(WIDTH, '0'), sentAt: Number(m[1]) * 1000 + Math.floor(Number(m[2]!.padEnd(6, '0')) / 1000) };
}

/** Discord's epoch (2015-01-01), the base of a snowflake's timestamp. */
const DISCORD_EPOCH = 1_420_070_400_000n;

/** A Discord snowflake (its top 42 bits are ms since Discord's epoch) -> order and epoch ms. */
export function discordOrder(snowflake: string): { order: string; sentAt: number } | undefined {
  if (!/^\d{1,20}$/.test(snowflake)) return undefined;
  const id = BigInt(snowflake);
  if (id >= 1n << 64n) return undefined;
  return { order: snowflake.padStart(WIDTH, '0'), sentAt: Number((id >> 22n) + DISCORD_EPOCH) };
}
