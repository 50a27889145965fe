/**
 * The retraining timer: on the NCRONTAB schedule of the RETRAIN_SCHEDULE app setting (bound as
 * '%RETRAIN_SCHEDULE%', resolved by the Functions host), start one training run through
 * shared/store/retrain.ts (the Container Apps Job in Azure, a local child process otherwise).
 * The run publishes a new model version; serving instances pick it up on their next pointer check.
 */
import type { InvocationContext, Timer } from '@azure/functions';
import { readSettings } from '../shared/store/config.ts';
import type { Settings } from '../shared/store/config.ts';
import { startRetraining } from '../shared/store/retrain.ts';
import type { RetrainResult } from '../shared/store/retrain.ts';

export const RETRAIN_SCHEDULE_BINDING = '%RETRAIN_SCHEDULE%';

export interface RetrainDeps {
  settings?: () => Settings;
  start?: (settings: Settings) => Promise<RetrainResult>;
}

export function createRetrainTimer(deps: RetrainDeps = {}) {
  const settings = deps.settings ?? (() => readSettings());
  const start = deps.start ?? ((s: Settings) => startRetraining(s));
  return async (timer: Timer, context: InvocationContext): Promise<RetrainResult> => {
    if (timer.isPastDue) context.warn('retrain timer is running late (past due)');
    try {
      const result = await start(settings());
      context.log(`retraining started: ${JSON.stringify(result)}`);
      return result;
    } catch (e) {
      // Rethrown so the host records a failed execution; the next occurrence tries again.
      context.error(`invocation ${context.invocationId}: starting the retraining failed`, e);
      throw e;
    }
  };
}

export const retrainTimer = createRetrainTimer();
