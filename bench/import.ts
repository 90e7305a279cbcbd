/**
 * Bulk-import benchmark: writes N generated products to a CSV file, imports it through `importProducts`
 * into a fresh SQLite file and/or a fresh PostgreSQL schema, and reports rows/s and peak RSS.
 *
 *   npx tsx bench/import.ts [--rows 1000000] [--dialect sqlite|postgres|both] [--update-pass] [--gen-only] [--no-limit]
 *
 * Each insert pass is followed by the bare limit on the same schema, measured in the same run: on
 * SQLite a raw prepared-insert loop (transactions of 10,000 rows, title search index filled per
 * transaction), on PostgreSQL one COPY into the products table with all its indexes; the report
 * gives importer ÷ limit (target 0.8). Rows: titles of 60–100 characters, descriptions of about
 * 300, five attribute columns.
 *
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); BENCH_PG_UPDATE_PASS=1 adds an
 * update pass on PostgreSQL too (--update-pass is SQLite only).
 * Always exits 0; targets are reported as PASS/FAIL lines.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import readline from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import pg from 'pg';
import { createDatabase, type Database } from '../src/db/database.js';
import { createAccessService } from '../src/features/access/service.js';
import { importProducts } from '../src/features/products/import.js';
import { readRows } from '../src/features/products/row-sources.js';
import { gtinCheckDigit } from '../src/lib/gtin.js';
import { newId } from '../src/lib/ids.js';
import { foldForSearch } from '../src/lib/text.js';
import { GS1_PREFIXES } from './lib/catalog.js';
import SQLite from 'better-sqlite3';
import { from as copyFrom } from 'pg-copy-streams';

// ---------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------

type DialectChoice = 'sqlite' | 'postgres' | 'both';

interface Options {
  rows: number;
  dialect: DialectChoice;
  updatePass: boolean;
  genOnly: boolean;
  /** Skip the bare-limit runs. */
  noLimit: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { rows: 1_000_000, dialect: 'both', updatePass: false, genOnly: false, noLimit: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--rows': {
        const n = Number(value().replace(/[_,]/g, ''));
        if (!Number.isInteger(n) || n <= 0) throw new Error('--rows must be a positive integer');
        opts.rows = n;
        break;
      }
      case '--dialect': {
        const d = value();
        if (d !== 'sqlite' && d !== 'postgres' && d !== 'both') throw new Error('--dialect must be sqlite, postgres or both');
        opts.dialect = d;
        break;
      }
      case '--update-pass':
        opts.updatePass = true;
        break;
      case '--gen-only':
        opts.genOnly = true;
        break;
      case '--no-limit':
        opts.noLimit = true;
        break;
      case '--help':
      case '-h':
        console.log('usage: npx tsx bench/import.ts [--rows N] [--dialect sqlite|postgres|both] [--update-pass] [--gen-only]');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${arg}`);
    }
  }
  return opts;
}

// ---------------------------------------------------------------------------------------------
// Product generator: deterministic (same seed => same rows), lazy, realistic-looking.
// ---------------------------------------------------------------------------------------------

/** mulberry32: tiny, fast, deterministic PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}
type Rng = ReturnType<typeof prng>;

const COLORS = ['Black', 'White', 'Silver', 'Graphite', 'Midnight Blue', 'Forest Green', 'Red', 'Sand', 'Space Grey', 'Rose Gold'];
const MATERIALS = ['Stainless Steel', 'Aluminium', 'Recycled Plastic', 'Oak', 'Bamboo', 'Cast Iron', 'Organic Cotton', 'Polyester'];

interface CategorySpec {
  name: string;
  brands: readonly string[];
  weight: readonly [number, number];
  title(r: Rng, brand: string, model: string, color: string): string;
  fillers: readonly string[];
  blurb: readonly string[];
}

const CATEGORIES: readonly CategorySpec[] = [
  {
    name: 'Electronics > Audio > Headphones',
    brands: ['Sony', 'Bose', 'Sennheiser', 'JBL', 'Audio-Technica', 'Beyerdynamic', 'Jabra'],
    weight: [0.18, 0.4],
    title: (r, b, m, c) =>
      `${b} ${m} Wireless ${r.pick(['Noise Cancelling', 'Hi-Res', 'Studio'])} ${r.pick(['Over-Ear', 'On-Ear', 'In-Ear'])} Headphones, Bluetooth 5.${r.int(0, 3)}, ${r.int(20, 60)}h Battery, ${c}`,
    fillers: ['USB-C Fast Charging', 'Multipoint', 'Foldable'],
    blurb: ['Adaptive noise cancelling with transparency mode.', 'Lightweight design with memory-foam ear cushions.'],
  },
  {
    name: 'Electronics > Computers > Laptops',
    brands: ['Lenovo', 'Dell', 'HP', 'ASUS', 'Acer', 'Apple', 'Microsoft'],
    weight: [1.1, 2.6],
    title: (r, b, m) =>
      `${b} ${m} ${r.pick(['13.3', '14', '15.6', '16'])}" Laptop, ${r.pick(['Intel Core i5-1335U', 'Intel Core i7-1355U', 'AMD Ryzen 7 7730U', 'AMD Ryzen 5 7530U'])}, ${r.pick([8, 16, 32])} GB RAM, ${r.pick([256, 512, 1024])} GB SSD`,
    fillers: ['Windows 11', 'Backlit Keyboard', 'Wi-Fi 6E'],
    blurb: ['Full-HD IPS display with slim bezels.', 'All-day battery and a fast-charging USB-C port.'],
  },
  {
    name: 'Home & Kitchen > Small Appliances > Coffee Machines',
    brands: ["De'Longhi", 'Philips', 'Krups', 'Siemens', 'Melitta', 'Jura', 'Nespresso'],
    weight: [3.5, 11],
    title: (r, b, m, c) =>
      `${b} ${m} ${r.pick(['Fully Automatic Espresso Machine', 'Bean-to-Cup Coffee Machine', 'Capsule Coffee Maker'])}, ${r.pick([1350, 1450, 1500])} W, ${r.pick([1.1, 1.5, 1.8])} L, ${c}`,
    fillers: ['Milk Frother', '15 bar', 'Removable Brew Group'],
    blurb: ['Grinds fresh beans for every cup.', 'Descaling programme and dishwasher-safe parts.'],
  },
  {
    name: 'Home & Garden > Tools > Power Drills',
    brands: ['Bosch', 'Makita', 'DeWalt', 'Metabo', 'Milwaukee', 'Einhell', 'Ryobi'],
    weight: [1.2, 2.4],
    title: (r, b, m) =>
      `${b} ${m} Cordless ${r.pick(['Drill Driver', 'Combi Drill', 'Impact Driver'])} ${r.pick([12, 18, 20])} V, ${r.int(40, 135)} Nm, ${r.pick([2, 4, 5])}.0 Ah Li-Ion Battery, Case`,
    fillers: ['Brushless Motor', 'LED Work Light', 'Keyless Chuck'],
    blurb: ['Two-speed gearbox for drilling and screwdriving.', 'Compact head for work in tight spaces.'],
  },
  {
    name: 'Clothing > Outdoor > Jackets',
    brands: ['Patagonia', 'The North Face', 'Jack Wolfskin', 'Columbia', 'Vaude', 'Schöffel', 'Mammut'],
    weight: [0.3, 1.2],
    title: (r, b, m, c) =>
      `${b} ${m} Men's ${r.pick(['Waterproof Hiking Jacket', 'Insulated Down Jacket', 'Softshell Jacket', '3-in-1 Rain Jacket'])}, ${r.pick(['Hooded', 'Packable', 'Breathable'])}, ${c}, Size ${r.pick(['S', 'M', 'L', 'XL', 'XXL'])}`,
    fillers: ['PFC-free DWR', 'Recycled Polyester', 'Taped Seams'],
    blurb: ['Windproof and water-repellent shell.', 'Adjustable hood and zipped hand pockets.'],
  },
  {
    name: 'Home & Kitchen > Cookware > Frying Pans',
    brands: ['Tefal', 'WMF', 'Fissler', 'Le Creuset', 'Zwilling', 'GreenPan', 'Rösle'],
    weight: [0.8, 2.9],
    title: (r, b, m) =>
      `${b} ${m} ${r.pick(['Non-Stick Frying Pan', 'Stainless Steel Skillet', 'Cast Iron Frying Pan'])} ${r.pick([20, 24, 26, 28, 30])} cm, Induction Compatible, Oven Safe to ${r.pick([180, 220, 260])}°C`,
    fillers: ['PFAS-free Coating', 'Dishwasher Safe'],
    blurb: ['Even heat distribution across the whole base.', 'Ergonomic handle that stays cool on the hob.'],
  },
  {
    name: 'Electronics > Phones > Smartphones',
    brands: ['Samsung', 'Apple', 'Google', 'Xiaomi', 'Motorola', 'Nokia', 'Fairphone'],
    weight: [0.17, 0.24],
    title: (r, b, m, c) =>
      `${b} ${m} Smartphone ${r.pick([128, 256, 512])} GB, ${r.pick([6.1, 6.4, 6.7])}" ${r.pick(['AMOLED', 'OLED', 'LCD'])}, ${r.pick([48, 50, 64, 108])} MP Camera, 5G, Dual SIM, ${c}`,
    fillers: ['Unlocked', 'IP68'],
    blurb: ['Triple camera with night mode.', 'Fast charging and a two-day battery.'],
  },
  {
    name: 'Furniture > Office > Desk Chairs',
    brands: ['Herman Miller', 'Steelcase', 'IKEA', 'Haworth', 'Interstuhl', 'Sihoo', 'Topstar'],
    weight: [12, 24],
    title: (r, b, m, c) =>
      `${b} ${m} Ergonomic Office Chair with ${r.pick(['Adjustable Lumbar Support', 'Mesh Back', '4D Armrests'])}, ${r.pick(['Synchronous Mechanism', 'Headrest', 'Seat Depth Adjustment'])}, ${c}`,
    fillers: ['Max Load 150 kg', 'BIFMA Certified'],
    blurb: ['Breathable mesh keeps you cool all day.', 'Tool-free assembly in under 20 minutes.'],
  },
];

