export { ensureAdmin, hasAdmin } from './admin/bootstrap';
export { reconcile } from './admin/reconciliation';
export { type AgentRegistration, upsertAgent } from './agents/register-agent';
export { type AuthLimits, addressKey, createAuthLimits, isRateLimiterRes } from './auth/limits';
export { billingJobs, deliverUsage, identifierWindowMs, syncCustomer } from './billing/delivery';
export { handleStripeWebhook, type WebhookOutcome } from './billing/webhooks';
export { callJobHandlers } from './calls/call-job';
export { afterSeqOf, type CallEvent, readCallEvents, watchCallEvents } from './calls/events';
export { type CallLimits, createCallLimits } from './calls/limits';
export { recoverCalls } from './calls/recover-calls';
export { databaseUnavailable, invalidJson, toAppError } from './errors';
export { type ApiKeyVerifier, createApiKeyVerifier } from './keys/verifier';
export { fundLater, fundNewWallet, moneyJobs, type TopUp, topUpIfLow, walletBalance } from './money/funding';
export { ledgerBalances, recordMovement } from './money/ledger';
export { type ReconciliationReport, reconcileBalances } from './money/reconcile';
export { settleJournal } from './money/recovery';
export { checkTreasuryFloat, ensureTreasury, type TreasuryStatus, treasuryStatus } from './money/treasury';
export { rewrapWalletKeys } from './money/vault-rotation';
export { createWallet, signerOf, type WalletRow, walletOfKind } from './money/wallets';
export { createOpenApiDocument } from './openapi';
export { type AppRouter, appRouter } from './router';
export type {
  AuthSettings,
  BillingSettings,
  LimiterFactory,
  LimiterOptions,
  Services,
  TreasurySettings,
} from './services';
export { ensureInstance, instanceSetting } from './system/instance';
export type { Context, ErrorShapeData } from './trpc';
