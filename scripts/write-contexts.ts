/**
 * Writes the JSON-LD contexts the service builds in memory to the `.jsonld` files published beside them
 * (src/features/export/contexts/), after a passport field was added to the model.
 *
 *   npm run contexts
 */
import fs from 'node:fs';
import { CONTEXT_PATHS, DPP_CONTEXT_PATH } from '../src/features/export/contexts.js';

const file = new URL('../src/features/export/contexts/dpp-v1.jsonld', import.meta.url);
fs.writeFileSync(file, JSON.stringify(CONTEXT_PATHS[DPP_CONTEXT_PATH], null, 2) + '\n');
console.log(`wrote ${file.pathname}`);
