// Webhook signing secrets, derived and never stored: an endpoint's secret is
// `whsec_` + base64(HMAC-SHA256(WEBHOOK_KEY, "webhook-endpoint:<id>:<secret_version>")), so the
// database holds nothing that signs, and rotating is a new version number. Signatures follow
// Standard Webhooks (https://www.standardwebhooks.com): `v1,<base64 HMAC-SHA256>` of
// `<msg id>.<timestamp>.<body>`, one per secret, space-separated.
import { createHmac, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config';

const SECRET_PREFIX = 'whsec_';
/** How long the secret before a rotation keeps signing, so receivers can switch without a gap. */
const PREVIOUS_SECRET_MS = 24 * 3600 * 1000;
const KEY_FILE = 'webhook.key';

/** What the secrets of an endpoint are derived from. */
export interface SecretVersions {
  id: string;
  secret_version: number;
  previous_secret_version: number | null;
  secret_rotated_at: Date | null;
}

export function endpointSecret(key: Buffer, id: string, version: number): string {
  return SECRET_PREFIX + createHmac('sha256', key).update(`webhook-endpoint:${id}:${version}`).digest('base64');
}

/** When the previous secret stops signing, while it still does (24 h after a rotation); else null. */
export function previousSecretUntil(endpoint: SecretVersions, now = new Date()): Date | null {
  const rotatedAt = endpoint.secret_rotated_at?.getTime();
  if (endpoint.previous_secret_version === null || rotatedAt === undefined) return null;
  const until = rotatedAt + PREVIOUS_SECRET_MS;
  return now.getTime() < until ? new Date(until) : null;
}

/**
 * The secrets to sign with: the current one and, for 24 h after a rotation, the previous one.
 */
export function signingSecrets(key: Buffer, endpoint: SecretVersions, now = new Date()): string[] {
  const secrets = [endpointSecret(key, endpoint.id, endpoint.secret_version)];
  if (endpoint.previous_secret_version !== null && previousSecretUntil(endpoint, now)) {
    secrets.push(endpointSecret(key, endpoint.id, endpoint.previous_secret_version));
  }
  return secrets;
}

/** The `webhook-signature` header value: `v1,<signature>` for each secret. */
export function sign(secrets: readonly string[], msgId: string, timestamp: number, body: string): string {
  const content = `${msgId}.${timestamp}.${body}`;
  return secrets
    .map((secret) => {
      const raw = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
      return `v1,${createHmac('sha256', raw).update(content).digest('base64')}`;
    })
    .join(' ');
}

const keys = new Map<string, Promise<Buffer>>();

/**
 * WEBHOOK_KEY, or else the key kept in DATA_DIR/webhook.key, made (mode 0600) on first use.
 * Nodes that do not share DATA_DIR must share a WEBHOOK_KEY, or their secrets differ.
 */
export function webhookKey(config: Pick<Config, 'webhookKey' | 'dataDir'>): Promise<Buffer> {
  if (config.webhookKey) return Promise.resolve(config.webhookKey);
  let loading = keys.get(config.dataDir);
  if (!loading) {
    loading = keptKey(config.dataDir);
    keys.set(config.dataDir, loading);
    loading.catch(() => keys.delete(config.dataDir));
  }
  return loading;
}

async function keptKey(dataDir: string): Promise<Buffer> {
  const file = path.join(dataDir, KEY_FILE);
  const existing = await readKey(file);
  if (existing) return existing;
  await mkdir(dataDir, { recursive: true });
  // Written whole under another name, then linked into place: processes starting together
  // agree on the first key linked, and none reads a half-written file.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(draft, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await rm(draft, { force: true });
  }
  const kept = await readKey(file);
  if (!kept) throw new Error(`${file} vanished while it was made`);
  return kept;
}

async function readKey(file: string): Promise<Buffer | null> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length < 32) throw new Error(`${file} does not hold a key of 32 bytes in base64; remove it or fix it`);
  return bytes;
}
