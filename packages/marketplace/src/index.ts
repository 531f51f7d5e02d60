export {
  agentListing,
  createLocalMarketplace,
  type LocalMarketplace,
  type LocalMarketplaceOptions,
} from './local/marketplace';
export { createSchemaValidator, type SchemaIssue } from './schemas';
export {
  createTettoPlatformMarketplace,
  type StandInChain,
  startTettoStandIn,
  type TettoChainReader,
  type TettoPlatformOptions,
  type TettoStandIn,
  type TettoStandInOptions,
} from './tetto';
