// One webhook request: a signed POST to the addresses the URL was checked against (url.ts), so
// a DNS answer that changed since cannot send it to a private address. Redirects are never
// followed (a 3xx is a failure): the receiver is the URL an admin gave, nothing else.
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { CheckedUrl } from './url';

export const SEND_TIMEOUT_MS = 10_000;
/** How much of a receiver's answer is kept. */
export const RESPONSE_BODY_BYTES = 1024;

export interface SendResult {
  ok: boolean;
  status: number | null;
  latencyMs: number;
  /** The first KiB of the answer, as text. */
  body: string | null;
  error: string | null;
}

export interface Message {
  id: string;
  timestamp: number;
  signature: string;
  body: string;
}

/** A connection pool for one run of sends to one endpoint (keep-alive: one socket, reused). */
export function agentFor(url: URL): http.Agent {
  const options = { keepAlive: true, maxSockets: 1 };
  return url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
}

/** Resolves the host only to the checked addresses. */
function pinnedLookup(addresses: string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: isIP(address) }));
  return (_hostname, options, callback) => {
    const wanted = options.family ? entries.filter((entry) => entry.family === options.family) : entries;
    const found = wanted.length ? wanted : entries;
    if (options.all) (callback as (e: null, a: typeof entries) => void)(null, found);
    else callback(null, found[0]!.address, found[0]!.family);
  };
}

export function send(target: CheckedUrl, message: Message, agent?: http.Agent): Promise<SendResult> {
  const { url } = target;
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        agent,
        lookup: pinnedLookup(target.addresses),
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(message.body),
          'user-agent': 'promo-codes-webhooks',
          'webhook-id': message.id,
          'webhook-timestamp': String(message.timestamp),
          'webhook-signature': message.signature,
        },
      },
      (response) => {
        const kept: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < RESPONSE_BODY_BYTES) kept.push(chunk.subarray(0, RESPONSE_BODY_BYTES - size));
          size += chunk.length;
        });
        response.on('error', (error) => finish(null, error.message));
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          // PostgreSQL text holds no NUL.
          const body = Buffer.concat(kept).toString('utf8').replaceAll('\u0000', '');
          finish(status, null, body);
        });
      },
    );
    const timer = setTimeout(
      () => request.destroy(new Error(`no answer within ${SEND_TIMEOUT_MS / 1000} s`)),
      SEND_TIMEOUT_MS,
    );
    let done = false;
    function finish(status: number | null, error: string | null, body: string | null = null) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const ok = status !== null && status >= 200 && status < 300;
      resolve({ ok, status, latencyMs: latency(), body, error: error ?? (ok ? null : `answered ${status}`) });
    }
    request.on('error', (error) => finish(null, error.message));
    request.end(message.body);
  });
}
