import { describe, expect, it } from 'vitest';
import { gtinCheckDigit, parseGtin } from '../../src/lib/gtin.js';

describe('GTIN', () => {
  it('accepts GS1 example 09520123456788 as a valid GTIN-14', () => {
    expect(parseGtin('09520123456788')).toEqual({ digits: '09520123456788', gtin14: '09520123456788', valid: true });
  });

  it('pads GTIN-8, UPC-12 and EAN-13 to fourteen digits', () => {
    expect(parseGtin('96385074')?.gtin14).toBe('00000096385074');
    expect(parseGtin('036000291452')?.gtin14).toBe('00036000291452');
    expect(parseGtin('4006381333931')?.gtin14).toBe('04006381333931');
  });

  it('flags but keeps the spec example 3760000000001, whose check digit should be 0', () => {
    expect(parseGtin('3760000000001')).toEqual({ digits: '3760000000001', gtin14: '03760000000001', valid: false });
    expect(parseGtin('3760000000000')?.valid).toBe(true);
    expect(gtinCheckDigit('376000000000')).toBe(0);
  });

  it('validates every GTIN of the Icecat index sample', async () => {
    const fs = await import('node:fs');
    const { parse } = await import('csv-parse/sync');
    const csv = fs.readFileSync(new URL('../../../shared/catalog/icecat-files-index-sample/DERIVED_icecat_index_flat.csv', import.meta.url), 'utf8');
    const rows: Array<{ all_gtins: string }> = parse(csv, { columns: true });
    const codes = rows.flatMap((r) => r.all_gtins.split('|')).filter(Boolean);
    expect(codes.length).toBeGreaterThan(3000);
    const parsed = codes.map((c) => parseGtin(c));
    expect(parsed.every((p) => p?.valid)).toBe(true);
  });

  it('strips spaces and hyphens, rejects other lengths and letters', () => {
    expect(parseGtin('4006381 333931')?.valid).toBe(true);
    expect(parseGtin('4006-381333931')?.gtin14).toBe('04006381333931');
    expect(parseGtin('12345')).toBeUndefined();
    expect(parseGtin('400638133393X')).toBeUndefined();
    expect(parseGtin('123456789012345')).toBeUndefined();
  });
});
