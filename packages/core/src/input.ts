import { AppError } from './errors';

/** How deep JSON input may nest: far beyond any real request, far within what JSON.stringify and Postgres take. */
export const maxInputDepth = 64;

// A surrogate half without its other half: not Unicode, so not storable as text.
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const unstorableText = (text: string) => text.includes('\0') || loneSurrogate.test(text);

/**
 * Why input cannot be stored or passed on, or undefined when it can: nesting deeper than
 * `maxInputDepth` (it overflows the stack of JSON.stringify, and Postgres refuses it), or text holding
 * NUL or unpaired surrogates (Postgres refuses both in text and JSON). Walks the value without
 * recursion, so depth cannot break the walk itself.
 */
export function unstorableInput(value: unknown): { path: string; message: string } | undefined {
  const pending: Array<{ item: unknown; depth: number; path: string }> = [
    { item: value, depth: 0, path: '' },
  ];
  while (pending.length > 0) {
    const { item, depth, path } = pending.pop()!;
    if (typeof item === 'string' && unstorableText(item)) {
      return { path, message: 'Text must not contain NUL characters or unpaired surrogates.' };
    }
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= maxInputDepth) return { path, message: `Nested deeper than ${maxInputDepth} levels.` };
    for (const [key, child] of Object.entries(item)) {
      const childPath = path ? `${path}.${key}` : key;
      if (unstorableText(key)) {
        return { path: childPath, message: 'Names must not contain NUL characters or unpaired surrogates.' };
      }
      pending.push({ item: child, depth: depth + 1, path: childPath });
    }
  }
  return undefined;
}

/** `unstorableInput` as the API's 400 `invalid_input`, with the issue in `details.issues`. */
export function assertStorableInput(value: unknown): void {
  const issue = unstorableInput(value);
  if (issue) {
    throw new AppError('invalid_input', 'The request is not valid.', {
      details: { issues: [{ ...issue, code: 'unstorable' }] },
    });
  }
}
