/**
 * Results of a costly pure function of public data, remembered by key, e.g. addresses decoded or
 * derived on every payment. Bounded: past `limit` entries, the oldest is forgotten.
 */
export class Memo<T> {
  private readonly values = new Map<string, T>();

  constructor(private readonly limit: number) {}

  get(key: string, compute: () => T): T {
    let value = this.values.get(key);
    if (value === undefined) {
      value = compute();
      if (this.values.size >= this.limit) this.values.delete(this.values.keys().next().value!);
      this.values.set(key, value);
    }
    return value;
  }
}
