export { createTettoPlatformMarketplace, type TettoChainReader, type TettoPlatformOptions } from './platform';
export { type StandInChain, startTettoStandIn, type TettoStandIn, type TettoStandInOptions } from './standin';
