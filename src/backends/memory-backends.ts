/** Every backend in this process's memory: the terminal chat, tests, a single instance without Redis. */
import type { EngineConfig } from '../config/load.js';
import type { Settings } from '../config/settings.js';
import { MemoryRateLimits } from '../limits/rate-limits.js';
import { createMemoryStore } from '../session/create-store.js';
import { MemoryAlertQueue } from '../safety/alerts/memory-alert-queue.js';
import { MemoryMarks } from '../session/marks.js';
import type { Logger } from '../util/logger.js';
import type { Backends } from './backends.js';

export function memoryBackends(settings: Settings, config: EngineConfig, logger: Logger): Backends {
  const store = createMemoryStore(settings, logger);
  const alerts = new MemoryAlertQueue();
  return {
    store,
    marks: new MemoryMarks(),
    rateLimits: new MemoryRateLimits({ config: config.rateLimits, logger }),
    alerts,
    eraseElsewhere: (user) => alerts.forgetText(user),
    // No audit stream without Redis: the entries go to the log (ids and kinds, never text).
    audit: async (entry) => logger.info({ audit: entry }, 'audit'),
    countErrors: () => undefined,
    close: () => store.close(),
  };
}
