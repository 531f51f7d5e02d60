export { createEmbeddedChain, type EmbeddedChain, type EmbeddedChainOptions } from './embedded/chain';
export { createMemorySnapshotStore } from './embedded/memory-store';
export { generateKeypair, parseSecretKey, publicKeyOf } from './keys';
export { createRpcChain, type RpcChainOptions } from './rpc/chain';
export { type LocalRpcServer, type LocalRpcServerOptions, startLocalRpcServer } from './rpc-server/server';
export {
  buildUnsignedUsdcPayment,
  checkSignedCopy,
  checkUsdcPayment,
  signSerializedTransaction,
  UnexpectedTransactionError,
  type UsdcPayment,
} from './sign';
export { MAINNET_USDC_MINT, type PriorityFee, USDC_DECIMALS } from './transactions';
