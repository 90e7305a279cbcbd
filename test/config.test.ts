import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('has defaults for an embedded start', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.publicBaseUrl).toBe('http://localhost:8080');
    expect(config.dataDir.endsWith('/data')).toBe(true);
    expect(config.demoSeed).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('derives PUBLIC_BASE_URL from PORT and trims a trailing slash', () => {
    expect(loadConfig({ PORT: '3000' }).publicBaseUrl).toBe('http://localhost:3000');
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://dpp.example.com/' }).publicBaseUrl).toBe('https://dpp.example.com');
  });

  it('switches to PostgreSQL on a postgres URL and then seeds no demo by default', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u@db:5432/dpp' });
    expect(config.databaseUrl).toBe('postgres://u@db:5432/dpp');
    expect(config.demoSeed).toBe(false);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ PUBLIC_BASE_URL: 'not a url' }, 'PUBLIC_BASE_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DEMO_SEED: 'maybe' }, 'DEMO_SEED'],
    [{ BODY_LIMIT_BYTES: '-1' }, 'BODY_LIMIT_BYTES'],
  ])('refuses %o naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });
});
