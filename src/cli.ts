#!/usr/bin/env node
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createDatabase, defaultSqliteFile, openConfiguredDatabase, type Database } from './db/database.js';
import { AppError } from './errors.js';
import { createAccessService } from './features/access/service.js';
import { AUDIT_ACTIONS, type AuditActor } from './features/audit/record.js';
import { createAuditService } from './features/audit/service.js';
import { backupChunks } from './features/backup/export.js';
import { importBackup } from './features/backup/import.js';
import { importProducts } from './features/products/import.js';
import { createRegistryService } from './features/registry/service.js';
import { shouldParseInWorker } from './features/products/parse-in-worker.js';
import { formatFrom, type ImportFormat } from './features/products/row-sources.js';
import { describeDatabase } from './server.js';
import { serve } from './cluster.js';
import { createSystemWorker } from './jobs/registry.js';
import { runEvalCommand } from './features/extraction/eval.js';
import { ExtractionPool } from './features/extraction/text/index.js';
import { createProgress } from './lib/progress.js';

/** A mistake in how a command was called: printed as one line, no stack trace. */
class UsageError extends Error {}

/**
 * Runs a command against the configured database and closes it afterwards. Says which database it
 * opened (on stderr), and refuses to create an empty SQLite file at the default ./data: run from
 * another folder, a command would otherwise work on a new, empty catalog without a word. `serve` and
 * `migrate` create it, as does any command when DATA_DIR names the folder on purpose.
 */
async function withDatabase<T>(run: (database: Database, config: Config) => Promise<T>, options: { create?: boolean } = {}): Promise<T> {
  const config = loadConfig();
  if (!config.databaseUrl && !options.create && !config.dataDirSet && !fs.existsSync(defaultSqliteFile(config.dataDir))) {
    throw new UsageError(
      `no database at ${defaultSqliteFile(config.dataDir)}: run this from the project root, set DATA_DIR (or DATABASE_URL), ` + 'or create the database with `dpp migrate`',
    );
  }
  console.error(`database: ${describeDatabase(config)}`);
  // `migrate` opens without migrating first, so that it can say what it applied.
  const database = options.create ? await createDatabase({ databaseUrl: config.databaseUrl, sqliteFile: defaultSqliteFile(config.dataDir) }) : await openConfiguredDatabase(config);
  try {
    return await run(database, config);
  } finally {
    await database.close();
  }
}

const program = new Command('dpp').description('Digital Product Passports and EU compliance data for a product catalog').showHelpAfterError();

program
  .command('serve')
  .description('run the HTTP API (migrates first; seeds a demo organisation into an empty embedded database)')
  .option('--workers <n>', 'HTTP processes sharing the port (node:cluster; PostgreSQL only); default WEB_CONCURRENCY, else 1')
  .action(async (opts: { workers?: string }) => {
    const config = loadConfig();
    if (opts.workers !== undefined && !/^\d+$/.test(opts.workers)) throw new UsageError(`--workers must be a whole number, got "${opts.workers}"`);
    const workers = opts.workers === undefined ? config.webConcurrency : Number(opts.workers);
    if (workers < 1 || workers > 256) throw new UsageError(`--workers must be between 1 and 256, got ${workers}`);
    await serve(config, {
      workers,
      log: { info: (message) => console.error(`dpp serve: ${message}`), error: (message) => console.error(`dpp serve: ${message}`) },
    });
  });

program
  .command('worker')
  .description('run background jobs (document extraction) until SIGTERM; run several against PostgreSQL')
  .action(async () => {
    const config = loadConfig();
    if (!config.databaseUrl && !config.dataDirSet && !fs.existsSync(defaultSqliteFile(config.dataDir))) {
      throw new UsageError(`no database at ${defaultSqliteFile(config.dataDir)}: run this from the project root, or set DATA_DIR (or DATABASE_URL)`);
    }
    console.error(`database: ${describeDatabase(config)}`);
    const database = await openConfiguredDatabase(config);
    const worker = createSystemWorker(config, database, console);
    worker.start();
    console.error(`worker ${worker.id} started`);
    const stop = async () => {
      console.error('stopping: finishing running jobs');
      await worker.stop();
      await database.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop());
    process.once('SIGINT', () => void stop());
  });

