// Sign-in limits count an IPv6 client by its /64, so a host cannot rotate addresses within its
// own network for a fresh allowance per password guess.
import { describe, expect, it } from 'vitest';
import { clientOf } from '../../src/operators/sessions.routes';

describe('clientOf', () => {
  it('keeps IPv4 addresses and unwraps IPv4-mapped IPv6 ones', () => {
    expect(clientOf('203.0.113.7')).toBe('203.0.113.7');
    expect(clientOf('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('groups IPv6 addresses of one /64 and keeps other networks apart', () => {
    expect(clientOf('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientOf('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(clientOf('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
  });
});
