import type { TRPCRouterRecord } from '@trpc/server';
import { listRegistry, tryAgent } from './admin/agents';
import { listBillingPeriods, listMeterReports, resolveHeldReport } from './admin/billing';
import { getCallDetail, listCalls } from './admin/calls';
import { getCustomer, listCustomers } from './admin/customers';
import { listBackgroundJobs } from './admin/jobs';
import { adminRevokeKey, adminRollKey, adminTopUpKey, createTestKey, listAllKeys } from './admin/keys';
import { listAudit } from './admin/list-audit';
import { listUsers } from './admin/list-users';
import { getOverview } from './admin/overview';
import { getReconciliation } from './admin/reconciliation';
import { resubscribeUser } from './admin/resubscribe';
import { adminSignIn } from './admin/session';
import { getTreasury } from './admin/treasury';
import { updateUser } from './admin/update-user';
import { usageBreakdown, usageByDay } from './admin/usage';
import { getAgent, listAgents } from './agents/list-agents';
import { registerAgent, updateAgent } from './agents/register-agent';
import { changePassword } from './auth/change-password';
import { login } from './auth/login';
import { logout, logoutEverywhere } from './auth/logout';
import { me } from './auth/me';
import { refresh } from './auth/refresh';
import { register } from './auth/register';
import { createCall } from './calls/create-call';
import { getCall } from './calls/get-call';
import { listOwnCalls } from './calls/list-calls';
import { watchCall } from './calls/watch-call';
import { revokeKey, rollKey, updateKey } from './keys/change-key';
import { generateKey } from './keys/generate-key';
import { getKey, listKeys } from './keys/list-keys';
import { getInfo } from './system/get-info';
import { router } from './trpc';
import { getDailyUsage } from './usage/daily';
import { getCurrentUsage } from './usage/get-current';

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
const keys = {
  generate: generateKey,
  list: listKeys,
  get: getKey,
  update: updateKey,
  revoke: revokeKey,
  roll: rollKey,
} satisfies TRPCRouterRecord;
const agents = { list: listAgents, get: getAgent } satisfies TRPCRouterRecord;
const calls = {
  create: createCall,
  get: getCall,
  list: listOwnCalls,
  events: watchCall,
} satisfies TRPCRouterRecord;
const usage = { current: getCurrentUsage, daily: getDailyUsage } satisfies TRPCRouterRecord;
const admin = {
  signIn: adminSignIn,
  overview: getOverview,
  users: { list: listUsers, update: updateUser, resubscribe: resubscribeUser },
  customers: { list: listCustomers, get: getCustomer },
  keys: {
    list: listAllKeys,
    revoke: adminRevokeKey,
    roll: adminRollKey,
    topUp: adminTopUpKey,
    createTestKey,
  },
  calls: { list: listCalls, get: getCallDetail },
  usage: { byDay: usageByDay, breakdown: usageBreakdown },
  agents: { list: listRegistry, register: registerAgent, update: updateAgent, try: tryAgent },
  audit: { list: listAudit },
  treasury: { get: getTreasury },
  reconciliation: { get: getReconciliation },
  billing: { periods: listBillingPeriods, reports: listMeterReports, resolveReport: resolveHeldReport },
  jobs: { list: listBackgroundJobs },
} satisfies TRPCRouterRecord;

/** The one root router: served over tRPC at /trpc and, for procedures with OpenAPI meta, over REST at /api. */
export const appRouter = router({ system, auth, keys, agents, calls, usage, admin });

export type AppRouter = typeof appRouter;
