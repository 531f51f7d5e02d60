import { describe, expect, it } from 'vitest';
import { addressKey } from './limits';

describe('addressKey', () => {
  it('counts an IPv4 address as itself, also when it comes IPv4-mapped', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts an IPv6 address by its /64 network, however it is written', () => {
    const network = '2001:db8:85a3:8d3::/64';
    for (const ip of [
      '2001:db8:85a3:8d3:1319:8a2e:370:7348',
      '2001:0DB8:85A3:08D3:ffff:ffff:ffff:ffff',
      '2001:db8:85a3:8d3::1',
      '2001:db8:85a3:8d3::2%eth0',
    ]) {
      expect(addressKey(ip), ip).toBe(network);
    }
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('2001:db8:85a3:8d4::1')).not.toBe(network);
  });

  it('has one key for a request without an address', () => {
    expect(addressKey(undefined)).toBe('unknown');
  });
});
