import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /**
   * Buffer lines and write them in chunks (every 4 KB, and at least every 250 ms) instead of
   * one write per line: a write costs more than the line under load. What is buffered is
   * flushed synchronously when the process exits. For the service process; tests keep the
   * default (one synchronous write per line).
   */
  buffered?: boolean;
}

/** Structured JSON logs on stdout. */
export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  const settings = {
    level,
    base: { service: 'renewal-defense' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'authorization'], remove: true },
  };
  if (!options.buffered) return pino(settings);
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const timer = setInterval(() => destination.flush(), 250);
  timer.unref();
  process.once('exit', () => {
    clearInterval(timer);
    try {
      destination.flushSync();
    } catch {
      // stdout is gone: nothing left to write to
    }
  });
  return pino(settings, destination);
}
