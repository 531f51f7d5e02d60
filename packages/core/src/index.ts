export {
  assertPasswordAcceptable,
  normaliseEmail,
  passwordRules,
  type Role,
  roles,
  type UserStatus,
  userStatuses,
} from './accounts';
export { AppError, type ErrorBody, type ErrorCode, errorBody, errorStatus, isAppError } from './errors';
export { type IdKind, idPrefixes, isId, newId } from './ids';
export { assertStorableInput, maxInputDepth, unstorableInput } from './input';
export {
  type Asset,
  assertBalanced,
  chainCostPostings,
  ledgerAccount,
  type Posting,
  topUpAmount,
  transferPostings,
  UnbalancedLedgerError,
} from './ledger';
export type { Alert, AlertSink } from './ports/alerts';
export {
  type BillingCustomer,
  type BillingPort,
  BillingRefusedError,
  BillingSignatureError,
  type BillingSubscription,
  type BillingWebhookEvent,
  type MeterEvent,
} from './ports/billing';
export {
  type AgentListing,
  type AgentType,
  agentTimeoutMs,
  isPaidCallError,
  type JsonSchema,
  type MarketplacePort,
  PaidCallError,
  type PaidCallRequest,
  type PaidCallResult,
  type PaymentProof,
  type PlannedPayment,
  splitPrice,
  type TettoContext,
  type TettoIntent,
  type TettoStore,
} from './ports/marketplace';
export {
  type Balances,
  type BeforeSend,
  type ChainAccount,
  ChainError,
  type ChainErrorCode,
  type ChainSnapshotStore,
  isChainError,
  type Movement,
  type SavedTransaction,
  type Signer,
  type SolanaNetwork,
  type SolanaPort,
  type TransactionStatus,
  type UsdcTransfer,
} from './ports/solana';
export { developerCost, formatUsd } from './pricing';
export { subscriptionEnded } from './subscriptions';
export {
  defaultTiers,
  keyTier,
  resolveTiers,
  type Tier,
  type TierName,
  type TierOverrides,
  tierNames,
} from './tiers';
export { kekVersionOf, openSecret, rewrap, sealSecret, type VaultBinding } from './vault/envelope';
export { VaultError, type VaultErrorCode } from './vault/error';
export { createKeyring, generateKek, type KekEntry, type Keyring, parseKek } from './vault/keyring';
