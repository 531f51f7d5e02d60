/**
 * The answers agent's matching: deterministic and explainable, no model. Questions compare by their
 * words (letters and digits, lowercased after Unicode compatibility normalisation), so case,
 * punctuation and spacing never matter.
 */
export function words(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '');
}

/** The words in order: two questions with the same phrase are the same question. */
export function phrase(text: string): string {
  return words(text).join(' ');
}

/** Jaccard similarity of the two word sets: 1 for the same words, 0 for none in common. */
export function overlapScore(left: string[], right: string[]): number {
  const a = new Set(left);
  const b = new Set(right);
  let shared = 0;
  for (const word of a) if (b.has(word)) shared++;
  const union = a.size + b.size - shared;
  return union === 0 ? 0 : shared / union;
}

export interface Candidate {
  id: string;
  question: string;
}

/**
 * The best candidate for `question`: an exact match of words in order first, then the highest overlap
 * score; ties go to the alphabetically first question, then id, so the same data always gives the
 * same answer. Undefined when no candidate shares a word.
 */
export function bestMatch<C extends Candidate>(
  question: string,
  candidates: C[],
): { candidate: C; score: number; exact: boolean } | undefined {
  const asked = words(question);
  const phrase = asked.join(' ');
  return candidates
    .map((candidate) => {
      const theirs = words(candidate.question);
      return { candidate, score: overlapScore(asked, theirs), exact: theirs.join(' ') === phrase };
    })
    .filter(({ score }) => score > 0)
    .sort(
      (a, b) =>
        Number(b.exact) - Number(a.exact) ||
        b.score - a.score ||
        compare(a.candidate.question, b.candidate.question) ||
        compare(a.candidate.id, b.candidate.id),
    )[0];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
