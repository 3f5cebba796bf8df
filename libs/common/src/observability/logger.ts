import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs. Only identifiers are logged; request and response bodies never are,
 * because they can carry a person's record.
 */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['req.headers.authorization', 'headers.authorization'], remove: true },
  });
}

export type { Logger };
