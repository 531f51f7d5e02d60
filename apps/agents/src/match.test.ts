import { describe, expect, it } from 'vitest';
import { bestMatch, overlapScore, phrase, words } from './match';

describe('matching', () => {
  it('compares words, not case, punctuation, spacing or compatibility forms', () => {
    expect(words('  Où est la GARE?! ')).toEqual(['où', 'est', 'la', 'gare']);
    expect(phrase('ｆｕｌｌ－ｗｉｄｔｈ  Text')).toBe('full width text');
    expect(words('?!')).toEqual([]);
  });

  it('scores the overlap of word sets from 0 to 1', () => {
    expect(overlapScore(['a', 'b'], ['b', 'a', 'a'])).toBe(1);
    expect(overlapScore(['a', 'b'], ['b', 'c'])).toBe(1 / 3);
    expect(overlapScore(['a'], ['b'])).toBe(0);
    expect(overlapScore([], [])).toBe(0);
  });

  it('prefers an exact phrase to an equal word set in another order', () => {
    const candidates = [
      { id: '1', question: 'is it open' },
      { id: '2', question: 'It is open?' },
    ];
    expect(bestMatch('it is open', candidates)).toEqual({ candidate: candidates[1], score: 1, exact: true });
    expect(bestMatch('closed', candidates)).toBeUndefined();
  });
});
