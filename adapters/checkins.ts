/**
 * The check-in worker of this process (docs/checkins.md): delivers the check-ins people asked
 * for through this worker's outlets, the same that post replies. Runs with the queue worker,
 * so only where the schedule is shared (Redis): a check-in for a platform this process has no
 * outlet for waits for a worker that has one.
 */
import type { Logger } from 'pino';
import type { EngineSetup, Outlets } from '../src/index.js';

/** Tests: a faster poll, a shorter lease, their own clock (see CheckinWorkerOptions). */
export type CheckinTuning = NonNullable<Parameters<NonNullable<EngineSetup['checkinWorker']>>[1]>;

export function startCheckinWorker(setup: EngineSetup, outlets: Outlets, logger: Logger, tuning: CheckinTuning = {}) {
  if (!setup.checkinWorker || Object.keys(outlets).length === 0) return undefined;
  const worker = setup.checkinWorker(outlets, tuning);
  worker.start();
  logger.info({ platforms: Object.keys(outlets) }, 'check-in worker started');
  return worker;
}
