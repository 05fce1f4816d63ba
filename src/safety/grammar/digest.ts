/** A digest of the risk grammar as loaded, for the model's staleness check (its thresholds depend on the grammar). */
import { createHash } from 'node:crypto';
import type { RiskGrammarConfig } from '../../config/risk-grammar-schema.js';

export function grammarDigest(grammar: RiskGrammarConfig): string {
  return createHash('sha256').update(JSON.stringify(grammar)).digest('hex');
}