const MODEL_PREFIXES = ['WH', 'QC', 'HD', 'XR', 'MX', 'GX', 'SL', 'ZE', 'AT', 'PX', 'ProBook', 'Vivo', 'Edge', 'Series'];
const MODEL_SUFFIXES = ['', '', 'X', 'S', 'M5', 'Pro', 'Plus', 'Max', 'II', 'Lite'];

/** Five attribute columns after the catalog fields: color, weight_kg, material, power_w, warranty_years. */
const HEADER = ['external_id', 'title', 'ean', 'brand', 'category', 'description', 'color', 'weight_kg', 'material', 'power_w', 'warranty_years'];
const DESCRIPTION_TAIL = [
  'Designed for everyday use and easy to clean.',
  'Spare parts are available for at least seven years.',
  'Packaging made from recycled cardboard, free of single-use plastics.',
  "Covered by the manufacturer's repair service across the EU.",
  'Tested for safety and durability to the relevant EN standards.',
  'Energy-saving standby below 0.5 W when idle.',
];

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** EAN-13 for row `i`: a GS1 prefix, the row number (unique: 9 digits cover 1e9 rows), and the check digit. */
export function eanFor(i: number, prefix: string): string {
  const data = prefix + String(i).padStart(9, '0');
  return data + String(gtinCheckDigit(data));
}

