/**
 * Deterministic generator of a realistic product catalog (brand + product line + specs titles) and of
 * the passport / environmental values of its products. Used by bench/api.ts. Pure: no I/O.
 */
import { Readable } from 'node:stream';
import { gtinCheckDigit } from '../../src/lib/gtin.js';
import type { ComplianceValues, Material, Substance } from '../../src/features/passports/record.js';

/** mulberry32: tiny, fast, deterministic PRNG. */
export function prng(seed: number) {
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
    chance: (p: number) => next() < p,
  };
}
export type Rng = ReturnType<typeof prng>;

/** Stable 32-bit hash of a string (FNV-1a), to derive per-product randomness from its id. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

type Kind = 'electronics' | 'appliance' | 'tool' | 'textile' | 'furniture' | 'cookware' | 'toy';

interface CategorySpec {
  name: string;
  kind: Kind;
  /** Relative share of the catalog. */
  share: number;
  brands: readonly string[];
  lines: readonly string[];
  title(r: Rng, brand: string, line: string): string;
  materials: ReadonlyArray<readonly string[]>;
  certifications: readonly string[];
  co2: readonly [number, number];
  weee?: string;
  energy?: boolean;
  endOfLife: readonly string[];
}

const COLORS = ['Black', 'White', 'Silver', 'Graphite', 'Midnight Blue', 'Forest Green', 'Red', 'Sand', 'Space Grey', 'Anthracite', 'Beige', 'Navy'];
const ELECTRONICS_EOL = [
  'Do not dispose of with household waste. Return to a WEEE collection point or to the retailer free of charge.',
  'Remove the battery before disposal; take the device and the battery to separate collection points.',
];

