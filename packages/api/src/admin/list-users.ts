import { z } from 'zod';
import { userDto, ZUser } from '../auth/schemas';
import { decodeCursor, toPage, ZPageInput } from '../pagination';
import { adminProcedure } from '../trpc';

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
    let q = ctx.services.db.selectFrom('app_user').selectAll();
    if (input.query) {
      const term = input.query.trim().toLowerCase();
      q = q.where((eb) =>
        eb.or([
          eb('email', 'like', `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`),
          eb('id', '=', input.query ?? ''),
        ]),
      );
    }
    if (input.cursor) {
      const c = decodeCursor(input.cursor);
      q = q.where((eb) =>
        eb.or([eb('created_at', '<', c.at), eb.and([eb('created_at', '=', c.at), eb('id', '<', c.id)])]),
      );
    }
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(input.limit + 1)
      .execute();
    const page = toPage(rows, input.limit, (u) => ({ at: u.created_at, id: u.id }));
    return { items: page.items.map(userDto), next_cursor: page.next_cursor };
  });
