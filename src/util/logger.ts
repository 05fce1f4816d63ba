/**
 * The logging surface the engine needs. pino's logger satisfies it; the engine
 * never logs message text (only ids, labels, actions and error codes).
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything (the default for library use and tests). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
