/**
 * The model shipped with the project (data/safety/risk_model.json), loaded once per process.
 * Engines built without a model of their own use it, so tests and the terminal chat run the
 * same crisis check as production; setup.ts loads the one under DATA_DIR instead.
 */
import { fileURLToPath } from 'node:url';
import { RiskModel } from './risk-model.js';

/** Where the shipped model lives. */
export const SHIPPED_MODEL_FILE = fileURLToPath(new URL('../../../data/safety/risk_model.json', import.meta.url));

let cached: RiskModel | undefined;

/** The shipped model (throws RiskModelError, naming the file, when it is missing or invalid). */
export function shippedRiskModel(): RiskModel {
  cached ??= RiskModel.load(SHIPPED_MODEL_FILE);
  return cached;
}
