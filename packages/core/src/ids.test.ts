import { describe, expect, it } from 'vitest';
import { isId, newId } from './ids';

describe('prefixed ids', () => {
  it('carry their kind and 128 bits of randomness', () => {
    const id = newId('user');
    expect(id).toMatch(/^usr_[a-z2-7]{26}$/);
    expect(isId('user', id)).toBe(true);
    expect(isId('session', id)).toBe(false);
  });

  it('do not repeat', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId('request')));
    expect(ids.size).toBe(10_000);
  });
});
