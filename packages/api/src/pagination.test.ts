import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './pagination';

const cursorOf = (at: string) => Buffer.from(`${at}|usr_x`).toString('base64url');

describe('cursors', () => {
  it('keep the time to the microsecond, as Postgres prints it', () => {
    const at = '2026-12-01T10:00:00.123456Z';
    expect(decodeCursor(encodeCursor({ at, id: 'usr_x' }))).toEqual({ at, id: 'usr_x' });
    expect(decodeCursor(encodeCursor({ at: new Date(at), id: 'usr_x' })).at).toBe('2026-12-01T10:00:00.123Z');
  });

  it('refuse times JavaScript would roll over or Postgres could not read', () => {
    for (const at of [
      '2026-02-31T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '0000-01-01T00:00:00Z',
      '2026-01-01 00:00:00',
      'nonsense',
    ]) {
      expect(() => decodeCursor(cursorOf(at)), at).toThrow('The cursor is not valid.');
    }
    expect(() => decodeCursor('')).toThrow('The cursor is not valid.');
  });
});
