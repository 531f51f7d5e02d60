import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { contractFile, type OpenApiDocument, renderContract } from '../scripts/contract';

const served = async () =>
  (await (await fetch(`${inject('tdk').url}/api/openapi.json`)).json()) as OpenApiDocument;

describe('the contract', () => {
  it("types the SDK's requests and answers exactly as the server's OpenAPI document does", async () => {
    expect(
      readFileSync(contractFile, 'utf8'),
      'src/contract.gen.ts differs from the server: run `pnpm --filter @tdk/client contract`, then fix what no longer type-checks',
    ).toBe(renderContract(await served()));
  });

  it('fails when the server renames a field', async () => {
    const doc = await served();
    const callResult = doc.components.schemas.CallResult;
    const { latency_ms, ...rest } = callResult?.properties ?? {};
    Object.assign(callResult ?? {}, { properties: { ...rest, duration_ms: latency_ms } });
    expect(renderContract(doc)).not.toBe(readFileSync(contractFile, 'utf8'));
  });
});
