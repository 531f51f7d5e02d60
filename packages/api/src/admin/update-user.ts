import { AppError, roles, tierNames, userStatuses } from '@tdk/core';
import { z } from 'zod';
import { recordAudit } from '../audit/record';
import { userDto, ZUser } from '../auth/schemas';
import { requestCustomerSync } from '../billing/delivery';
import { adminProcedure } from '../trpc';

/** Changes an account's role, tier or status. Suspending also signs the account out everywhere. */
export const updateUser = adminProcedure
  .meta({
    openapi: {
      method: 'PATCH',
      path: '/tdk/admin/users/{id}',
      tags: ['admin'],
      summary: 'Change role, tier or status (admin)',
      description: 'Audited. Suspending an account ends all its sessions.',
    },
  })
  .input(
    z.strictObject({
      id: z.string().max(64),
      role: z.enum(roles).optional(),
      tier: z.enum(tierNames).optional(),
      status: z.enum(userStatuses).optional(),
    }),
  )
  .output(ZUser)
  .mutation(async ({ ctx, input }) => {
    const { id, ...requested } = input;
    if (id === ctx.user.id && (requested.role === 'customer' || requested.status === 'suspended')) {
      throw new AppError('forbidden', 'Admins cannot demote or suspend themselves.');
    }
    return ctx.services.db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom('app_user')
        .selectAll()
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
      if (!before) throw new AppError('not_found', `No account ${id}.`);
      const changes = Object.fromEntries(
        (['role', 'tier', 'status'] as const)
          .filter((field) => requested[field] !== undefined && requested[field] !== before[field])
          .map((field) => [field, { from: before[field], to: requested[field] }]),
      );
      if (Object.keys(changes).length === 0) return userDto(before);
      const after = await trx
        .updateTable('app_user')
        .set({ ...requested, updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      if (after.status === 'suspended') await trx.deleteFrom('session').where('user_id', '=', id).execute();
      // The account's wallets follow its tier: their funding and top-up amounts are the tier's.
      if (changes.tier) {
        await trx.updateTable('wallet').set({ tier: after.tier }).where('owner_user_id', '=', id).execute();
        // And Stripe is told, once the account is billed at all (its first key opens billing).
        const billed = await trx
          .selectFrom('billing_account')
          .select('user_id')
          .where('user_id', '=', id)
          .executeTakeFirst();
        if (billed) await requestCustomerSync(trx, id);
      }
      await recordAudit(trx, ctx, {
        actor: { type: 'user', id: ctx.user.id },
        action: 'user.updated',
        target: { type: 'user', id },
        details: { changes },
      });
      return userDto(after);
    });
  });