export const CATEGORIES: readonly CategorySpec[] = [
  {
    name: 'Electronics > Audio > Headphones',
    kind: 'electronics',
    share: 9,
    brands: ['Sony', 'Bose', 'Sennheiser', 'JBL', 'Audio-Technica', 'Beyerdynamic', 'Jabra', 'Marshall'],
    lines: ['WH-1000XM5', 'QuietComfort Ultra', 'Momentum 4', 'Tune 770NC', 'ATH-M50xBT2', 'Amiron 300', 'Elite 85h', 'Major V'],
    title: (r, b, l) =>
      `${b} ${l} Wireless ${r.pick(['Noise Cancelling', 'Hi-Res', 'Studio', 'Sport'])} ${r.pick(['Over-Ear', 'On-Ear', 'In-Ear'])} Headphones, Bluetooth 5.${r.int(0, 3)}, ${r.int(20, 60)}h Battery, ${r.pick(COLORS)}`,
    materials: [
      ['ABS plastic', 'Aluminium', 'Polyurethane foam', 'Copper'],
      ['Recycled plastic', 'Stainless steel', 'Protein leather'],
    ],
    certifications: ['CE', 'RoHS', 'WEEE', 'REACH', 'FCC', 'UKCA'],
    co2: [8, 35],
    weee: 'Small equipment',
    endOfLife: ELECTRONICS_EOL,
  },
  {
    name: 'Electronics > Computers > Laptops',
    kind: 'electronics',
    share: 8,
    brands: ['Lenovo', 'Dell', 'HP', 'ASUS', 'Acer', 'Apple', 'Microsoft', 'Framework'],
    lines: ['ThinkPad T14 Gen 4', 'XPS 13 Plus', 'EliteBook 840 G10', 'Zenbook 14 OLED', 'Swift Go 14', 'MacBook Air', 'Surface Laptop 5', 'Laptop 13'],
    title: (r, b, l) =>
      `${b} ${l} ${r.pick(['13.3', '14', '15.6', '16'])}" Laptop, ${r.pick(['Intel Core i5-1335U', 'Intel Core i7-1355U', 'AMD Ryzen 7 7840U', 'AMD Ryzen 5 7530U'])}, ${r.pick([8, 16, 32])} GB RAM, ${r.pick([256, 512, 1024])} GB SSD, ${r.pick(['Windows 11 Pro', 'Windows 11 Home', 'No OS'])}`,
    materials: [
      ['Aluminium', 'Printed circuit board', 'Lithium-ion cells', 'Glass', 'ABS plastic'],
      ['Recycled aluminium', 'Magnesium alloy', 'Copper', 'Polycarbonate'],
    ],
    certifications: ['CE', 'RoHS', 'WEEE', 'REACH', 'Energy Star', 'EPEAT Gold', 'TCO Certified'],
    co2: [180, 420],
    weee: 'IT equipment',
    endOfLife: ELECTRONICS_EOL,
  },
  {
    name: 'Electronics > Phones > Smartphones',
    kind: 'electronics',
    share: 8,
    brands: ['Samsung', 'Apple', 'Google', 'Xiaomi', 'Motorola', 'Nokia', 'Fairphone', 'OnePlus'],
    lines: ['Galaxy S24', 'iPhone 15', 'Pixel 8a', 'Redmi Note 13', 'Edge 50', 'G42', 'Fairphone 5', 'Nord 4'],
    title: (r, b, l) =>
      `${b} ${l} Smartphone ${r.pick([128, 256, 512])} GB, ${r.pick(['6.1', '6.4', '6.7'])}" ${r.pick(['AMOLED', 'OLED', 'LCD'])}, ${r.pick([48, 50, 64, 108])} MP Camera, 5G, Dual SIM, ${r.pick(COLORS)}`,
    materials: [
      ['Glass', 'Aluminium', 'Lithium-ion cells', 'Printed circuit board'],
      ['Recycled aluminium', 'Gorilla glass', 'Copper', 'Recycled plastic'],
    ],
    certifications: ['CE', 'RoHS', 'WEEE', 'REACH', 'FCC', 'TCO Certified'],
    co2: [45, 85],
    weee: 'IT equipment',
    endOfLife: ELECTRONICS_EOL,
  },
  {
    name: 'Electronics > TV & Video > Televisions',
    kind: 'electronics',
    share: 6,
    brands: ['Samsung', 'LG', 'Sony', 'Philips', 'Panasonic', 'TCL', 'Hisense', 'Loewe'],
    lines: ['Neo QLED QN90D', 'OLED evo C4', 'Bravia 8', 'Ambilight OLED809', 'Viera MZ2000', 'C845 Mini LED', 'U8N', 'bild i'],
    title: (r, b, l) =>
      `${b} ${l} ${r.pick([43, 50, 55, 65, 75])}" 4K UHD Smart TV, ${r.pick(['120 Hz', '144 Hz', '100 Hz'])}, HDR10+, Dolby Atmos, ${r.pick(['Google TV', 'webOS', 'Tizen', 'VIDAA'])}`,
    materials: [
      ['Glass', 'Steel', 'ABS plastic', 'Printed circuit board'],
      ['Aluminium', 'Polycarbonate', 'Copper', 'Liquid crystal panel'],
    ],
    certifications: ['CE', 'RoHS', 'WEEE', 'REACH', 'EU Ecolabel'],
    co2: [300, 900],
    weee: 'Screens and monitors',
    energy: true,
    endOfLife: ELECTRONICS_EOL,
  },
  {
    name: 'Home & Kitchen > Small Appliances > Coffee Machines',
    kind: 'appliance',
    share: 7,
    brands: ["De'Longhi", 'Philips', 'Krups', 'Siemens', 'Melitta', 'Jura', 'Nespresso', 'Sage'],
    lines: ['Magnifica Evo', 'Series 3300 LatteGo', 'Evidence One', 'EQ.6 plus s300', 'Barista T Smart', 'E8', 'Vertuo Next', 'Barista Express'],
    title: (r, b, l) =>
      `${b} ${l} ${r.pick(['Fully Automatic Espresso Machine', 'Bean-to-Cup Coffee Machine', 'Capsule Coffee Maker'])}, ${r.pick([1350, 1450, 1500])} W, ${r.pick(['1.1', '1.5', '1.8'])} L, ${r.pick(COLORS)}`,
    materials: [
      ['Stainless steel', 'ABS plastic', 'Copper', 'Glass'],
      ['Aluminium', 'Polypropylene', 'Brass', 'Silicone'],
    ],
    certifications: ['CE', 'RoHS', 'WEEE', 'REACH', 'GS', 'TÜV'],
    co2: [60, 160],
    weee: 'Small equipment',
    endOfLife: ELECTRONICS_EOL,
  },
  {
    name: 'Home & Kitchen > Large Appliances > Washing Machines',
    kind: 'appliance',
    share: 5,
    brands: ['Bosch', 'Miele', 'Siemens', 'AEG', 'Samsung', 'LG', 'Beko', 'Whirlpool'],
    lines: ['Serie 6 WGG244', 'WWD 320 WPS', 'iQ500 WM14N', 'ProSteam 7000', 'EcoBubble WW90', 'F4WV709', 'b300 WTV', 'FreshCare+ FFB'],
    title: (r, b, l) =>
      `${b} ${l} Front Loader Washing Machine ${r.pick([7, 8, 9, 10])} kg, ${r.pick([1200, 1400, 1600])} rpm, Energy Class ${r.pick(['A', 'B', 'C'])}, Steam Function`,
    materials: [
      ['Steel', 'Concrete counterweight', 'Polypropylene', 'Copper', 'Glass'],
      ['Stainless steel', 'Cast iron', 'ABS plastic', 'Rubber'],
    ],
    certifications: ['CE', 'RoHS', 'WEEE', 'REACH', 'EU Ecolabel', 'Blue Angel'],
    co2: [350, 800],
    weee: 'Large equipment',
    energy: true,
    endOfLife: ['Large appliance: arrange collection by a licensed WEEE take-back service; the retailer takes back the old unit on delivery.'],
  },
  {
    name: 'Home & Garden > Tools > Power Drills',
    kind: 'tool',
    share: 8,
    brands: ['Bosch', 'Makita', 'DeWalt', 'Metabo', 'Milwaukee', 'Einhell', 'Ryobi', 'Festool'],
    lines: ['GSR 18V-55', 'DDF485', 'DCD796', 'BS 18 LTX', 'M18 FPD3', 'TE-CD 18/48', 'ONE+ R18DD7', 'TXS 18'],
    title: (r, b, l) =>
      `${b} ${l} Cordless ${r.pick(['Drill Driver', 'Combi Drill', 'Impact Driver'])} ${r.pick([12, 18, 20])} V, ${r.int(40, 135)} Nm, ${r.pick([2, 4, 5])}.0 Ah Li-Ion Battery, Carry Case`,
    materials: [
      ['Glass-fibre reinforced polyamide', 'Steel', 'Copper', 'Lithium-ion cells'],
      ['Aluminium', 'Steel', 'Rubber', 'ABS plastic'],
    ],
    certifications: ['CE', 'RoHS', 'WEEE', 'REACH', 'GS', 'UKCA'],
    co2: [15, 60],
    weee: 'Small equipment',
    endOfLife: ELECTRONICS_EOL,
  },
  {
    name: 'Clothing > Outdoor > Jackets',
    kind: 'textile',
    share: 10,
    brands: ['Patagonia', 'The North Face', 'Jack Wolfskin', 'Columbia', 'Vaude', 'Schöffel', 'Mammut', 'Fjällräven'],
    lines: ['Torrentshell 3L', 'Antora', 'Stormy Trail', 'Watertight II', 'Escape Bike Light', 'Easy Rain', 'Convey Tour HS', 'Keb Eco-Shell'],
    title: (r, b, l) =>
      `${b} ${l} ${r.pick(["Men's", "Women's"])} ${r.pick(['Waterproof Hiking Jacket', 'Insulated Down Jacket', 'Softshell Jacket', '3-in-1 Rain Jacket'])}, ${r.pick(['Hooded', 'Packable', 'Breathable'])}, ${r.pick(COLORS)}, Size ${r.pick(['S', 'M', 'L', 'XL', 'XXL'])}`,
    materials: [
      ['Recycled polyester', 'Polyamide', 'Elastane'],
      ['Organic cotton', 'Recycled nylon', 'Down'],
    ],
    certifications: ['OEKO-TEX', 'GOTS', 'REACH', 'Cradle to Cradle'],
    co2: [9, 30],
    endOfLife: ['Repair before replacing: the manufacturer offers a repair service. Give wearable garments to textile collection; otherwise dispose of with residual waste.'],
  },
  {
    name: 'Clothing > Footwear > Running Shoes',
    kind: 'textile',
    share: 8,
    brands: ['Adidas', 'Nike', 'Asics', 'Puma', 'New Balance', 'Salomon', 'Hoka', 'On'],
    lines: ['Ultraboost Light', 'Pegasus 41', 'Gel-Nimbus 26', 'Velocity Nitro 3', 'Fresh Foam 1080v13', 'Speedcross 6', 'Clifton 9', 'Cloudmonster'],
    title: (r, b, l) =>
      `${b} ${l} ${r.pick(["Men's", "Women's"])} ${r.pick(['Road Running Shoes', 'Trail Running Shoes', 'Neutral Running Shoe'])}, ${r.pick(['Breathable Mesh', 'Waterproof', 'Cushioned'])}, EU Size ${r.int(36, 47)}, ${r.pick(COLORS)}`,
    materials: [
      ['Recycled polyester', 'EVA foam', 'Rubber'],
      ['Polyamide mesh', 'Natural rubber', 'Polyurethane', 'Cotton'],
    ],
    certifications: ['OEKO-TEX', 'REACH', 'Cradle to Cradle'],
    co2: [7, 16],
    endOfLife: ['Return worn shoes to the in-store take-back scheme; soles and uppers are separated for recycling.'],
  },
  {
    name: 'Furniture > Office > Desk Chairs',
    kind: 'furniture',
    share: 7,
    brands: ['Herman Miller', 'Steelcase', 'IKEA', 'Haworth', 'Interstuhl', 'Sihoo', 'Topstar', 'Vitra'],
    lines: ['Aeron', 'Leap V2', 'Markus', 'Zody', 'Every Is1', 'M57', 'Sitness 55', 'ID Mesh'],
    title: (r, b, l) =>
      `${b} ${l} Ergonomic Office Chair with ${r.pick(['Adjustable Lumbar Support', 'Mesh Back', '4D Armrests'])}, ${r.pick(['Synchronous Mechanism', 'Headrest', 'Seat Depth Adjustment'])}, Max Load ${r.pick([120, 136, 150])} kg, ${r.pick(COLORS)}`,
    materials: [
      ['Steel', 'Polyamide', 'Polyester mesh', 'Polyurethane foam'],
      ['Recycled aluminium', 'Recycled polyester', 'Beech wood', 'Polypropylene'],
    ],
    certifications: ['FSC', 'PEFC', 'Blue Angel', 'GS', 'Cradle to Cradle'],
    co2: [40, 120],
    endOfLife: ['Disassemble without tools into metal, plastic and textile parts; take them to municipal recycling. The manufacturer takes back chairs at end of life.'],
  },
  {
    name: 'Home & Kitchen > Cookware > Frying Pans',
    kind: 'cookware',
    share: 7,
    brands: ['Tefal', 'WMF', 'Fissler', 'Le Creuset', 'Zwilling', 'GreenPan', 'Rösle', 'Skeppshult'],
    lines: ['Ingenio Unlimited', 'Profi Resist', 'Adamant Premium', 'Signature', 'Madura Plus', 'Venice Pro', 'Silence Pro', 'Original'],
    title: (r, b, l) =>
      `${b} ${l} ${r.pick(['Non-Stick Frying Pan', 'Stainless Steel Skillet', 'Cast Iron Frying Pan'])} ${r.pick([20, 24, 26, 28, 30])} cm, Induction Compatible, Oven Safe to ${r.pick([180, 220, 260])}°C`,
    materials: [
      ['Aluminium', 'Stainless steel', 'Ceramic coating'],
      ['Cast iron', 'Beech wood'],
      ['Stainless steel', 'Copper', 'Bakelite'],
    ],
    certifications: ['REACH', 'LFGB', 'TÜV', 'Nordic Swan'],
    co2: [4, 18],
    endOfLife: ['Metal cookware: take to a scrap-metal collection point. Do not put in household recycling bins.'],
  },
  {
    name: 'Toys & Games > Building Sets',
    kind: 'toy',
    share: 6,
    brands: ['LEGO', 'Playmobil', 'Ravensburger', 'Haba', 'Schleich', 'Brio', 'Hape', 'Kosmos'],
    lines: ['Technic', 'City Action', 'GraviTrax', 'Kullerbü', 'Farm World', 'World Railway', 'Quadrilla', 'Experiment Kit'],
    title: (r, b, l) =>
      `${b} ${l} ${r.pick(['Building Set', 'Starter Set', 'Adventure Playset', 'Marble Run'])} with ${r.int(40, 1800)} Pieces, Ages ${r.pick([3, 4, 6, 8, 10])}+, ${r.pick(['Gift Box', 'Storage Tub', 'Travel Case'])}`,
    materials: [
      ['ABS plastic', 'Cardboard', 'Paper'],
      ['Beech wood', 'Water-based paint', 'Cardboard'],
      ['Bio-based polyethylene', 'ABS plastic', 'Cardboard'],
    ],
    certifications: ['CE', 'FSC', 'REACH', 'UKCA'],
    co2: [2, 25],
    endOfLife: ['Pass on or donate complete sets. Packaging: cardboard to paper recycling; plastic bags to packaging collection.'],
  },
  {
    name: 'Home & Garden > Lighting > LED Bulbs',
    kind: 'electronics',
    share: 6,
    brands: ['Philips', 'Osram', 'Ledvance', 'IKEA', 'Paulmann', 'Müller-Licht', 'Nanoleaf', 'Innr'],
    lines: ['Hue White Ambiance', 'Parathom Classic', 'Smart+ WiFi', 'Trådfri', 'Filament Retro', 'Tint', 'Essentials', 'Smart Bulb'],
    title: (r, b, l) =>
      `${b} ${l} LED Bulb ${r.pick(['E27', 'E14', 'GU10'])}, ${r.pick([4.9, 6.5, 8, 9.5, 11])} W (replaces ${r.pick([40, 60, 75, 100])} W), ${r.pick([806, 1055, 470, 350])} lm, ${r.pick(['2700 K Warm White', '4000 K Neutral White', 'Dimmable'])}, Pack of ${r.pick([1, 2, 4, 6])}`,
    materials: [
      ['Glass', 'Aluminium', 'Polycarbonate', 'Printed circuit board'],
      ['Polycarbonate', 'Aluminium', 'Copper'],
    ],
    certifications: ['CE', 'RoHS', 'WEEE', 'REACH', 'UKCA'],
    co2: [1, 6],
    weee: 'Lamps',
    energy: true,
    endOfLife: ['Lamps contain electronics: return to a lamp collection point at the retailer or municipal recycling centre.'],
  },
];

