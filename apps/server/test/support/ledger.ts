import type { TestServer } from '../../src/testing';

/** Ledger movements of one kind on a wallet: agent payments by default, i.e. how many calls paid. */
export async function countMovements(
  server: TestServer,
  walletId: string,
  kind = 'agent_payment',
): Promise<number> {
  const row = await server.tdk.database.db
    .selectFrom('ledger_movement')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('wallet_id', '=', walletId)
    .where('kind', '=', kind)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
