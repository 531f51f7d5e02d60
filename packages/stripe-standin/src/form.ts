/** Parameters as Stripe's form encoding nests them: every leaf is a string. */
export interface Form {
  [key: string]: string | Form;
}

/**
 * Decodes Stripe's form encoding (`a[b][c]=1`, `keys[]=x`, `items[0][price]=p`) into nested objects.
 * Lists stay objects keyed '0', '1', … (`[]` takes the next free index); `list()` reads them back.
 */
export function decodeForm(text: string): Form {
  const root: Form = {};
  for (const [name, value] of new URLSearchParams(text)) {
    const keys = [
      name.replace(/\[.*$/, ''),
      ...Array.from(name.matchAll(/\[([^\]]*)\]/g), (m) => m[1] ?? ''),
    ];
    // The keys are the client's: never let one reach an object's prototype.
    if (keys.includes('__proto__')) continue;
    let node = root;
    for (const [i, key] of keys.entries()) {
      const at = key === '' ? String(Object.keys(node).length) : key;
      if (i === keys.length - 1) {
        node[at] = value;
      } else {
        const child = node[at];
        const next: Form = typeof child === 'object' ? child : {};
        node[at] = next;
        node = next;
      }
    }
  }
  return root;
}

/** A list parameter's items in index order (integer keys enumerate in ascending order). */
export function list(value: string | Form | undefined): Array<string | Form> {
  return typeof value === 'object' ? Object.values(value) : [];
}
