import { randomBytes } from 'node:crypto';
import { assertPasswordAcceptable, newId, normaliseEmail } from '@tdk/core';
import { type Database, isUniqueViolation } from '@tdk/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record';
import { hashPassword } from '../auth/passwords';

export interface BootstrapResult {
  userId: string;
  email: string;
  /** True when the account was created rather than found. */
  created: boolean;
  /** False only for an existing account left as it was (`promoteExisting: false`). */
  admin: boolean;
  /** Set when TDK chose the password: show it once to the operator, never log it. */
  generatedPassword: string | undefined;
}

/**
 * Creates an admin account, or promotes an existing account to admin (setting the password when one
 * is given): `tdk admin create`, an operator's explicit act. Audited as a system action. Start-up
 * passes `promoteExisting: false`, as emails are not verified: an account that already has the
 * configured email may be anyone's, so it is left as it is.
 */
export async function ensureAdmin(
  db: Kysely<Database>,
  request: { email: string; password?: string },
  { promoteExisting = true }: { promoteExisting?: boolean } = {},
): Promise<BootstrapResult> {
  const email = normaliseEmail(request.email);
  const generatedPassword = request.password ? undefined : randomBytes(18).toString('base64url');
  const password = request.password ?? generatedPassword!;
  assertPasswordAcceptable(password, email);
  const passwordHash = await hashPassword(password);
  const createOrPromote = () =>
    db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('app_user')
        .select(['id', 'role'])
        .where('email', '=', email)
        .forUpdate()
        .executeTakeFirst();
      const origin = { ip: undefined, userAgent: 'tdk-cli' };
      if (existing && !promoteExisting) {
        const admin = existing.role === 'admin';
        return { userId: existing.id, email, created: false, admin, generatedPassword: undefined };
      }
      if (existing) {
        await trx
          .updateTable('app_user')
          .set({
            role: 'admin',
            updated_at: new Date(),
            ...(request.password ? { password_hash: passwordHash } : {}),
          })
          .where('id', '=', existing.id)
          .execute();
        await recordAudit(trx, origin, {
          actor: { type: 'system' },
          action: 'user.promoted_to_admin',
          target: { type: 'user', id: existing.id },
          details: { password_set: Boolean(request.password) },
        });
        return { userId: existing.id, email, created: false, admin: true, generatedPassword: undefined };
      }
      const id = newId('user');
      await trx
        .insertInto('app_user')
        .values({ id, email, password_hash: passwordHash, role: 'admin' })
        .execute();
      await recordAudit(trx, origin, {
        actor: { type: 'system' },
        action: 'user.admin_created',
        target: { type: 'user', id },
        details: { email },
      });
      return { userId: id, email, created: true, admin: true, generatedPassword };
    });
  try {
    return await createOrPromote();
  } catch (error) {
    // Another process starting at the same moment created the account first: the second try finds it.
    if (!isUniqueViolation(error)) throw error;
    return createOrPromote();
  }
}

export async function hasAdmin(db: Kysely<Database>): Promise<boolean> {
  const row = await db
    .selectFrom('app_user')
    .select('id')
    .where('role', '=', 'admin')
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
