import type { Alert, AlertSink } from '@tdk/core';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from './logger';

/**
 * The one alert mechanism: an error-level log line, a metric, and a JSON POST to ALERT_WEBHOOK_URL
 * when set. The same kind (and subject, when it has one) repeats on the log and the webhook at most
 * once per `quietPeriodMs`, so a treasury that stays low does not page someone on every call; the
 * metric counts every occurrence.
 */
export function createAlertSink(options: {
  logger: Logger;
  registry: Registry;
  webhookUrl: string | undefined;
  quietPeriodMs?: number;
}): AlertSink & { lastRaised(kind: string): Alert | undefined } {
  const quietPeriodMs = options.quietPeriodMs ?? 5 * 60_000;
  const counter = new Counter({
    name: 'tdk_alerts_total',
    help: 'Operator alerts raised, by kind and severity.',
    labelNames: ['kind', 'severity'] as const,
    registers: [options.registry],
  });
  const last = new Map<string, Alert>();
  /** When each kind (and subject) last went out. */
  const quieted = new Map<string, number>();
  return {
    async raise(alert) {
      counter.inc({ kind: alert.kind, severity: alert.severity });
      const quietKey = alert.subject === undefined ? alert.kind : `${alert.kind}\0${alert.subject}`;
      const previous = quieted.get(quietKey);
      const now = Date.now();
      if (previous !== undefined && now - previous < quietPeriodMs) return;
      if (quieted.size >= 10_000) {
        for (const [key, at] of quieted) if (now - at >= quietPeriodMs) quieted.delete(key);
      }
      quieted.set(quietKey, now);
      last.set(alert.kind, alert);
      options.logger.error({ alert }, `alert: ${alert.message}`);
      if (!options.webhookUrl) return;
      try {
        const res = await fetch(options.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...alert, at: new Date(now).toISOString(), service: 'tdk' }),
          signal: AbortSignal.timeout(5_000),
        });
        if (!res.ok)
          options.logger.warn({ status: res.status, kind: alert.kind }, 'alert webhook refused the alert');
      } catch (err) {
        options.logger.warn({ err, kind: alert.kind }, 'alert webhook unreachable');
      }
    },
    lastRaised: (kind) => last.get(kind),
  };
}
