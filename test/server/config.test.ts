// Settings read from the environment: their defaults, bounds and the messages naming them.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';

describe('claim batch settings', () => {
  it('default to 4 lanes of up to 32 claims each', () => {
    expect(loadConfig({})).toMatchObject({ claimBatchLanes: 4, claimBatchSize: 32 });
    expect(loadConfig({ CLAIM_BATCH_LANES: '8', CLAIM_BATCH_SIZE: '1' })).toMatchObject({
      claimBatchLanes: 8,
      claimBatchSize: 1,
    });
  });

  it('leave at least one pool connection to everything else', () => {
    expect(loadConfig({ DATABASE_POOL_SIZE: '3' }).claimBatchLanes).toBe(2);
    expect(loadConfig({ DATABASE_POOL_SIZE: '2', CLAIM_BATCH_LANES: '1' }).claimBatchLanes).toBe(1);
  });

  it('refuse values out of bounds, naming the variable', () => {
    expect(() => loadConfig({ CLAIM_BATCH_LANES: '33' })).toThrow(ConfigError);
    expect(() => loadConfig({ CLAIM_BATCH_LANES: '0' })).toThrow(/CLAIM_BATCH_LANES/);
    expect(() => loadConfig({ CLAIM_BATCH_SIZE: '0' })).toThrow(/CLAIM_BATCH_SIZE/);
  });
});

describe('CORS_ORIGINS', () => {
  it('is none by default, a list of origins, or any', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: 'https://shop.example.com, http://localhost:5173/' }).corsOrigins).toEqual([
      'https://shop.example.com',
      'http://localhost:5173',
    ]);
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
  });

  it('refuses what is not an origin, naming the variable', () => {
    for (const bad of [
      'shop.example.com',
      'https://shop.example.com/path',
      'ftp://files.example.com',
      'https://a.example.com,',
    ]) {
      expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS/);
    }
  });
});
