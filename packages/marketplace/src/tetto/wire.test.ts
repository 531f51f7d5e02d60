import { describe, expect, it } from 'vitest';
import { agentFromWire } from './wire';

describe('Tetto agent listings from the wire', () => {
  const minimal = {
    id: '60fa88a8-5e8e-4884-944f-ac9fe278ff18',
    name: 'TitleGenerator',
    price_base: '10000',
    token: 'USDC',
    token_mint: 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v',
    token_decimals: 6,
    owner_wallet: 'AYPz8VHckZbbqsQd4qQfypKrE6bpSpJKJNYr9r4AJNZV',
  };

  it('takes price_base as a string or a number, and defaults what a payment does not depend on', () => {
    expect(agentFromWire(minimal)).toEqual({
      ...minimal,
      price_base: 10_000n,
      description: '',
      endpoint_url: '',
      price_display: '',
      input_schema: {},
      output_schema: {},
      fee_bps: 1000,
      status: 'active',
      agent_type: 'simple',
      example_inputs: [],
    });
    expect(agentFromWire({ ...minimal, price_base: 10_000, agent_type: 'coordinator' })).toMatchObject({
      price_base: 10_000n,
      agent_type: 'coordinator',
    });
  });

  it.each([
    ['a fractional price', { price_base: 0.5 }],
    ['a negative price', { price_base: -1 }],
    ['no owner', { owner_wallet: undefined }],
    ['a fee above 100%', { fee_bps: 10_001 }],
    ['an unknown token', { token: 'BONK' }],
  ])('refuses a listing with %s', (_, change) => {
    expect(() => agentFromWire({ ...minimal, ...change })).toThrow(TypeError);
  });
});
