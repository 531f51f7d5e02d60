import type { TRPCRouterRecord } from '@trpc/server';
import { listAudit } from './admin/list-audit';
import { listUsers } from './admin/list-users';
import { getReconciliation } from './admin/reconciliation';
import { getTreasury } from './admin/treasury';
import { updateUser } from './admin/update-user';
import { changePassword } from './auth/change-password';
import { login } from './auth/login';
import { logout, logoutEverywhere } from './auth/logout';
import { me } from './auth/me';
import { refresh } from './auth/refresh';
import { register } from './auth/register';
import { getInfo } from './system/get-info';
import { router } from './trpc';

const system = { info: getInfo } satisfies TRPCRouterRecord;
const auth = {
  register,
  login,
  refresh,
  logout,
  logoutEverywhere,
  changePassword,
  me,
} satisfies TRPCRouterRecord;
const admin = {
  users: { list: listUsers, update: updateUser },
  audit: { list: listAudit },
  treasury: { get: getTreasury },
  reconciliation: { get: getReconciliation },
} satisfies TRPCRouterRecord;

/** The one root router: served over tRPC at /trpc and, for procedures with OpenAPI meta, over REST at /api. */
export const appRouter = router({ system, auth, admin });

export type AppRouter = typeof appRouter;
