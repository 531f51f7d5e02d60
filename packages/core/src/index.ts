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
export { defaultTiers, resolveTiers, type Tier, type TierName, type TierOverrides, tierNames } from './tiers';
export { kekVersionOf, openSecret, rewrap, sealSecret, type VaultBinding } from './vault/envelope';
export { VaultError, type VaultErrorCode } from './vault/error';
export { createKeyring, generateKek, type KekEntry, type Keyring, parseKek } from './vault/keyring';
