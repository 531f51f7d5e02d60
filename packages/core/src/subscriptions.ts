/**
 * Stripe's statuses of a subscription that is over for good: nothing more is invoiced on it, and it
 * never becomes active again (only a new subscription does).
 */
const endedStatuses: ReadonlySet<string> = new Set(['canceled', 'incomplete_expired']);

/**
 * Whether an account's subscription has ended, so usage would go on no invoice. No subscription yet
 * (`null`: billing offline, or not opened) has not ended: its usage waits for one.
 */
export function subscriptionEnded(status: string | null | undefined): boolean {
  return status != null && endedStatuses.has(status);
}
