import { afterAll, describe, expect, it } from 'vitest';
import { MemoryMarks, RedisMarks, type Marks } from '../../src/index.js';
import { cleanup, client, uniquePrefix } from '../redis/helpers.js';

const prefix = uniquePrefix();
const redis = client();
afterAll(async () => {
  redis.disconnect();
  await cleanup(prefix);
});

describe.each([
  ['MemoryMarks', () => new MemoryMarks()],
  ['RedisMarks', () => new RedisMarks(redis, prefix)],
] as Array<[string, () => Marks]>)('%s', (_name, make) => {
  it('of many concurrent callers, exactly one sets a mark', async () => {
    const marks = make();
    const results = await Promise.all(Array.from({ length: 20 }, () => marks.setIfAbsent('same-message', 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await marks.exists('same-message')).toBe(true);
    expect(await marks.exists('other')).toBe(false);
  });
});

it('memory marks expire', async () => {
  let now = 0;
  const marks = new MemoryMarks(() => now);
  expect(await marks.setIfAbsent('k', 1)).toBe(true);
  now = 999;
  expect(await marks.setIfAbsent('k', 1)).toBe(false);
  now = 1001;
  expect(await marks.setIfAbsent('k', 1)).toBe(true);
});
