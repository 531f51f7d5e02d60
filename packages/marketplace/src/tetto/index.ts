export { type TettoHttpOptions, tettoHttpHandler } from './http';
export {
  createTettoPlatformMarketplace,
  type TettoPlatformMarketplace,
  type TettoPlatformOptions,
} from './platform';
export {
  createTettoProtocol,
  memoryTettoStore,
  type TettoProtocol,
  type TettoProtocolOptions,
  type TettoReply,
  tettoRoutes,
} from './protocol';
export { startTettoStandIn, type TettoStandIn, type TettoStandInOptions } from './standin';
