import fs from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createAccessService } from '../../src/features/access/service.js';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, dialects, type TestDatabase } from '../helpers/db.js';
import { decodeQr, FULL_PASSPORT } from '../helpers/fixtures.js';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

/** A free loopback port, so PUBLIC_BASE_URL can name the address the server will listen on. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.each(dialects)('public passport page in a real browser (%s)', (dialect) => {
  let app: FastifyInstance;
  let database: TestDatabase;
  let browser: Browser;
  let uri: string;

  beforeAll(async () => {
    const port = await freePort();
    database = await createTestDatabase(dialect);
    const config = loadConfig({ PORT: String(port), HOST: '127.0.0.1', PUBLIC_BASE_URL: `http://127.0.0.1:${port}` });
    app = await buildApp({ config, database, logger: false });
    await app.listen({ port, host: '127.0.0.1' });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });

    const key = (await createAccessService(database.db).createKey({ org: 'browser-org', scopes: 'read,write' })).key;
    const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
      app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload ? { payload } : {}) });
    const id = (await call('POST', '/api/v1/products', { title: 'Bouilloire <img src=x onerror="window.__pwned=1">', ean: '9520123456788' })).json().product_id;
    await call('PATCH', `/api/v1/compliance/dpp/${id}`, { ...FULL_PASSPORT, manufacturer: '<script>window.__pwned=1</script>Ma Marque' });
    await call('PATCH', `/api/v1/compliance/products/${id}/environmental`, { rohs_compliant: true, ce_marked: true, weee_category: 6, energy_class: 'A' });
    await call('POST', `/api/v1/compliance/dpp/${id}/publish`);
    const png = (await call('GET', `/api/v1/compliance/dpp/${id}/qr`)).rawPayload;
    uri = decodeQr(png)!;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await database?.dispose();
  });

  it('opens the URI from the QR code and shows the passport in French and in English', async () => {
    expect(uri).toMatch(/\/01\/09520123456788$/);
    for (const [locale, words] of [
      ['fr-FR', ['Passeport numérique de produit', 'Empreinte carbone', 'Matériaux', 'France', '2,5', 'Conforme RoHS', 'Oui']],
      ['en-GB', ['Digital Product Passport', 'Carbon footprint', 'Materials', 'France', '2.5', 'RoHS compliant', 'Yes']],
    ] as const) {
      const context = await browser.newContext({ locale, javaScriptEnabled: true });
      const page = await context.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      const response = await page.goto(uri);
      expect(response?.status()).toBe(200);
      const text = await page.locator('body').innerText();
      for (const word of words) expect(text, `${locale}: ${word}`).toContain(word);
      expect(text).toContain('Acier inoxydable');
      expect(text).toContain('CE');
      // The hostile values are shown as text and never run.
      expect(text).toContain('<script>window.__pwned=1</script>Ma Marque');
      expect(text).toContain('<img src=x onerror="window.__pwned=1">');
      expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await page.locator('script').count()).toBe(0);
      expect(dialogs).toEqual([]);
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: new URL(`passport-page-${dialect}-${locale}.png`, ARTIFACTS).pathname, fullPage: true });
      await context.close();
    }
  });

  it('has no serious accessibility violation (axe-core)', async () => {
    // axe is injected past the page's strict CSP, which would rightly refuse it.
    const context = await browser.newContext({ bypassCSP: true, locale: 'fr-FR' });
    const page = await context.newPage();
    await page.goto(uri);
    await page.evaluate(AXE_SOURCE);
    const result = (await page.evaluate(() => (globalThis as unknown as { axe: { run(): Promise<unknown> } }).axe.run())) as {
      violations: Array<{ id: string; impact: string | null; help: string }>;
    };
    const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious, JSON.stringify(serious, null, 2)).toEqual([]);
    await context.close();
  });
});
