import { createRequire } from 'node:module';
import { errors } from '../../../errors.js';

/**
 * The key qualifiers of a GTIN in a GS1 Digital Link path, from GS1's syntax dictionary
 * (`01: dlpkey=22,10,21|235`): consumer product variant (22), batch/lot (10), serial (21), each
 * optional but in that order, or else third-party controlled serial (235) alone.
 */
export interface GtinQualifiers {
  cpv?: string; // AI 22
  lot?: string; // AI 10
  serial?: string; // AI 21
  tpx?: string; // AI 235
}

const QUALIFIERS = { '22': { name: 'cpv', max: 20 }, '10': { name: 'lot', max: 20 }, '21': { name: 'serial', max: 20 }, '235': { name: 'tpx', max: 28 } } as const;
type QualifierAi = keyof typeof QUALIFIERS;
const ORDER: QualifierAi[] = ['22', '10', '21'];

/** GS1 AI encodable character set 82, which these qualifiers use (GS1 General Specifications 7.11). */
const CSET82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$/;

function invalid(detail: string, field: string, rule: string) {
  return errors.validation(detail, [{ field, rule, message: detail }]);
}

/** Why a value cannot stand for a GTIN key qualifier (lot, serial…), or undefined when it can. */
export function qualifierProblem(ai: QualifierAi, value: string): string | undefined {
  const spec = QUALIFIERS[ai];
  if (value.length >= 1 && value.length <= spec.max && CSET82.test(value)) return undefined;
  return `The value of AI ${ai} must be 1 to ${spec.max} characters of GS1 character set 82 (letters, digits and !"%&'()*+,-./:;<=>?_).`;
}

/**
 * Reads the qualifier segments after `/01/{gtin}` (already percent-decoded): pairs of AI and value,
 * in the dictionary's order. Anything else (an odd number of segments, an AI that is not a GTIN
 * qualifier, a repeated or out-of-order AI, a value outside its character set or length) is the
 * caller's mistake: a 400 naming the segment, as the resolver standard asks for syntax errors.
 */
export function parseGtinQualifiers(segments: string[]): GtinQualifiers {
  if (segments.length % 2 !== 0) {
    throw invalid(`"/${segments.join('/')}" is not a sequence of key qualifiers: each AI needs a value.`, 'path', 'qualifier_pairs');
  }
  const out: GtinQualifiers = {};
  let lastIndex = -1;
  for (let i = 0; i < segments.length; i += 2) {
    const ai = segments[i]! as QualifierAi;
    const value = segments[i + 1]!;
    const spec = QUALIFIERS[ai];
    if (!spec) throw invalid(`AI ${segments[i]} is not a key qualifier of a GTIN (allowed: 22, 10, 21 in that order, or 235).`, `path/${segments[i]}`, 'qualifier_ai');
    if (ai === '235' ? segments.length !== 2 : out.tpx !== undefined) {
      throw invalid('AI 235 (third-party controlled serial) stands alone after the GTIN: it cannot be combined with 22, 10 or 21.', 'path/235', 'qualifier_exclusive');
    }
    const index = ORDER.indexOf(ai);
    if (ai !== '235' && index <= lastIndex) {
      throw invalid(`AI ${ai} is out of order: a GTIN's key qualifiers come as 22, then 10, then 21, each at most once.`, `path/${ai}`, 'qualifier_order');
    }
    lastIndex = index;
    const problem = qualifierProblem(ai, value);
    if (problem) throw invalid(problem, `path/${ai}`, 'cset82');
    out[spec.name] = value;
  }
  return out;
}

/** The path of a GTIN and its qualifiers, as a Digital Link writes it (values percent-encoded). */
export function gtinPath(gtin14: string, q: GtinQualifiers = {}): string {
  const parts = [`/01/${gtin14}`];
  if (q.tpx !== undefined) parts.push(`/235/${encodeURIComponent(q.tpx)}`);
  if (q.cpv !== undefined) parts.push(`/22/${encodeURIComponent(q.cpv)}`);
  if (q.lot !== undefined) parts.push(`/10/${encodeURIComponent(q.lot)}`);
  if (q.serial !== undefined) parts.push(`/21/${encodeURIComponent(q.serial)}`);
  return parts.join('');
}

// digital-link.js (Apache-2.0) bundles GS1's own Digital Link toolkit, with the compression tables.
const require = createRequire(import.meta.url);
const { Utils } = require('digital-link.js') as {
  Utils: { isCompressedWebUri(uri: string): boolean; decompressWebUri(uri: string): string };
};

/**
 * The uncompressed Digital Link of a compressed one (`/CxFRJydaKIdXhCCjA5` →
 * `/01/09520123456788/10/ABC/21/12345`), on the same base; undefined when the segment is not a
 * compressed Digital Link.
 */
export function decompressDigitalLink(baseUrl: string, segment: string): string | undefined {
  const uri = `${baseUrl}/${segment}`;
  try {
    if (!Utils.isCompressedWebUri(uri)) return undefined;
    const full = Utils.decompressWebUri(uri);
    return full.startsWith(baseUrl) ? full.slice(baseUrl.length) : new URL(full).pathname;
  } catch {
    return undefined;
  }
}
