import { describe, expect, it } from 'vitest';
import { subscriptionEnded } from './subscriptions';

describe('subscriptionEnded', () => {
  it('is true only for the statuses Stripe never brings back', () => {
    expect(subscriptionEnded('canceled')).toBe(true);
    expect(subscriptionEnded('incomplete_expired')).toBe(true);
    for (const open of ['active', 'trialing', 'past_due', 'unpaid', 'incomplete', 'paused']) {
      expect(subscriptionEnded(open), open).toBe(false);
    }
  });

  it('is false while there is no subscription yet: usage waits for one', () => {
    expect(subscriptionEnded(null)).toBe(false);
    expect(subscriptionEnded(undefined)).toBe(false);
  });
});
