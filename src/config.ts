// Every setting of the service, read once from the environment, validated and frozen.
// A bad value stops the process at start with a message naming the variable.
import path from 'node:path';
import { EMAIL_PATTERN } from './operators/operators.schema';
import { COUNTER_SLOTS } from './lists/counters';

export type Role = 'api' | 'worker' | 'all';

export interface Config {
  port: number;
  host: string;
  role: Role;
  databaseUrl: string | null;
  databasePoolSize: number;
  claimBatchLanes: number;
  claimBatchSize: number;
  dataDir: string;
  embeddedPgPort: number;
  adminApiKey: string | null;
  logLevel: string;
  bodyLimitBytes: number;
  workerConcurrency: number;
  workerDeadAfterSeconds: number;
  seedDemo: boolean;
  maxCodesPerRequest: number;
  publicUrl: string;
  smtpUrl: string | null;
  mailFrom: string;
  lockoutThreshold: number;
  lockoutWindowSeconds: number;
  lockoutDurationSeconds: number;
  rateLimitPerMinute: number;
  shutdownTimeoutMs: number;
  /** How long a duplicate write waits for the first with its Idempotency-Key before a 409. */
  idempotencyWaitMs: number;
  trustProxyHops: number;
  /** Origins whose browser scripts may call the API (CORS); empty: none, '*': any. */
  corsOrigins: string[];
  sessionTtlSeconds: number;
  adminEmail: string;
  /** The key webhook signing secrets are derived from; null: the one kept in DATA_DIR/webhook.key. */
  webhookKey: Buffer | null;
  /** Webhook URLs may point at loopback, private and link-local addresses (a private network). */
  webhookAllowPrivate: boolean;
  /** How long an event is retried before its endpoint is disabled as failing. */
  webhookRetryForSeconds: number;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** A comma-separated list of web origins (scheme, host, optional port), or '*'. */
function origins(env: Env, name: string): string[] {
  const raw = env[name]?.trim();
  if (!raw) return [];
  if (raw === '*') return ['*'];
  return raw.split(',').map((item) => {
    const given = item.trim();
    let url: URL | null = null;
    try {
      url = new URL(given);
    } catch {
      // reported below
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || url.origin !== given.replace(/\/$/, '')) {
      throw new ConfigError(
        `${name} must be '*' or a comma-separated list of origins such as https://app.example.com, got "${given}"`,
      );
    }
    return url.origin;
  });
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

/** Durations accept plain seconds or a number with s/m/h/d, e.g. `15m`. */
function seconds(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(raw);
  if (!match) throw new ConfigError(`${name} must be a duration like 900, 15m or 1h, got "${raw}"`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** A key of at least 32 bytes, written in hex or base64 (standard or URL-safe). */
function key(env: Env, name: string): Buffer | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  let bytes: Buffer | null = null;
  if (/^(?:[0-9a-fA-F]{2})+$/.test(raw)) bytes = Buffer.from(raw, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(raw)) bytes = Buffer.from(raw, 'base64');
  if (!bytes || bytes.length < 32) {
    throw new ConfigError(`${name} must be at least 32 bytes in hex or base64, e.g. from \`openssl rand -base64 32\``);
  }
  return bytes;
}

function text(env: Env, name: string): string | null {
  const raw = env[name]?.trim();
  return raw ? raw : null;
}

export function loadConfig(env: Env = process.env): Readonly<Config> {
  const role = (env.ROLE ?? 'all').trim() as Role;
  if (!['api', 'worker', 'all'].includes(role))
    throw new ConfigError(`ROLE must be api, worker or all, got "${env.ROLE}"`);

  const databaseUrl = text(env, 'DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const adminApiKey = text(env, 'ADMIN_API_KEY');
  if (adminApiKey && adminApiKey.length < 16) throw new ConfigError('ADMIN_API_KEY must be at least 16 characters');
  const databasePoolSize = int(env, 'DATABASE_POOL_SIZE', 20, 2, 1000);

  const adminEmail = text(env, 'ADMIN_EMAIL') ?? 'admin@localhost';
  if (!new RegExp(EMAIL_PATTERN).test(adminEmail) || adminEmail.length > 254) {
    throw new ConfigError(`ADMIN_EMAIL must be an email address like admin@example.com, got "${adminEmail}"`);
  }
  const sessionTtlSeconds = seconds(env, 'SESSION_TTL', 12 * 3600);
  if (sessionTtlSeconds < 60) throw new ConfigError('SESSION_TTL must be at least a minute');

  const port = int(env, 'PORT', 3000, 0, 65535);
  const host = text(env, 'HOST') ?? '0.0.0.0';
  const config: Config = {
    port,
    host,
    role,
    databaseUrl,
    databasePoolSize,
    // Lanes leave at least one connection of the pool to everything else.
    claimBatchLanes: Math.min(int(env, 'CLAIM_BATCH_LANES', 4, 1, COUNTER_SLOTS), databasePoolSize - 1),
    claimBatchSize: int(env, 'CLAIM_BATCH_SIZE', 32, 1, 1000),
    dataDir: path.resolve(text(env, 'DATA_DIR') ?? './data'),
    embeddedPgPort: int(env, 'EMBEDDED_PG_PORT', 54329, 1, 65535),
    adminApiKey,
    logLevel: text(env, 'LOG_LEVEL') ?? 'info',
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024),
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', 2, 1, 64),
    workerDeadAfterSeconds: seconds(env, 'WORKER_DEAD_AFTER', 30),
    seedDemo: bool(env, 'SEED_DEMO', true),
    maxCodesPerRequest: int(env, 'MAX_CODES_PER_REQUEST', 1_000_000, 1),
    publicUrl: (text(env, 'PUBLIC_URL') ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    smtpUrl: text(env, 'SMTP_URL'),
    mailFrom: text(env, 'MAIL_FROM') ?? 'Promo Codes <promo-codes@localhost>',
    lockoutThreshold: int(env, 'LOCKOUT_THRESHOLD', 10, 1),
    lockoutWindowSeconds: seconds(env, 'LOCKOUT_WINDOW', 15 * 60),
    lockoutDurationSeconds: seconds(env, 'LOCKOUT_DURATION', 30 * 60),
    rateLimitPerMinute: int(env, 'RATE_LIMIT_PER_MINUTE', 60_000, 0),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0),
    idempotencyWaitMs: int(env, 'IDEMPOTENCY_WAIT_MS', 10_000, 1, 600_000),
    trustProxyHops: int(env, 'TRUST_PROXY_HOPS', 0, 0, 10),
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    sessionTtlSeconds,
    adminEmail,
    webhookKey: key(env, 'WEBHOOK_KEY'),
    webhookAllowPrivate: bool(env, 'WEBHOOK_ALLOW_PRIVATE', false),
    webhookRetryForSeconds: seconds(env, 'WEBHOOK_RETRY_FOR', 3 * 86400),
  };
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (!levels.includes(config.logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${levels.join(', ')}`);
  return Object.freeze(config);
}
