import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * Structured JSON logs. Credentials are censored wherever they may appear: request headers that carry
 * them, and any field whose name says it holds a secret, down to three levels deep.
 */
const secretFields = [
  'password',
  'newPassword',
  'currentPassword',
  'secret',
  'secretKey',
  'secret_key',
  'token',
  'apiKey',
  'api_key',
  'key',
  'authorization',
  'cookie',
];

export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["stripe-signature"]',
  'res.headers["set-cookie"]',
  ...secretFields.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tdk' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: '[redacted]' },
    },
    destination,
  );
}

export type { Logger };
