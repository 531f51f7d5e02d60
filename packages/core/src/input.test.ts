import { describe, expect, it } from 'vitest';
import { assertStorableInput, maxInputDepth, unstorableInput } from './input';

const nested = (depth: number): unknown => (depth === 0 ? 'leaf' : { a: nested(depth - 1) });

describe('unstorableInput', () => {
  it('accepts ordinary JSON, emoji and right-to-left text included', () => {
    expect(unstorableInput({ a: [1, 'x', null, { b: '👩‍👩‍👧 \u202e مرحبا' }] })).toBeUndefined();
    expect(unstorableInput(nested(maxInputDepth))).toBeUndefined();
  });

  it('names NUL, unpaired surrogates (in values and names) and absurd nesting, with where', () => {
    expect(unstorableInput({ a: ['ok', 'x\0y'] })).toMatchObject({ path: 'a.1' });
    expect(unstorableInput({ a: '\ud800' })).toMatchObject({ path: 'a' });
    expect(unstorableInput({ 'b\udc00': 1 })).toMatchObject({ path: 'b\udc00' });
    expect(unstorableInput(nested(maxInputDepth + 1))?.message).toMatch(/deeper/);
  });

  it('walks 100,000 levels without overflowing the stack', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(unstorableInput(deep)).toBeDefined();
  });

  it('is a 400 invalid_input with the issue in details when asserted', () => {
    expect(() => assertStorableInput({ email: 'a\0' })).toThrow(
      expect.objectContaining({
        code: 'invalid_input',
        details: { issues: [expect.objectContaining({ path: 'email' })] },
      }),
    );
  });
});