/** Cuts at the last ", " that keeps the title within `max`, or appends fillers until `min`. */
function fitTitle(title: string, fillers: readonly string[], min = 60, max = 100): string {
  let t = title;
  for (const f of fillers) {
    if (t.length >= min) break;
    t += `, ${f}`;
  }
  while (t.length > max) {
    const cut = t.lastIndexOf(', ');
    if (cut <= 0) return t.slice(0, max).trimEnd();
    t = t.slice(0, cut);
  }
  return t;
}

export interface GeneratedProduct {
  external_id: string;
  title: string;
  ean: string;
  brand: string;
  category: string;
  description: string;
  color: string;
  weight_kg: string;
  material: string;
  power_w: string;
  warranty_years: string;
}

/** A description of about 300 characters: the blurb, then sentences until it is long enough. */
function describe(r: Rng, start: string): string {
  let text = start;
  while (text.length < 280) text += ` ${r.pick(DESCRIPTION_TAIL)}`;
  return text;
}

export function makeProduct(r: Rng, i: number): GeneratedProduct {
  const cat = r.pick(CATEGORIES);
  const brand = r.pick(cat.brands);
  const model = `${r.pick(MODEL_PREFIXES)}${r.pick(['', '-', ' '])}${r.int(10, 9999)}${r.pick(MODEL_SUFFIXES) ? ` ${r.pick(MODEL_SUFFIXES)}` : ''}`.trim();
  const color = r.pick(COLORS);
  const title = fitTitle(cat.title(r, brand, model, color), cat.fillers);
  const [wMin, wMax] = cat.weight;
  const weight = (wMin + r.next() * (wMax - wMin)).toFixed(wMax < 5 ? 3 : 1);
  return {
    external_id: `${brand
      .slice(0, 3)
      .toUpperCase()
      .replace(/[^A-Z]/g, 'X')}-${String(i + 1).padStart(8, '0')}`,
    title,
    ean: eanFor(i, r.pick(GS1_PREFIXES)),
    brand,
    category: cat.name,
    description: describe(r, `${r.pick(cat.blurb)} ${r.pick(MATERIALS)} construction; ${r.int(1, 5)}-year manufacturer warranty.`),
    color,
    weight_kg: weight,
    material: r.pick(MATERIALS),
    power_w: String(r.int(1, 2400)),
    warranty_years: String(r.int(1, 10)),
  };
}

