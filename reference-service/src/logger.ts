import pino, { type Logger } from 'pino'
import type { LogLevel } from './config.js'

/**
 * Structured JSON logs on stdout (Fastify's request logs included). Credentials are censored
 * as a safety net; the service itself logs database descriptions, never DATABASE_URL.
 */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { pid: process.pid, service: 'reference-service' },
    redact: {
      paths: ['databaseUrl', 'DATABASE_URL', 'password', '*.password', 'req.headers.authorization', 'req.headers.cookie'],
      censor: '***',
    },
  })
}
