/** Where pg and PGlite differ in what they hand back, smoothed over once. */

/** Postgres' unique_violation, raised the same way by pg and PGlite. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/** Socket errors; SQLSTATE class 08, 57P01–03 (server stopping, starting), 53300 (too many connections). */
const unavailableCodes =
  /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|08...|57P0[123]|53300)$/;
/**
 * What `pg` says when the connection dropped under a query, a client it dropped is used again, or
 * no connection could be had within the pool's connect timeout.
 */
const unavailableMessages =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect)/;

/**
 * Whether an error means the database could not be reached or dropped the connection (as opposed to
 * a query it refused): the request can be tried again once it is back.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    (typeof code === 'string' && unavailableCodes.test(code)) ||
    (typeof message === 'string' && unavailableMessages.test(message))
  );
}

/** An int8 column or aggregate as bigint, whichever driver read it. */
export function toBigInt(value: bigint | string | number | null | undefined): bigint {
  return value === null || value === undefined ? 0n : BigInt(value);
}
