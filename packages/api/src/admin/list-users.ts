import type { Role, TierName, UserStatus } from '@tdk/core';
import type { Database } from '@tdk/db';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { userDto, ZUser } from '../auth/schemas';
import { newestFirst, ZPageInput } from '../pagination';
import { adminProcedure } from '../trpc';

interface UserFilter {
  /** Part of an email, or a user id. */
  query?: string | undefined;
  tier?: TierName | undefined;
  status?: UserStatus | undefined;
  role?: Role | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Accounts matching the filter, newest first, one keyset page. */
export async function findUsers(db: Kysely<Database>, filter: UserFilter) {
  let q = db.selectFrom('app_user').selectAll();
  if (filter.query) {
    const term = filter.query.trim().toLowerCase();
    q = q.where((eb) =>
      eb.or([
        eb('email', 'like', `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`),
        eb('id', '=', filter.query ?? ''),
      ]),
    );
  }
  if (filter.tier) q = q.where('tier', '=', filter.tier);
  if (filter.status) q = q.where('status', '=', filter.status);
  if (filter.role) q = q.where('role', '=', filter.role);
  return newestFirst(q, { time: 'created_at', id: 'id' }, filter);
}

export const listUsers = adminProcedure
  .meta({
    openapi: { method: 'GET', path: '/tdk/admin/users', tags: ['admin'], summary: 'Find accounts (admin)' },
  })
  .input(
    z.object({
      query: z.string().max(254).optional().describe('Part of an email, or a user id'),
      ...ZPageInput,
    }),
  )
  .output(z.object({ items: z.array(ZUser), next_cursor: z.string().nullable() }))
  .query(async ({ ctx, input }) => {
    const page = await findUsers(ctx.services.db, input);
    return { items: page.items.map(userDto), next_cursor: page.next_cursor };
  });
