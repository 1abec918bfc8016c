// Which URLs webhooks may be sent to. The service posts from inside its own network, so a URL
// that reaches loopback, a private range or the cloud metadata address would let whoever sets
// it probe that network. Every address the host resolves to must be public; delivery checks
// again at send time (the DNS answer may have changed) and connects only to the addresses
// checked (send.ts). WEBHOOK_ALLOW_PRIVATE lifts the address rule for a private deployment.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { Address6 } from 'ip-address';
import { DomainError } from '../http/errors';

const LOOKUP_TIMEOUT_MS = 5_000;

const refused = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", the unspecified address
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, the metadata address 169.254.169.254 among them
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, the broadcast address among them
] as const) {
  refused.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback, IPv4-compatible (deprecated)
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  refused.addSubnet(network, prefix, 'ipv6');
}

/** The IPv4 address an IPv6 address stands for: mapped, NAT64 or 6to4; else null. */
function embeddedIPv4(address: string): string | null {
  const value = new Address6(address).bigInt();
  const v4 = (bits: bigint) => [24n, 16n, 8n, 0n].map((shift) => (bits >> shift) & 0xffn).join('.');
  const low32 = value & 0xffffffffn;
  const high96 = value >> 32n;
  if (high96 === 0xffffn) return v4(low32); // ::ffff:a.b.c.d
  if (high96 === 0x0064ff9b0000000000000000n) return v4(low32); // 64:ff9b::/96
  if (value >> 112n === 0x2002n) return v4((value >> 80n) & 0xffffffffn); // 2002:aabb:ccdd::/48
  return null;
}

/** Whether a webhook may be sent to this IP address without WEBHOOK_ALLOW_PRIVATE. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !refused.check(address, 'ipv4');
  if (family !== 6) return false;
  const v4 = embeddedIPv4(address);
  if (v4 !== null) return !refused.check(v4, 'ipv4');
  return !refused.check(address, 'ipv6');
}

export interface CheckedUrl {
  url: URL;
  /** The addresses the host resolved to, all allowed: the ones to connect to. */
  addresses: string[];
}

const notAllowed = (message: string) =>
  new DomainError('webhook_url_not_allowed', `the webhook URL ${message}`, {
    fields: [{ path: 'body.url', message }],
  });

async function resolve(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  let timer: NodeJS.Timeout | undefined;
  try {
    const found = await Promise.race([
      lookup(host, { all: true, verbatim: true }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), LOOKUP_TIMEOUT_MS);
      }),
    ]);
    return found.map((entry) => entry.address);
  } catch {
    return [];
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks a webhook URL: http or https, no credentials, a host whose every address is public
 * (unless `allowPrivate`). Throws `webhook_url_not_allowed` naming the rule broken.
 */
export async function checkWebhookUrl(raw: string, options: { allowPrivate: boolean }): Promise<CheckedUrl> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw notAllowed('is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw notAllowed('must use http or https');
  if (url.username || url.password) throw notAllowed('must not hold a user name or password');
  // An IPv6 literal comes bracketed; the URL parser has already made other IP forms dotted.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw notAllowed('has no host');
  const addresses = await resolve(host);
  if (!addresses.length) throw notAllowed(`has a host that does not resolve: ${host}`);
  if (!options.allowPrivate) {
    const blocked = addresses.find((address) => !isPublicAddress(address));
    if (blocked !== undefined) {
      throw notAllowed(
        `reaches a loopback, private, link-local or reserved address (${blocked}); ` +
          'set WEBHOOK_ALLOW_PRIVATE=true to allow it',
      );
    }
  }
  return { url, addresses };
}
