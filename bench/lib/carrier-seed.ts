/**
 * Seeding for bench/carrier.ts, through the HTTP API only (as a client would):
 *   POST  /api/v1/products                                  (valid EAN-13, GS1 check digit computed here)
 *   PATCH /api/v1/compliance/dpp/{id}                       (a complete passport; materials sum to 100)
 *   PATCH /api/v1/compliance/products/{id}/environmental    (the product's regulatory data, for a realistic page)
 *   POST  /api/v1/compliance/dpp/{id}/publish
 * Titles, brands, categories and passport values come from the generator of bench/api.ts (bench/lib/catalog.ts).
 */
import { performance } from 'node:perf_hooks';
import { makeProduct, passportValues, prng } from './catalog.js';

/** GS1 mod-10 check digit of the data digits: weights 3,1,3,1… from the right. */
export function gs1CheckDigit(data: string): number {
  let sum = 0;
  for (let i = data.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += Number(data[i]) * w;
  return (10 - (sum % 10)) % 10;
}

/** A valid EAN-13 for product i: a GS1 member-organisation prefix (400–440 = Germany), 9 digits, check digit. */
export function ean13(i: number): string {
  const data = String(400 + (i % 10)) + String(100_000_000 + i).slice(-9);
  return data + String(gs1CheckDigit(data));
}

export interface SeededProduct {
  id: string;
  ean: string;
  gtin14: string;
}

interface Ctx {
  baseUrl: string;
  key: string;
}

async function call(ctx: Ctx, method: string, path: string, body?: unknown, expect = 200): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { authorization: `Bearer ${ctx.key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(ctx.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (r.status !== expect) throw new Error(`${method} ${path} answered ${r.status} (expected ${expect}): ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

async function seedOne(ctx: Ctx, i: number): Promise<SeededProduct> {
  const g = makeProduct(prng(0x5eed + i), i);
  const ean = ean13(i);
  const product = await call(
    ctx,
    'POST',
    '/api/v1/products',
    { title: g.title, ean, external_id: `CARRIER-${String(i + 1).padStart(6, '0')}`, brand: g.brand, category: g.category, description: g.description },
    201,
  );
  const id = product.product_id as string;
  if (product.gtin_valid !== true) throw new Error(`EAN ${ean} was not accepted as a valid GTIN: ${JSON.stringify(product)}`);
  const v = passportValues(id, g.brand, g.category, g.title, 'published');
  const sum = v.materials!.reduce((s, m) => s + m.percentage, 0);
  if (sum !== 100) throw new Error(`materials of ${id} sum to ${sum}`);
  await call(ctx, 'PATCH', `/api/v1/compliance/dpp/${id}`, {
    product_name: v.product_name,
    manufacturer: v.manufacturer,
    country_of_origin: v.country_of_origin,
    materials: v.materials,
    carbon_footprint_kg: v.carbon_footprint_kg,
    recyclability_score: v.recyclability_score,
    // Publishing refuses a mark the flags deny (e.g. REACH listed, reach_compliant false).
    certifications: (v.certifications ?? []).filter(
      (c) => !((c === 'CE' && v.ce_marked === false) || (c === 'RoHS' && v.rohs_compliant === false) || (c === 'REACH' && v.reach_compliant === false)),
    ),
    end_of_life_instructions: v.end_of_life_instructions,
  });
  const env = Object.fromEntries(
    (['reach_compliant', 'rohs_compliant', 'ce_marked', 'weee_category', 'energy_class', 'recyclable', 'hazardous_substances'] as const)
      .filter((f) => v[f] !== null)
      .map((f) => [f, v[f]]),
  );
  await call(ctx, 'PATCH', `/api/v1/compliance/products/${id}/environmental`, env);
  const published = await call(ctx, 'POST', `/api/v1/compliance/dpp/${id}/publish`);
  if (published.dpp_status !== 'published') throw new Error(`publish of ${id}: ${JSON.stringify(published)}`);
  return { id, ean, gtin14: product.gtin14 as string };
}

/** Seeds `count` published passports with `concurrency` requests in flight; returns them in creation order. */
export async function seedOverHttp(baseUrl: string, key: string, count: number, concurrency: number, log: (s: string) => void) {
  const ctx = { baseUrl, key };
  const out: SeededProduct[] = new Array(count);
  const t0 = performance.now();
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      out[i] = await seedOne(ctx, i);
      if (++done % 250 === 0) log(`  seeded ${done} products (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return { products: out, seconds, requests: count * 4 };
}
