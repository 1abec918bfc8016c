// The key webhook secrets are derived from: WEBHOOK_KEY, or one made once into DATA_DIR.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { endpointSecret, webhookKey } from '../../src/webhooks/secrets';

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'webhook-key-'));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('WEBHOOK_KEY', () => {
  it('takes 32 bytes or more in hex or base64', () => {
    const bytes = Buffer.alloc(32, 7);
    expect(loadConfig({}).webhookKey).toBeNull();
    expect(loadConfig({ WEBHOOK_KEY: bytes.toString('hex') }).webhookKey).toEqual(bytes);
    expect(loadConfig({ WEBHOOK_KEY: bytes.toString('base64') }).webhookKey).toEqual(bytes);
    expect(loadConfig({ WEBHOOK_KEY: bytes.toString('base64url') }).webhookKey).toEqual(bytes);
    expect(loadConfig({ WEBHOOK_KEY: Buffer.alloc(48, 1).toString('base64') }).webhookKey).toHaveLength(48);
  });

  it('refuses a short or malformed key, naming the variable and not the value', () => {
    for (const bad of [Buffer.alloc(31).toString('hex'), Buffer.alloc(31).toString('base64'), 'not a key!', 'short']) {
      expect(() => loadConfig({ WEBHOOK_KEY: bad })).toThrow(ConfigError);
      try {
        loadConfig({ WEBHOOK_KEY: bad });
      } catch (error) {
        expect((error as Error).message).toMatch(/^WEBHOOK_KEY must be at least 32 bytes/);
        expect((error as Error).message).not.toContain(bad);
      }
    }
  });

  it('WEBHOOK_ALLOW_PRIVATE is off unless set', () => {
    expect(loadConfig({}).webhookAllowPrivate).toBe(false);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'true' }).webhookAllowPrivate).toBe(true);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'maybe' })).toThrow(/WEBHOOK_ALLOW_PRIVATE/);
  });
});

describe('the kept key', () => {
  it('is WEBHOOK_KEY when set, and nothing is written', async () => {
    const dataDir = await tempDir();
    const given = Buffer.alloc(32, 9);
    expect(await webhookKey({ webhookKey: given, dataDir })).toBe(given);
    await expect(stat(path.join(dataDir, 'webhook.key'))).rejects.toThrow();
  });

  it('is made once into DATA_DIR/webhook.key, readable by its owner only, and read again later', async () => {
    const dataDir = path.join(await tempDir(), 'nested');
    // Processes (and callers) starting together agree on one key.
    const keys = await Promise.all(Array.from({ length: 5 }, () => webhookKey({ webhookKey: null, dataDir })));
    for (const key of keys) expect(key).toEqual(keys[0]);
    expect(keys[0]).toHaveLength(32);
    const file = path.join(dataDir, 'webhook.key');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64')).toEqual(keys[0]);

    // Read again, as another process would: the same directory, named otherwise, is not cached.
    expect(await webhookKey({ webhookKey: null, dataDir: `${dataDir}/` })).toEqual(keys[0]);
  });

  it('refuses a file that holds no key', async () => {
    const dataDir = await tempDir();
    await writeFile(path.join(dataDir, 'webhook.key'), 'short\n');
    await expect(webhookKey({ webhookKey: null, dataDir })).rejects.toThrow(/webhook\.key/);
  });

  it('derives a different secret per endpoint, version and key', () => {
    const a = Buffer.alloc(32, 1);
    const b = Buffer.alloc(32, 2);
    const secrets = [
      endpointSecret(a, '1', 1),
      endpointSecret(a, '1', 2),
      endpointSecret(a, '2', 1),
      endpointSecret(b, '1', 1),
    ];
    expect(new Set(secrets).size).toBe(4);
    expect(endpointSecret(a, '1', 1)).toBe(endpointSecret(a, '1', 1));
  });
});
