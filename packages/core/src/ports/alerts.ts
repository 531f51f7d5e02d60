/**
 * Operator alerts: treasury low, billing delivery failing, top-ups failing. One mechanism for all;
 * the server's adapter logs at error level, counts a metric and, when configured, POSTs JSON to a
 * webhook.
 */
export interface Alert {
  /** Stable name, e.g. `treasury_low`, `top_up_failed`. */
  kind: string;
  /**
   * What it is about, when each one needs its own look (e.g. one customer's canceled subscription):
   * repeats are quieted per kind and subject. Without it, per kind: one cause, one page.
   */
  subject?: string;
  severity: 'warning' | 'critical';
  message: string;
  details?: Record<string, unknown>;
}

export interface AlertSink {
  raise(alert: Alert): Promise<void>;
}
