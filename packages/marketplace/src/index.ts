export {
  type AgentAnswer,
  type AgentCall,
  type AgentInvoker,
  createAgentInvoker,
  tettoContext,
} from './agent-endpoint';
export {
  agentListing,
  createLocalMarketplace,
  type LocalMarketplace,
  type LocalMarketplaceOptions,
} from './local/marketplace';
export { createSchemaValidator, type SchemaIssue } from './schemas';
export {
  createTettoPlatformMarketplace,
  createTettoProtocol,
  memoryTettoStore,
  startTettoStandIn,
  type TettoHttpOptions,
  type TettoPlatformMarketplace,
  type TettoPlatformOptions,
  type TettoProtocol,
  type TettoProtocolOptions,
  type TettoReply,
  type TettoStandIn,
  type TettoStandInOptions,
  tettoHttpHandler,
  tettoRoutes,
} from './tetto';