/**
 * A CSV Readable that makes rows only when the consumer asks (back-pressure respected),
 * so memory use is independent of the row count. Same seed => same rows (used by the update pass).
 */
export class ProductCsvStream extends Readable {
  private i = 0;
  private headerSent = false;
  private readonly r: Rng;
  bytes = 0;

  constructor(
    private readonly total: number,
    seed = 20240601,
    private readonly rowsPerChunk = 200,
  ) {
    super({ highWaterMark: 64 * 1024 });
    this.r = prng(seed);
  }

  /**
   * Chunks are delivered from setImmediate, as a file or socket delivers them from I/O callbacks.
   * A fully synchronous source would let the whole import run in microtasks and never reach the timers
   * phase, so the 100 ms RSS sampler (and anything else on the event loop) would never run.
   */
  override _read(): void {
    setImmediate(() => this.produce());
  }

  private produce(): void {
    let out = '';
    if (!this.headerSent) {
      out += HEADER.join(',') + '\n';
      this.headerSent = true;
    }
    const end = Math.min(this.total, this.i + this.rowsPerChunk);
    for (; this.i < end; this.i++) {
      const p = makeProduct(this.r, this.i);
      out +=
        `${csvField(p.external_id)},${csvField(p.title)},${p.ean},${csvField(p.brand)},${csvField(p.category)},` +
        `${csvField(p.description)},${csvField(p.color)},${p.weight_kg},${csvField(p.material)},${p.power_w},${p.warranty_years}\n`;
    }
    if (out) {
      const buf = Buffer.from(out, 'utf8');
      this.bytes += buf.length;
      this.push(buf);
    }
    if (this.i >= this.total) this.push(null);
  }
}

// ---------------------------------------------------------------------------------------------
// Memory sampling
// ---------------------------------------------------------------------------------------------

class RssSampler {
  peak = 0;
  /** Timer ticks seen: if far fewer than duration/100 ms, the event loop was starved. */
  ticks = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Largest gap between two timer ticks: how long the event loop was blocked (samples were missed). */
  maxGapMs = 0;
  private last = 0;