const CATEGORY_BY_NAME = new Map(CATEGORIES.map((c) => [c.name, c]));
const SHARE_TOTAL = CATEGORIES.reduce((s, c) => s + c.share, 0);

function pickCategory(r: Rng): CategorySpec {
  let x = r.next() * SHARE_TOTAL;
  for (const c of CATEGORIES) {
    x -= c.share;
    if (x < 0) return c;
  }
  return CATEGORIES[CATEGORIES.length - 1]!;
}

/** GS1 prefixes of real member organisations (DE, FR, UK, IT, ES, NL, BE, PL, SE). */
export const GS1_PREFIXES = [
  '400',
  '401',
  '402',
  '403',
  '404',
  '405',
  '406',
  '407',
  '408',
  '409',
  '440',
  '300',
  '301',
  '340',
  '370',
  '500',
  '501',
  '505',
  '800',
  '801',
  '840',
  '841',
  '870',
  '871',
  '872',
  '540',
  '590',
  '730',
  '731',
];

export interface GeneratedProduct {
  external_id: string;
  title: string;
  ean: string;
  brand: string;
  category: string;
  description: string;
}

export function makeProduct(r: Rng, i: number): GeneratedProduct {
  const cat = pickCategory(r);
  const b = r.int(0, cat.brands.length - 1);
  const brand = cat.brands[b]!;
  // Product lines mostly belong to their brand (same index), sometimes another one of the category.
  const line = r.chance(0.8) ? cat.lines[b]! : r.pick(cat.lines);
  const title = cat.title(r, brand, line);
  const data = r.pick(GS1_PREFIXES) + String(i).padStart(9, '0');
  return {
    external_id: `${brand
      .normalize('NFKD')
      .replace(/[^A-Za-z]/g, '')
      .slice(0, 3)
      .toUpperCase()}-${String(i + 1).padStart(8, '0')}`,
    title,
    ean: data + String(gtinCheckDigit(data)),
    brand,
    category: cat.name,
    description: `${line} by ${brand}. ${r.int(1, 5)}-year manufacturer warranty; spare parts available for ${r.pick([5, 7, 10])} years.`,
  };
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Lower-cased alphabetic words of a title, as the search folds them (approximately: ASCII fold). */
function titleWords(title: string): string[] {
  return title
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/**
 * CSV of `total` generated products, made lazily as the consumer reads (back-pressure respected).
 * Counts, per title word, how many products contain it (document frequency), to choose a search word.
 */
export class CatalogCsvStream extends Readable {
  private i = 0;
  private headerSent = false;
  private readonly r: Rng;
  readonly wordDocs = new Map<string, number>();

  constructor(
    private readonly total: number,
    seed = 20250101,
  ) {
    super({ highWaterMark: 64 * 1024 });
    this.r = prng(seed);
  }

  override _read(): void {
    let out = '';
    if (!this.headerSent) {
      out += 'external_id,title,ean,brand,category,description\n';
      this.headerSent = true;
    }
    const end = Math.min(this.total, this.i + 250);
    for (; this.i < end; this.i++) {
      const p = makeProduct(this.r, this.i);
      for (const w of new Set(titleWords(p.title))) this.wordDocs.set(w, (this.wordDocs.get(w) ?? 0) + 1);
      out += `${csvField(p.external_id)},${csvField(p.title)},${p.ean},${csvField(p.brand)},${csvField(p.category)},${csvField(p.description)}\n`;
    }
    if (out) this.push(out);
    if (this.i >= this.total) this.push(null);
  }

  /**
   * A title word of moderate selectivity: alphabetic, at least 5 letters (so that, searched as a prefix,
   * it does not also match many longer words), in about `target` of the products (closest wins).
   */
  searchWord(target = 0.015): { word: string; products: number } {
    let best: { word: string; products: number } | undefined;
    const words = [...this.wordDocs.keys()];
    for (const [word, n] of this.wordDocs) {
      if (!/^[a-z]{5,}$/.test(word)) continue;
      // Skip words that are a prefix of another title word: the search matches prefixes.
      if (words.some((w) => w !== word && w.startsWith(word))) continue;
      const share = n / this.total;
      if (share < 0.01 || share > 0.02) continue;
      if (!best || Math.abs(share - target) < Math.abs(best.products / this.total - target)) best = { word, products: n };
    }
    if (!best) throw new Error('no title word matches 1–2% of the products');
    return best;
  }
}

// ---------------------------------------------------------------------------------------------
// Passport values
// ---------------------------------------------------------------------------------------------

export type Status = 'draft' | 'complete' | 'published';

const LEGAL_FORMS = ['GmbH', 'B.V.', 'S.A.', 'Ltd', 'AB', 'S.p.A.', 'Inc.', 'SE', 'Corp.'];
const ORIGINS: Record<Kind, readonly string[]> = {
  electronics: ['CN', 'VN', 'MY', 'TW', 'TH', 'MX', 'HU', 'CZ'],
  appliance: ['DE', 'PL', 'TR', 'IT', 'CN', 'RO', 'SI'],
  tool: ['CN', 'DE', 'MY', 'HU', 'JP', 'TW'],
  textile: ['BD', 'VN', 'PT', 'TR', 'IN', 'CN', 'LT'],
  furniture: ['PL', 'DE', 'CN', 'LT', 'CZ', 'US'],
  cookware: ['DE', 'FR', 'CN', 'IT', 'SE'],
  toy: ['DK', 'CZ', 'HU', 'DE', 'CN', 'MX'],
};
/** Real SVHC entries (valid CAS and EC check digits). */
const SUBSTANCES: readonly Substance[] = [
  { name: 'Lead', cas_number: '7439-92-1', ec_number: '231-100-4', concentration_pct: 0.35, location: 'solder of the main board' },
  { name: 'Bis(2-ethylhexyl) phthalate (DEHP)', cas_number: '117-81-7', ec_number: '204-211-0', concentration_pct: 0.12, location: 'cable insulation' },
  { name: 'Diisobutyl phthalate (DIBP)', cas_number: '84-69-5', ec_number: '201-553-2', concentration_pct: null, location: 'rubber grip' },
];

function materialsFor(r: Rng, spec: CategorySpec): Material[] {
  const names = r.pick(spec.materials);
  const n = Math.min(names.length, r.int(2, 4));
  const shares: number[] = [];
  let left = 100;
  for (let i = 0; i < n - 1; i++) {
    const s = Math.max(1, Math.min(left - (n - 1 - i), Math.round(left * (0.35 + r.next() * 0.4))));
    shares.push(s);
    left -= s;
  }
  shares.push(left);
  return names.slice(0, n).map((name, i) => ({ name, percentage: shares[i]! }));
}

/**
 * Passport and environmental values for a product, as the API would store them (canonical forms).
 * A `draft` misses one or two of the fields a complete passport needs.
 */
export function passportValues(productId: string, brand: string | null, categoryName: string | null, title: string, status: Status): ComplianceValues {
  const r = prng(hash32(productId));
  const spec = (categoryName && CATEGORY_BY_NAME.get(categoryName)) || CATEGORIES[0]!;
  const electric = spec.weee !== undefined;
  const certCount = r.int(1, Math.min(4, spec.certifications.length));
  const certs = [...spec.certifications].sort(() => r.next() - 0.5).slice(0, certCount);
  const [co2Min, co2Max] = spec.co2;
  const v: ComplianceValues = {
    product_name: title.split(',')[0]!.trim(),
    manufacturer: `${brand ?? 'Generic'} ${LEGAL_FORMS[hash32(brand ?? '') % LEGAL_FORMS.length]}`,
    country_of_origin: r.pick(ORIGINS[spec.kind]),
    commodity_code: null,
    facility_id: null,
    materials: materialsFor(r, spec),
    carbon_footprint_kg: Math.round((co2Min + r.next() * (co2Max - co2Min)) * 10) / 10,
    recyclability_score: r.pick(['A', 'B', 'B', 'C', 'C', 'D', 'E']),
    certifications: certs,
    end_of_life_instructions: r.pick(spec.endOfLife),
    dismantling_instructions: null,
    spare_parts_sources: null,
    conformity_test_results: null,
    reach_compliant: r.chance(0.97),
    rohs_compliant: electric ? r.chance(0.98) : null,
    ce_marked: electric || spec.kind === 'toy' ? true : null,
    weee_category: spec.weee ?? null,
    energy_class: spec.energy ? r.pick(['A', 'B', 'C', 'D', 'E', 'F', 'G']) : null,
    recyclable: r.chance(0.7),
    hazardous_substances: electric && r.chance(0.15) ? [r.pick(SUBSTANCES)] : electric ? [] : null,
  };
  if (status === 'draft') {
    const missing: Array<keyof ComplianceValues> = ['end_of_life_instructions', 'certifications', 'carbon_footprint_kg', 'materials'];
    const drop = r.int(1, 2);
    for (const f of [...missing].sort(() => r.next() - 0.5).slice(0, drop)) (v as unknown as Record<string, unknown>)[f] = null;
  }
  return v;
}