program
  .command('eval-extraction <dir>')
  .description('score the extraction provider on a folder of labelled documents (precision and recall per field)')
  .option('--labels <file>', 'labels file (default: DIR/labels.json; documents in DIR or DIR/docs)')
  .action(async (dir: string, opts: { labels?: string }) => {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a folder (give the folder of labelled documents, e.g. ../shared/corpus/dev)`);
    const labels = opts.labels ?? path.join(dir, 'labels.json');
    if (!fs.existsSync(labels)) throw new UsageError(`no labels file at ${labels} (pass --labels FILE)`);
    // The documents are read one at a time by one warm extraction worker, stopped at the end.
    const pool = new ExtractionPool({ size: 1 });
    try {
      process.stdout.write((await runEvalCommand(dir, opts.labels, { pool })) + '\n');
    } finally {
      await pool.close();
    }
  });

program
  .command('migrate')
  .description('bring the database schema up to date and exit')
  .action(() =>
    withDatabase(
      async (database) => {
        const applied = (await database.migrate()).results ?? [];
        console.log(applied.length ? applied.map((r) => `applied ${r.migrationName}`).join('\n') : 'schema is up to date');
      },
      { create: true },
    ),
  );

/** Changes made with the CLI are audited with no key id, as `cli`. */
const CLI_ACTOR: AuditActor = { keyId: null, source: 'cli' };

const keys = program.command('keys').description('manage API keys');
keys
  .command('create')
  .description('create an API key (and the organisation when new); prints the key alone on the last line')
  .requiredOption('--org <slug>', 'organisation slug')
  .option('--scopes <list>', 'comma-separated: read, write, admin', 'read,write')
  .option('--name <name>', 'a label to recognise the key by')
  .action((opts: { org: string; scopes: string; name?: string }) =>
    withDatabase(async ({ db }) => {
      const created = await createAccessService(db).createKey(opts, CLI_ACTOR);
      console.error(`created key dpp_${created.id} for ${created.organisation} with scopes ${created.scopes.join(',')}`);
      console.error('store it now: it is not shown again');
      process.stdout.write(created.key + '\n');
    }),
  );
keys
  .command('list')
  .description('list the keys of an organisation (never the secrets)')
  .requiredOption('--org <slug>', 'organisation slug')
  .option('--json', 'print JSON')
  .action((opts: { org: string; json?: boolean }) =>
    withDatabase(async ({ db }) => {
      const list = await createAccessService(db).listKeys(opts.org);
      if (opts.json) return console.log(JSON.stringify(list, null, 2));
      console.log(['PREFIX', 'SCOPES', 'CREATED', 'LAST USED', 'REVOKED', 'NAME'].join('\t'));
      for (const k of list) {
        console.log([k.prefix, k.scopes.join(','), k.created_at, k.last_used_at ?? '-', k.revoked_at ?? '-', k.name ?? ''].join('\t'));
      }
    }),
  );
keys
  .command('revoke <prefix>')
  .description('revoke a key by its prefix (dpp_<id>) or the whole key')
  .action((prefix: string) =>
    withDatabase(async ({ db }) => {
      if (!(await createAccessService(db).revokeKey(prefix, CLI_ACTOR))) {
        console.error(`no active key ${prefix}`);
        process.exitCode = 1;
        return;
      }
      console.log(`revoked ${prefix}`);
    }),
  );

const orgs = program.command('org').description("an organisation's EU registry operator identifier");
orgs
  .command('show')
  .description('print an organisation and its operator identifier')
  .requiredOption('--org <slug>', 'organisation slug')
  .option('--json', 'print JSON')
  .action((opts: { org: string; json?: boolean }) =>
    withDatabase(async ({ db }) => {
      const org = await createRegistryService(db).organisation((await createAccessService(db).requireOrganisation(opts.org)).id);
      if (opts.json) return console.log(JSON.stringify(org, null, 2));
      console.log(`${org.slug}\t${org.name}\toperator_id: ${org.operator_id ? `${org.operator_id} (${org.operator_id_scheme})` : '-'}`);
    }),
  );
orgs
  .command('set-operator-id [operator-id]')
  .description('set the unique operator identifier for the EU DPP registry: an EORI number or a GLN (audited)')
  .requiredOption('--org <slug>', 'organisation slug')
  .option('--clear', 'remove it instead')
  .action((operatorId: string | undefined, opts: { org: string; clear?: boolean }) =>
    withDatabase(async ({ db }) => {
      if (!operatorId === !opts.clear) throw new UsageError('give an operator identifier, or --clear');
      const org = await createAccessService(db).requireOrganisation(opts.org);
      const updated = await createRegistryService(db).setOperatorId(org.id, opts.clear ? null : operatorId!, CLI_ACTOR);
      console.error(`registry entries completed: ${updated.registry_entries_completed}`);
      console.log(updated.operator_id ?? '-');
    }),
  );

program
  .command('audit')
  .description("print an organisation's audit log (publish, withdraw, deletions, key changes), newest first")
  .requiredOption('--org <slug>', 'organisation slug')
  .addOption(new Option('--action <action>', 'only this action').choices([...AUDIT_ACTIONS]))
  .option('--target <id>', 'only events about this product, document or key id')
  .option('--since <date-time>', 'events at or after (ISO-8601)')
  .option('--until <date-time>', 'events before (ISO-8601)')
  .option('--limit <n>', 'events at most (1-1000)', '50')
  .option('--json', 'print JSON')
  .action((opts: { org: string; action?: string; target?: string; since?: string; until?: string; limit: string; json?: boolean }) =>
    withDatabase(async ({ db }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000');
      const org = await createAccessService(db).requireOrganisation(opts.org);
      const { items, total } = await createAuditService(db).list(org.id, { action: opts.action, target_id: opts.target, since: opts.since, until: opts.until }, 1, limit);
      if (opts.json) return console.log(JSON.stringify(items, null, 2));
      console.log(['AT', 'ACTION', 'TARGET', 'ACTOR', 'KEY', 'DETAILS'].join('\t'));
      for (const e of items) {
        console.log([e.at, e.action, `${e.target_type}:${e.target_id}`, e.actor, e.actor_key_id ?? '-', JSON.stringify(e.details)].join('\t'));
      }
      if (total > items.length) console.error(`${items.length} of ${total} events shown (--limit)`);
    }),
  );

program
  .command('import <file>')
  .description('import products from CSV or NDJSON (upsert by external_id, else EAN); "-" reads stdin')
  .requiredOption('--org <slug>', 'organisation slug')
  .addOption(new Option('--format <format>', 'file format (default: from the file name)').choices(['csv', 'ndjson']))
  .option('--json', 'print the summary as JSON')
  .action((file: string, opts: { org: string; format?: ImportFormat; json?: boolean }) =>
    withDatabase(async ({ db }) => {
      const format = opts.format ?? formatFrom(path.basename(file));
      if (!format) throw new Error(`cannot tell the format of ${file}; pass --format csv|ndjson`);
      const org = await createAccessService(db).requireOrganisation(opts.org);
      const source = file === '-' ? process.stdin : { path: file };
      const total = file === '-' ? undefined : fs.statSync(file).size;
      const progress = createProgress(total);
      const summary = await importProducts(db, org.id, source, format, {
        onProgress: progress.update,
        parseInWorker: shouldParseInWorker(total),
      });
      progress.stop();
      if (summary.failed > 0) process.exitCode = 2;
      if (opts.json) return console.log(JSON.stringify(summary, null, 2));
      console.log(
        `${summary.rows} rows: ${summary.created} created, ${summary.updated} updated, ${summary.unchanged} unchanged, ${summary.failed} failed (${summary.duration_ms} ms)`,
      );
      for (const f of summary.failures) console.log(`  line ${f.line}: ${f.reason}`);
      if (summary.failures_truncated) console.log('  … more failures not shown');
    }),
  );

/** The passphrase of a backup's private keys, from the environment variable named (never from the command line, which `ps` shows). */
function passphraseFrom(variable: string): string {
  const value = process.env[variable];
  if (!value) throw new UsageError(`set the backup passphrase in ${variable} (or name another variable with --passphrase-env)`);
  return value;
}

const backup = program.command('backup').description("export an organisation's passports to a verifiable backup file, or import one");
backup
  .command('export')
  .description('write the backup of an organisation (NDJSON; gzip when --gzip or the file name ends in .gz)')
  .requiredOption('--org <slug>', 'organisation slug')
  .requiredOption('--out <file>', 'file to write ("-" for stdout)')
  .option('--gzip', 'gzip the file')
  .option('--audit', 'include the audit log')
  .option('--no-document-bytes', 'name documents by sha256 only (the importing installation must hold their bytes)')
  .option('--include-private-keys', 'include the private signing keys, encrypted with the passphrase in --passphrase-env')
  .option('--passphrase-env <variable>', 'environment variable holding the passphrase', 'DPP_BACKUP_PASSPHRASE')
  .action((opts: { org: string; out: string; gzip?: boolean; audit?: boolean; documentBytes: boolean; includePrivateKeys?: boolean; passphraseEnv: string }) =>
    withDatabase(async ({ db }, config) => {
      const org = await createAccessService(db).requireOrganisation(opts.org);
      const passphrase = opts.includePrivateKeys ? passphraseFrom(opts.passphraseEnv) : undefined;
      const chunks = Readable.from(
        backupChunks(
          db,
          { baseUrl: config.publicBaseUrl, signingSecret: config.signingSecret },
          { orgId: org.id, privateKeyPassphrase: passphrase, documentBytes: opts.documentBytes, audit: opts.audit ?? false, actor: CLI_ACTOR },
        ),
      );
      const gzip = opts.gzip === true || opts.out.endsWith('.gz');
      const write = (to: NodeJS.WritableStream) => (gzip ? pipeline(chunks, createGzip(), to) : pipeline(chunks, to));
      if (opts.out === '-') return write(process.stdout);
      // Written aside and renamed when complete: a failed export leaves no file at --out.
      const partial = `${opts.out}.partial`;
      try {
        await write(fs.createWriteStream(partial, { mode: 0o600 }));
      } catch (e) {
        fs.rmSync(partial, { force: true });
        throw e;
      }
      fs.renameSync(partial, opts.out);
      console.error(`wrote the backup of ${org.slug} to ${opts.out} (${fs.statSync(opts.out).size} bytes)`);
    }),
  );
backup
  .command('import')
  .description('import a backup into this installation: checked first (trailer hash, content hashes, credentials, conflicts), then written in one transaction')
  .requiredOption('--file <file>', 'the backup file (NDJSON, or gzip)')
  .option('--org <slug>', "the organisation's slug here (default: the backup's); its id stays the backup's")
  .option('--passphrase-env <variable>', 'environment variable holding the passphrase of a backup with private keys', 'DPP_BACKUP_PASSPHRASE')
  .option('--json', 'print the summary as JSON')
  .action((opts: { file: string; org?: string; passphraseEnv: string; json?: boolean }) =>
    withDatabase(async ({ db }, config) => {
      if (!fs.existsSync(opts.file)) throw new UsageError(`no file ${opts.file}`);
      const summary = await importBackup(
        db,
        { signingSecret: config.signingSecret },
        { file: opts.file, orgSlug: opts.org, passphrase: process.env[opts.passphraseEnv] || undefined, actor: CLI_ACTOR },
      );
      if (opts.json) return console.log(JSON.stringify(summary, null, 2));
      const counts = Object.entries(summary.counts)
        .map(([type, n]) => `${n} ${type}`)
        .join(', ');
      console.log(
        `imported ${summary.organisation.slug} (${summary.organisation.id}${summary.organisation.created ? ', created' : ''}) from ${summary.source}: ${counts} (${summary.duration_ms} ms)`,
      );
      if (summary.source !== config.publicBaseUrl)
        console.error(
          `note: the backup was made at ${summary.source}; this installation's PUBLIC_BASE_URL is ${config.publicBaseUrl}: its DIDs and credential URLs name the former`,
        );
      if (summary.keys_without_private_part)
        console.error(
          `note: ${summary.keys_without_private_part} signing keys came without their private part: retired here (they still verify); the next publish creates a new key`,
        );
    }),
  );

program.parseAsync().catch((e: unknown) => {
  if (e instanceof ConfigError) console.error(`configuration error: ${e.message}`);
  else if (e instanceof AppError || e instanceof UsageError) console.error(`error: ${e.message}`);
  else console.error(e);
  process.exit(1);
});
