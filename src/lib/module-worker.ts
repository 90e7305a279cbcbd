import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the worker module `name` that sits next to `callerUrl` (pass `import.meta.url`), with the
 * caller's extension: `name.js` from the compiled `dist/`, `name.ts` under tsx or vitest. Node 20 does
 * not apply `--import tsx` from a worker's execArgv to the worker's own entry module, so a .ts worker
 * starts from a one-line bootstrap that registers tsx's loader in the worker and then imports the entry.
 */
export function startModuleWorker(callerUrl: string, name: string, options: WorkerOptions): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), options);
  const entry = new URL(`./${name}.ts`, callerUrl).href;
  const bootstrap = `import(${JSON.stringify(tsxEsmApiUrl())}).then((m) => { (m.register ?? m.default.register)(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** tsx's ESM loader API (`tsx/esm/api`, import condition): its CommonJS build cannot be imported from a worker. */
function tsxEsmApiUrl(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('tsx/package.json');
  const manifest = require(manifestPath) as { exports: Record<string, { import: { default: string } }> };
  const target = manifest.exports['./esm/api']?.import.default ?? './dist/esm/api/index.mjs';
  return new URL(target, pathToFileURL(manifestPath)).href;
}
