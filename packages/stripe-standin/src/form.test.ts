import { describe, expect, it } from 'vitest';
import { decodeForm, list } from './form';

describe('decodeForm', () => {
  it('nests bracketed keys, as the stripe SDK encodes them', () => {
    const form = decodeForm(
      'event_name=api_call&payload[stripe_customer_id]=cus_1&payload[value]=3&items[0][price]=price_1&metadata[tier]=pro',
    );
    expect(form).toEqual({
      event_name: 'api_call',
      payload: { stripe_customer_id: 'cus_1', value: '3' },
      items: { 0: { price: 'price_1' } },
      metadata: { tier: 'pro' },
    });
  });

  it('reads `[]` and indexed lists alike, and percent-encoded brackets', () => {
    expect(list(decodeForm('lookup_keys[]=a&lookup_keys[]=b').lookup_keys)).toEqual(['a', 'b']);
    expect(list(decodeForm('lookup_keys[1]=b&lookup_keys[0]=a').lookup_keys)).toEqual(['a', 'b']);
    expect(decodeForm('metadata%5Btier%5D=pro%20plus')).toEqual({ metadata: { tier: 'pro plus' } });
    expect(list(undefined)).toEqual([]);
  });

  it('keeps an empty value, which Stripe reads as "unset"', () => {
    expect(decodeForm('metadata=&metadata2[a]=')).toEqual({ metadata: '', metadata2: { a: '' } });
  });

  it('never lets a key reach the prototype', () => {
    const form = decodeForm('__proto__[polluted]=1&a[__proto__][polluted]=1');
    expect(form).toEqual({});
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
