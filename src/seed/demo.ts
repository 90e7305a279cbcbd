import fs from 'node:fs';
import path from 'node:path';
import type { Database } from '../db/database.js';
import { createAccessService } from '../features/access/service.js';
import { createProductRepository } from '../features/products/repository.js';
import { gtinColumns } from '../features/products/service.js';
import { createStatsRepository } from '../features/stats/repository.js';
import { nowIso } from '../lib/time.js';
import { DEMO_PRODUCTS } from './demo-products.js';

export const DEMO_ORG = 'demo';

/**
 * On an empty database: a demo organisation, an API key with every scope, and a few products
 * (among them the API spec's example product), so the README's curl examples work at once.
 * The key is written to DATA_DIR/demo-api-key (mode 600) and returned; nothing happens when
 * any organisation already exists.
 */
export async function seedDemo(database: Database, dataDir: string): Promise<string | undefined> {
  const access = createAccessService(database.db);
  if ((await access.countOrganisations()) > 0) return undefined;
  const created = await access.createKey({ org: DEMO_ORG, scopes: ['read', 'write', 'admin'], name: 'demo' });
  const now = nowIso();
  const rows = DEMO_PRODUCTS.map((p) => ({
    id: p.id,
    org_id: created.org_id,
    external_id: p.external_id,
    title: p.title,
    ...gtinColumns(p.ean),
    brand: p.brand,
    category: p.category,
    description: p.description,
    attributes: JSON.stringify(p.attributes),
    created_at: now,
    updated_at: now,
  }));
  await database.db.transaction().execute(async (trx) => {
    await createProductRepository(trx).upsertMany(rows, new Set(rows.map((r) => r.id)));
    await createStatsRepository(trx).adjust(created.org_id, { total_products: DEMO_PRODUCTS.length });
  });
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'demo-api-key'), created.key + '\n', { mode: 0o600 });
  return created.key;
}
