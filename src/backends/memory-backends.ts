/** Every backend in this process's memory: the terminal chat, tests, a single instance without Redis. */
import type { EngineConfig } from '../config/load.js';
import type { Settings } from '../config/settings.js';
import { MemoryRateLimits } from '../limits/rate-limits.js';
import { createMemoryStore } from '../session/create-store.js';
import { MemoryMarks } from '../session/marks.js';
import type { Logger } from '../util/logger.js';
import type { Backends } from './backends.js';

export function memoryBackends(settings: Settings, config: EngineConfig, logger: Logger): Backends {
  const store = createMemoryStore(settings, logger);
  return {
    store,
    marks: new MemoryMarks(),
    rateLimits: new MemoryRateLimits({ config: config.rateLimits, logger }),
    countErrors: () => undefined,
    close: () => store.close(),
  };
}
