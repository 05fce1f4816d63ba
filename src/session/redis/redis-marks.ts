/** Marks in Redis: `<prefix>:mark:<key>`, one key per mark (SET NX EX), so nothing crosses slots. */
import type { Marks } from '../marks.js';
import type { RedisClient } from '../../redis/connection.js';

export class RedisMarks implements Marks {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = 'trt',
  ) {}

  async setIfAbsent(key: string, ttlSeconds: number): Promise<boolean> {
    return (await this.redis.set(`${this.prefix}:mark:${key}`, '1', 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  async exists(key: string): Promise<boolean> {
    return (await this.redis.exists(`${this.prefix}:mark:${key}`)) === 1;
  }

  async clear(key: string): Promise<void> {
    await this.redis.del(`${this.prefix}:mark:${key}`);
  }
}