  start() {
    this.peak = process.memoryUsage.rss();
    this.last = performance.now();
    this.timer = setInterval(() => this.sample(true), 100);
    this.timer.unref();
  }
  sample(fromTimer = false) {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
    if (fromTimer) {
      const now = performance.now();
      this.ticks++;
      this.maxGapMs = Math.max(this.maxGapMs, now - this.last);
      this.last = now;
    }
  }
  stop() {
    this.sample();
    if (this.timer) clearInterval(this.timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------

/** Throughput as a share of the bare limit measured in the same run (machines differ 2.5× in speed). */
const TARGETS = { ratio: 0.8, rssMb: 300 } as const;

interface RunResult {
  dialect: 'sqlite' | 'postgres';
  pass: 'insert' | 'update';
  rows: number;
  seconds: number;
  rowsPerSec: number;
  peakRssMb: number;
  startRssMb: number;
  maxGapMs: number;
  ticks: number;
  summary: { created: number; updated: number; failed: number; rows: number; duration_ms: number };
  stored: number;
  validGtins: number;
  /** The bare limit measured in the same run (insert pass only). */
  limitRowsPerSec?: number;
  error?: string;
}

const mb = (bytes: number) => bytes / (1024 * 1024);
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

function gc() {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

/**
 * The generated rows are written to a CSV file first (not timed), and imported from it as `dpp import
 * FILE` does: generating them in the importing process would bill the generator's CPU to the import.
 */
const csvFiles = new Map<number, string>();
async function csvFile(rows: number): Promise<string> {
  const known = csvFiles.get(rows);
  if (known) return known;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-bench-csv-')), `products-${rows}.csv`);
  const t0 = performance.now();
  await pipeline(new ProductCsvStream(rows), fs.createWriteStream(file));
  console.log(`generated ${file} (${mb(fs.statSync(file).size).toFixed(0)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  process.on('exit', () => fs.rmSync(path.dirname(file), { recursive: true, force: true }));
  csvFiles.set(rows, file);
  return file;
}

async function runImport(database: Database, orgId: string, dialect: 'sqlite' | 'postgres', pass: 'insert' | 'update', rows: number): Promise<RunResult> {
  const file = await csvFile(rows);
  gc();
  const sampler = new RssSampler();
  const startRss = process.memoryUsage.rss();
  sampler.start();
  const step = Math.max(1000, Math.round(rows / 10 / 1000) * 1000);
  let nextReport = step;
  const t0 = performance.now();
  const summary = await importProducts(database.db, orgId, { path: file }, 'csv', {
    onProgress: (done) => {
      sampler.sample();
      if (done >= nextReport) {
        const s = (performance.now() - t0) / 1000;
        process.stderr.write(
          `  [${dialect} ${pass}] ${fmtInt(done)} rows  ${s.toFixed(1)} s  ${fmtInt(done / s)} rows/s  rss ${mb(process.memoryUsage.rss()).toFixed(0)} MB heap ${mb(process.memoryUsage().heapTotal).toFixed(0)} ext ${mb(process.memoryUsage().external).toFixed(0)} MB\n`,
        );
        nextReport += step;
      }
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  sampler.stop();

  const counts = await sql<{ n: string | number; valid: string | number }>`
    select count(*) as n, sum(case when gtin_valid = ${dialect === 'sqlite' ? sql`1` : sql`true`} then 1 else 0 end) as valid
    from products where org_id = ${orgId}`.execute(database.db);
  const c = counts.rows[0]!;
  return {
    dialect,
    pass,
    rows,
    seconds,
    rowsPerSec: rows / seconds,
    peakRssMb: mb(sampler.peak),
    startRssMb: mb(startRss),
    maxGapMs: sampler.maxGapMs,
    ticks: sampler.ticks,
    summary: { created: summary.created, updated: summary.updated, failed: summary.failed, rows: summary.rows, duration_ms: summary.duration_ms },
    stored: Number(c.n),
    validGtins: Number(c.valid),
  };
}

async function benchSqlite(opts: Options): Promise<RunResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-bench-'));
  const file = path.join(dir, 'bench.sqlite');
  const database = await createDatabase({ sqliteFile: file });
  const results: RunResult[] = [];
  try {
    await database.migrate();
    const { org_id } = await createAccessService(database.db).createKey({ org: 'bench', scopes: 'read,write' });
    console.log(`sqlite: ${file}`);
    const insert = await runImport(database, org_id, 'sqlite', 'insert', opts.rows);
    if (!opts.noLimit) insert.limitRowsPerSec = await bareSqlite(opts.rows);
    results.push(report(insert));
    if (opts.updatePass) {
      if (opts.rows > 1_000_000) console.log('sqlite: update pass skipped (only for --rows <= 1,000,000)');
      else results.push(report(await runImport(database, org_id, 'sqlite', 'update', opts.rows)));
    }
    const size = ['', '-wal', '-shm'].reduce((s, ext) => s + (fs.existsSync(file + ext) ? fs.statSync(file + ext).size : 0), 0);
    console.log(`sqlite: database file ${mb(size).toFixed(0)} MB (incl. WAL)`);
  } finally {
    await database.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

async function benchPostgres(opts: Options): Promise<RunResult[]> {
  const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const results: RunResult[] = [];
  let database: Database | undefined;
  try {
    database = await createDatabase({ databaseUrl: url, pgSchema: schema });
    await database.migrate();
    const { org_id } = await createAccessService(database.db).createKey({ org: 'bench', scopes: 'read,write' });
    console.log(`postgres: ${url.replace(/\/\/[^@/]*@/, '//***@')} schema ${schema}`);
    const insert = await runImport(database, org_id, 'postgres', 'insert', opts.rows);
    if (!opts.noLimit) insert.limitRowsPerSec = await barePostgres(opts.rows);
    results.push(report(insert));
    if (process.env.BENCH_PG_UPDATE_PASS === '1') results.push(report(await runImport(database, org_id, 'postgres', 'update', opts.rows)));
  } finally {
    await database?.close();
    const admin = new pg.Client({ connectionString: url });
    try {
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } catch (e) {
      console.error(`postgres: could not drop schema ${schema}: ${(e as Error).message}`);
    } finally {
      await admin.end().catch(() => {});
    }
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// The limit: the same rows into the same schema with no application code
// ---------------------------------------------------------------------------------------------

/** The columns a product row is stored with, as the bare loops write them (no validation, no lookups). */
const BARE_COLUMNS = [
  'id',
  'org_id',
  'external_id',
  'title',
  'ean',
  'gtin14',
  'gtin_valid',
  'brand',
  'category',
  'description',
  'attributes',
  'search_text',
  'created_at',
  'updated_at',
] as const;

function bareRow(p: GeneratedProduct, orgId: string, now: string): unknown[] {
  const attributes = JSON.stringify({ color: p.color, weight_kg: p.weight_kg, material: p.material, power_w: p.power_w, warranty_years: p.warranty_years });
  // The service's ids (UUIDv7, time-ordered): random v4 ids would make the limit pay for scattered
  // primary-key inserts the service never does (at 1M rows that halved it, and ratios read 2×).
  return [newId(), orgId, p.external_id, p.title, p.ean, `0${p.ean}`, true, p.brand, p.category, p.description, attributes, foldForSearch(p.title), now, now];
}

const BARE_BATCH = 10_000;

/**
 * The rows the bare loops write, as COPY text (tab-separated, one row a line) in a temp file written
 * before the clock starts: the limit is the database's, not the generator's.
 */
async function bareDataFile(rows: number, orgId: string): Promise<string> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-bench-bare-')), 'rows.tsv');
  const r = prng(20240601);
  const now = new Date().toISOString();
  let i = 0;
  const source = new Readable({
    read() {
      let out = '';
      for (const end = Math.min(rows, i + 500); i < end; i++) out += bareRow(makeProduct(r, i), orgId, now).map(copyText).join('\t') + '\n';
      this.push(out || null);
    },
  });
  await pipeline(source, fs.createWriteStream(file));
  return file;
}

const unescapeCopy = (v: string) => (v === '\\N' ? null : v.replace(/\\(.)/g, (_, c: string) => ({ t: '\t', n: '\n', r: '\r' })[c] ?? c));

/**
 * SQLite's limit: the rows read from that file, a raw prepared INSERT each, in transactions of
 * 10,000, the title search index (FTS5) filled per transaction as the schema requires of every writer.
 */
async function bareSqlite(rows: number): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-bench-bare-'));
  const file = path.join(dir, 'bare.sqlite');
  const database = await createDatabase({ sqliteFile: file });
  // Its own connection, with the service's durability settings (WAL, synchronous=NORMAL).
  const connection = new SQLite(file);
  let data: string | undefined;
  try {
    await database.migrate();
    const { org_id } = await createAccessService(database.db).createKey({ org: 'bare', scopes: 'read' });
    await database.close();
    data = await bareDataFile(rows, org_id);
    connection.pragma('journal_mode = WAL');
    connection.pragma('synchronous = NORMAL');
    connection.pragma('cache_size = -16384');
    const insert = connection.prepare(`insert into products (${BARE_COLUMNS.join(', ')}) values (${BARE_COLUMNS.map(() => '?').join(', ')})`);
    const index = connection.prepare(`insert into products_fts (rowid, search_text) select rowid, search_text from products where rowid > ?`);
    const lastRowid = connection.prepare('select coalesce(max(rowid), 0) as n from products').pluck();
    const write = connection.transaction((lines: string[]) => {
      const before = lastRowid.get() as number;
      for (const line of lines) insert.run(line.split('\t').map((v) => (v === 'true' ? 1 : unescapeCopy(v))));
      index.run(before);
    });
    const t0 = performance.now();
    let lines: string[] = [];
    for await (const line of readline.createInterface({ input: fs.createReadStream(data), crlfDelay: Infinity })) {
      lines.push(line);
      if (lines.length === BARE_BATCH) {
        write(lines);
        lines = [];
      }
    }
    if (lines.length) write(lines);
    return rows / ((performance.now() - t0) / 1000);
  } finally {
    connection.close();
    fs.rmSync(dir, { recursive: true, force: true });
    if (data) fs.rmSync(path.dirname(data), { recursive: true, force: true });
  }
}

/** PostgreSQL's limit: that file in one COPY into the products table with all its indexes. */
async function barePostgres(rows: number): Promise<number> {
  const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `bench_bare_${randomBytes(6).toString('hex')}`;
  const database = await createDatabase({ databaseUrl: url, pgSchema: schema });
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  let data: string | undefined;
  try {
    await database.migrate();
    const { org_id } = await createAccessService(database.db).createKey({ org: 'bare', scopes: 'read' });
    data = await bareDataFile(rows, org_id);
    await client.connect();
    const t0 = performance.now();
    await pipeline(fs.createReadStream(data), client.query(copyFrom(`copy products (${BARE_COLUMNS.join(', ')}) from stdin`)));
    return rows / ((performance.now() - t0) / 1000);
  } finally {
    await client.end().catch(() => {});
    await database.close();
    if (data) fs.rmSync(path.dirname(data), { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.end();
  }
}

/** A value in COPY's text format. */
function copyText(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  return String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

function report(r: RunResult): RunResult {
  const s = r.summary;
  const expectCreated = r.pass === 'insert' ? r.rows : 0;
  const expectUpdated = r.pass === 'update' ? r.rows : 0;
  const ok = s.rows === r.rows && s.failed === 0 && s.created === expectCreated && s.updated === expectUpdated && r.stored === r.rows;
  console.log(
    `  check: summary rows=${s.rows} created=${s.created} updated=${s.updated} failed=${s.failed} duration_ms=${s.duration_ms}; ` +
      `stored=${r.stored} gtin_valid=${r.validGtins} -> ${ok && r.validGtins === r.rows ? 'OK' : 'MISMATCH'}`,
  );
  console.log(
    `  rss at start ${r.startRssMb.toFixed(0)} MB; ${r.ticks} RSS samples by timer (+1 per batch); ` +
      `longest gap between 100 ms timer samples ${r.maxGapMs.toFixed(0)} ms (event-loop stall)`,
  );
  console.log(summaryLine(r));
  return r;
}

function summaryLine(r: RunResult): string {
  const limit = r.limitRowsPerSec ? `  limit ${fmtInt(r.limitRowsPerSec).padStart(7)} rows/s  importer ÷ limit ${(r.rowsPerSec / r.limitRowsPerSec).toFixed(2)}` : '';
  return (
    `${r.dialect.padEnd(10)}${r.pass.padEnd(8)}${String(r.rows).padStart(8)} rows  ${r.seconds.toFixed(1).padStart(6)} s  ` +
    `${fmtInt(r.rowsPerSec).padStart(7)} rows/s  peak RSS ${r.peakRssMb.toFixed(0)} MB${limit}`
  );
}

/** Generator alone, and generator + CSV parsing, with no database: the floor under every run. */
async function benchGeneration(rows: number) {
  let t0 = performance.now();
  const gen = new ProductCsvStream(rows);
  for await (const _chunk of gen) {
    // drain
  }
  let s = (performance.now() - t0) / 1000;
  console.log(`generate only      ${rows} rows  ${s.toFixed(2)} s  ${fmtInt(rows / s)} rows/s  ${mb(gen.bytes).toFixed(0)} MB of CSV`);
  t0 = performance.now();
  let n = 0;
  for await (const _row of readRows(new ProductCsvStream(rows), 'csv')) n++;
  s = (performance.now() - t0) / 1000;
  console.log(`generate+csv-parse ${n} rows  ${s.toFixed(2)} s  ${fmtInt(n / s)} rows/s`);
}

/** The commit measured, and which files under src/ differ from it (others may be editing them). */
function codeVersion(): string {
  try {
    const run = (args: string[]) => execFileSync('git', args, { cwd: path.dirname(fileURLToPath(import.meta.url)), encoding: 'utf8' }).trimEnd();
    const head = run(['rev-parse', '--short', 'HEAD']);
    const dirty = run(['status', '--porcelain', '--', '../src', '../package.json'])
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3));
    return `${head}${dirty.length ? ` + uncommitted changes in ${dirty.join(', ')}` : ' (clean src/)'}`;
  } catch {
    return 'unknown (no git)';
  }
}

async function main() {
  let opts: Options;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    return;
  }
  console.log(
    `import benchmark: ${fmtInt(opts.rows)} rows, dialect ${opts.dialect}${opts.updatePass ? ', with update pass' : ''}; ` +
      `node ${process.version}, ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ''}`,
  );
  console.log(`code: ${codeVersion()}`);
  // A sample row, so the shape of the data is visible in the log.
  const sample: Buffer[] = [];
  for await (const chunk of new ProductCsvStream(3)) sample.push(chunk as Buffer);
  console.log(`sample CSV:\n${Buffer.concat(sample).toString('utf8').trimEnd()}`);

  if (opts.genOnly) {
    await benchGeneration(opts.rows);
    return;
  }

  const results: RunResult[] = [];
  const failures: string[] = [];
  if (opts.dialect === 'sqlite' || opts.dialect === 'both') {
    try {
      results.push(...(await benchSqlite(opts)));
    } catch (e) {
      failures.push(`sqlite run failed: ${(e as Error).stack ?? e}`);
    }
  }
  if (opts.dialect === 'postgres' || opts.dialect === 'both') {
    try {
      results.push(...(await benchPostgres(opts)));
    } catch (e) {
      failures.push(`postgres run failed: ${(e as Error).stack ?? e}`);
    }
  }

  console.log('\n=== summary ===');
  for (const r of results) console.log(summaryLine(r));
  console.log('\n=== targets ===');
  for (const r of results) {
    const label = `${r.dialect} ${r.pass}`.padEnd(16);
    if (r.limitRowsPerSec) {
      const ratio = r.rowsPerSec / r.limitRowsPerSec;
      console.log(`${label}importer ÷ limit ${ratio.toFixed(2)} >= ${TARGETS.ratio}: ${ratio >= TARGETS.ratio ? 'PASS' : 'FAIL'}`);
    }
    console.log(`${label}peak RSS   ${r.peakRssMb.toFixed(0)} MB < ${TARGETS.rssMb} MB: ${r.peakRssMb < TARGETS.rssMb ? 'PASS' : 'FAIL'}`);
  }
  for (const f of failures) console.log(`FAIL ${f}`);
}

// Run only when executed directly (the generator can be imported by other scripts).
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main()
    .catch((e) => console.error(e))
    .finally(() => {
      process.exitCode = 0;
    });
}
