import { isIPv6 } from 'node:net';
import { AppError, type TierName, tierNames } from '@tdk/core';
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { AuthSettings, LimiterFactory, Services } from '../services';

/** The limiters of the account surface, built once at start-up on the configured store. */
export interface AuthLimits {
  loginByEmailAndIp: RateLimiterAbstract;
  loginByIp: RateLimiterAbstract;
  signupByIp: RateLimiterAbstract;
  accountByTier: Record<TierName, RateLimiterAbstract>;
}

export function createAuthLimits(
  limiter: LimiterFactory,
  settings: AuthSettings,
  tiers: Services['tiers'],
): AuthLimits {
  const day = 24 * 60 * 60;
  return {
    // Both count with `penalty` (`countAttempt`), which never refuses: the use cases decide. This
    // one counts consecutive wrong passwords of an account (sign-ins and password changes), reset
    // by a right one; `guessPassword` blocks it at the maximum.
    loginByEmailAndIp: limiter({
      keyPrefix: 'login_fail_email_ip',
      points: settings.login.maxConsecutiveFails,
      duration: day,
    }),
    loginByIp: limiter({ keyPrefix: 'login_fail_ip', points: settings.login.ipFailsPerDay, duration: day }),
    signupByIp: limiter({ keyPrefix: 'signup_ip', points: settings.signupsPerIpPerHour, duration: 60 * 60 }),
    accountByTier: Object.fromEntries(
      tierNames.map((tier) => [
        tier,
        limiter({ keyPrefix: `account_${tier}`, points: tiers[tier].accountRequestsPerMinute, duration: 60 }),
      ]),
    ) as Record<TierName, RateLimiterAbstract>,
  };
}

/** Standard rate-limit headers (IETF draft `RateLimit-*`) plus Retry-After when exhausted. */
export function rateLimitHeaders(
  limit: number,
  res: Pick<RateLimiterRes, 'remainingPoints' | 'msBeforeNext'>,
): Record<string, string> {
  return {
    'RateLimit-Limit': String(limit),
    'RateLimit-Remaining': String(Math.max(0, res.remainingPoints)),
    'RateLimit-Reset': String(Math.ceil(res.msBeforeNext / 1000)),
  };
}

export function rateLimited(
  message: string,
  msBeforeNext: number,
  headers: Record<string, string> = {},
): AppError {
  const retryAfter = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new AppError('rate_limited', message, {
    details: { retry_after_seconds: retryAfter },
    headers: { ...headers, 'Retry-After': String(retryAfter) },
  });
}

/**
 * Takes one point of `key`'s allowance (`limit` in all): the `RateLimit-*` headers of what is left,
 * or a 429 `rateLimited` carrying them with `message` once it is spent.
 */
export async function takePoint(
  limiter: RateLimiterAbstract,
  key: string,
  limit: number,
  message: string,
): Promise<Record<string, string>> {
  try {
    return rateLimitHeaders(limit, await limiter.consume(key));
  } catch (rejection) {
    if (!isRateLimiterRes(rejection)) throw rejection;
    throw rateLimited(message, rejection.msBeforeNext, rateLimitHeaders(limit, rejection));
  }
}

/**
 * Counts an attempt as a failure *before* it is checked: the stores increment atomically, so parallel
 * attempts count one another and no more than `max` are ever checked (a count read first, and raised
 * only once an attempt had failed, let a burst through whole). Past `max` the point is given back and
 * the attempt refused with a 429; the caller gives it back (`reward`) when the attempt did not fail.
 */
export async function countAttempt(
  limiter: RateLimiterAbstract,
  key: string,
  max: number,
  message: string,
): Promise<RateLimiterRes> {
  const counted = await limiter.penalty(key);
  if (counted.consumedPoints <= max) return counted;
  await limiter.reward(key);
  const { msBeforeNext } = counted;
  throw rateLimited(message, msBeforeNext, rateLimitHeaders(max, { remainingPoints: 0, msBeforeNext }));
}

/**
 * Checks a guess at an account's password (`verify`) under the consecutive-failure limit of `key`
 * (`loginByEmailAndIp`): counted before it is checked (`countAttempt`), slowed down after the free
 * attempts; a wrong guess that reaches the maximum blocks the key for a while, a right one clears the
 * count, and one that could not be checked gives its point back. Returns the consecutive failures
 * counted with this guess, 0 when it was right.
 */
export async function guessPassword(
  limiter: RateLimiterAbstract,
  settings: AuthSettings['login'],
  key: string,
  message: string,
  verify: () => Promise<boolean>,
): Promise<number> {
  const failures = (await countAttempt(limiter, key, settings.maxConsecutiveFails, message)).consumedPoints;
  let right: boolean;
  try {
    const before = failures - 1;
    if (before >= settings.freeAttempts) {
      const delay = Math.min(
        settings.delayBaseMs * 2 ** (before - settings.freeAttempts),
        settings.maxDelayMs,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    right = await verify();
  } catch (error) {
    await limiter.reward(key);
    throw error;
  }
  if (right) {
    await limiter.delete(key);
    return 0;
  }
  if (failures >= settings.maxConsecutiveFails) await limiter.block(key, settings.blockSeconds);
  return failures;
}

/** The key of an account's consecutive wrong passwords from one client (see `addressKey`). */
export const passwordGuessKey = (email: string, ip: string | undefined) => `${email}|${addressKey(ip)}`;

/** rate-limiter-flexible rejects with a RateLimiterRes when out of points, or an Error when its store fails. */
export function isRateLimiterRes(value: unknown): value is RateLimiterRes {
  return typeof value === 'object' && value !== null && 'msBeforeNext' in value && !(value instanceof Error);
}

/**
 * What a per-address limit counts for a client: its IPv4 address, or its IPv6 address's /64
 * network. One host is usually given a whole /64, so counting its addresses one by one would let
 * it pass any limit by changing the last 64 bits.
 */
export function addressKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail] = ip.split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array(Math.max(0, 8 - left.length - right.length)).fill('0');
  const network = [...left, ...zeros, ...right]
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16));
  return `${network.join(':')}::/64`;
}
