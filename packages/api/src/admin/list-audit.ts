import { z } from 'zod';
import { newestFirst, ZPageInput } from '../pagination';
import { adminProcedure } from '../trpc';

const ZAuditEntry = z
  .object({
    id: z.string(),
    at: z.string(),
    actor_type: z.enum(['user', 'system', 'anonymous']),
    actor_id: z.string().nullable(),
    action: z.string(),
    target_type: z.string().nullable(),
    target_id: z.string().nullable(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });

export const listAudit = adminProcedure
  .meta({
    openapi: { method: 'GET', path: '/tdk/admin/audit', tags: ['admin'], summary: 'The audit log (admin)' },
  })
  .input(
    z.object({
      actor_id: z.string().max(64).optional(),
      action: z.string().max(64).optional().describe('Exact action, or a prefix ending in `.`, e.g. `auth.`'),
      target_id: z.string().max(64).optional(),
      from: z.iso.datetime({ offset: true }).optional(),
      to: z.iso.datetime({ offset: true }).optional(),
      ...ZPageInput,
    }),
  )
  .output(z.object({ items: z.array(ZAuditEntry), next_cursor: z.string().nullable() }))
  .query(async ({ ctx, input }) => {
    let q = ctx.services.db.selectFrom('audit_log').selectAll();
    if (input.actor_id) q = q.where('actor_id', '=', input.actor_id);
    if (input.target_id) q = q.where('target_id', '=', input.target_id);
    if (input.action) {
      q = input.action.endsWith('.')
        ? q.where('action', 'like', `${input.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
        : q.where('action', '=', input.action);
    }
    if (input.from) q = q.where('at', '>=', new Date(input.from));
    if (input.to) q = q.where('at', '<', new Date(input.to));
    const page = await newestFirst(q, { time: 'at', id: 'id' }, input);
    return {
      items: page.items.map((r) => ({ ...r, at: r.at.toISOString() })),
      next_cursor: page.next_cursor,
    };
  });
