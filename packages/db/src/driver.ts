/** Where pg and PGlite differ in what they hand back, smoothed over once. */

/** Postgres' unique_violation, raised the same way by pg and PGlite. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/** An int8 column or aggregate as bigint, whichever driver read it. */
export function toBigInt(value: bigint | string | number | null | undefined): bigint {
  return value === null || value === undefined ? 0n : BigInt(value);
}
