/**
 * materials: a composition written as lines or table rows of a material and its share
 * ("Steel 45 %", "Aluminium: 20%", "35 % Baumwolle"). Kept only when at least two rows are found
 * (or one row of 100 %) and the shares add up to at most 100 %. Shares that live
 * only in a chart (numbers without names in the text layer) cannot be read.
 */
import type { ExtractedField, Material } from '../../fields.js';
import type { DocContext } from '../context.js';
import { evidenceOf, findAll, type Match } from '../document.js';
import { parseAmount } from './carbon.js';

const MATERIAL_WORDS = [
  // en
  'steel',
  'stainless\\s+steel',
  'iron',
  'alumin(?:i)?um',
  'copper',
  'brass',
  'bronze',
  'zinc',
  'tin',
  'nickel',
  'gold',
  'silver',
  'titanium',
  'magnesium',
  'plastics?',
  'ABS',
  'PC',
  'PC\\/ABS',
  'PP',
  'PE',
  'HDPE',
  'LDPE',
  'PET',
  'PVC',
  'PA6?6?',
  'POM',
  'PMMA',
  'PS',
  'TPE',
  'TPU',
  'EPS',
  'rubber',
  'silicone',
  'glass',
  'ceramics?',
  'paper',
  'cardboard',
  'carton',
  'wood',
  'cotton',
  'polyester',
  'nylon',
  'wool',
  'leather',
  'elastane',
  'spandex',
  'viscose',
  'lyocell',
  'linen',
  'polyamide',
  'acrylic',
  'metals?',
  'batter(?:y|ies)',
  'electronics',
  'circuit\\s+boards?',
  'PCBA?',
  'foam',
  'fib(?:re|er)s?',
  'textiles?',
  // fr
  'acier',
  'cuivre',
  'plastiques?',
  'verre',
  'papier',
  'bois',
  'coton',
  'laine',
  'cuir',
  'caoutchouc',
  'métal',
  'métaux',
  // de
  'Stahl',
  'Edelstahl',
  'Kupfer',
  'Kunststoffe?',
  'Glas',
  'Pappe',
  'Karton',
  'Holz',
  'Baumwolle',
  'Wolle',
  'Leder',
  'Gummi',
  'Metalle?',
  // nl
  'staal',
  'roestvrij\\s+staal',
  'koper',
  'kunststof(?:fen)?',
  'glas',
  'hout',
  'katoen',
  'wol',
  'leer',
  'metaal',
].join('|');

const NAME = `((?:[\\p{L}/-]+[ \\t]+){0,3}?(?:${MATERIAL_WORDS})(?:[ \\t]+[\\p{L}/-]+){0,2}?)`;
const SHARE = '(\\d{1,3}(?:[.,]\\d{1,2})?)[ \\t]*%';
const NAME_THEN_SHARE = new RegExp(`^[ \\t•-]*${NAME}[ \\t]*(?:[:=|-][ \\t]*|[ \\t])${SHARE}[ \\t]*$`, 'gimu');
const SHARE_THEN_NAME = new RegExp(`^[ \\t•-]*${SHARE}[ \\t]+${NAME}[ \\t.]*$`, 'gimu');
const HEADING =
  /\b(?:material\s+composition|materials?\s+(?:used|content|breakdown)|materials?\s*:|composition|Werkstoffe|Materialien|Materialzusammensetzung|Zusammensetzung|matériaux|composition|materialen|samenstelling)\b/i;

export function extractMaterials(ctx: DocContext): ExtractedField<Material[]> | undefined {
  const rows: { material: Material; m: Match }[] = [];
  for (const [re, nameGroup, shareGroup] of [
    [NAME_THEN_SHARE, 1, 2],
    [SHARE_THEN_NAME, 2, 1],
  ] as const) {
    for (const m of findAll(ctx.doc, re, 'text')) {
      const name = m.groups[nameGroup]!.replace(/\s+/g, ' ').trim();
      const percentage = parseAmount(m.groups[shareGroup]!);
      if (percentage > 0 && percentage <= 100 && !rows.some((r) => r.material.name.toLowerCase() === name.toLowerCase())) {
        rows.push({ material: { name, percentage }, m });
      }
    }
  }
  if (rows.length === 0) return undefined;
  const introduced = rows.some((r) => HEADING.test(r.m.page.text.slice(Math.max(0, r.m.index - 300), r.m.index)));
  // One row alone is a composition only when it is the whole product ("100 % cotton").
  if (rows.length < 2 && rows[0]!.material.percentage !== 100) return undefined;
  const total = rows.reduce((s, r) => s + r.material.percentage, 0);
  if (total > 100.5) return undefined;
  return {
    value: rows.map((r) => r.material),
    confidence: introduced ? 0.75 : 0.6,
    evidence: rows.slice(0, 3).map((r) => evidenceOf(r.m)),
  };
}
