import { newId } from '@tdk/core';
import type { Database } from '@tdk/db';
import type { Kysely } from 'kysely';

export type AuditActor = { type: 'user'; id: string } | { type: 'system' } | { type: 'anonymous' };

export interface AuditEntry {
  actor: AuditActor;
  /** Dotted verb, e.g. `auth.login`, `user.tier_changed`, `key.revoked`. */
  action: string;
  target?: { type: string; id: string };
  /** Safe to show admins: never a secret. */
  details?: Record<string, unknown>;
}

/**
 * Writes one audit row. Pass the transaction that makes the change, so the change and its audit row
 * commit or vanish together.
 */
export async function recordAudit(
  db: Kysely<Database>,
  origin: { ip: string | undefined; userAgent: string | undefined },
  entry: AuditEntry,
): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      id: newId('audit'),
      actor_type: entry.actor.type,
      actor_id: entry.actor.type === 'user' ? entry.actor.id : null,
      action: entry.action,
      target_type: entry.target?.type ?? null,
      target_id: entry.target?.id ?? null,
      ip: origin.ip ?? null,
      user_agent: origin.userAgent?.slice(0, 512) ?? null,
      details: JSON.stringify(entry.details ?? {}),
    })
    .execute();
}
