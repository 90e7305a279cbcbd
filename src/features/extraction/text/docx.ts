import { ZipReader } from './zip.js';
import { ExtractionFailure, type TextDocument, type TextLimits } from './types.js';

/**
 * DOCX text straight from WordprocessingML: the runs' `<w:t>` text, tabs, line and paragraph
 * breaks, table cells; pages split at explicit page breaks and at the page breaks Word recorded
 * when it last laid the document out (`w:lastRenderedPageBreak`). Headers are put before page 1,
 * footers, footnotes and endnotes after the last page. Deleted text and field codes are skipped.
 */
export function extractDocxText(bytes: Uint8Array, limits: TextLimits): TextDocument {
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b)) throw new ExtractionFailure('invalid_file', 'DOCX: not a ZIP archive (no PK signature)');
  const zip = new ZipReader(bytes, limits.maxDecompressedBytes);
  const xml = (name: string) => {
    const data = zip.read(name);
    return data ? new TextDecoder('utf-8').decode(data) : undefined;
  };
  const main = mainDocumentPath(xml('_rels/.rels'));
  const body = xml(main);
  if (body === undefined) throw new ExtractionFailure('invalid_file', `DOCX: no main document part (${main})`);
  const pages = wordprocessingText(body);
  const names = [...zip.entries.keys()].sort();
  const parts = (re: RegExp) =>
    names
      .filter((n) => re.test(n))
      .map((n) =>
        wordprocessingText(xml(n) ?? '')
          .join('\n')
          .trim(),
      );
  const headers = parts(/^word\/header\d*\.xml$/).filter(Boolean);
  const trailers = parts(/^word\/(footer\d*|footnotes|endnotes)\.xml$/).filter(Boolean);
  if (headers.length) pages[0] = `${[...new Set(headers)].join('\n')}\n${pages[0] ?? ''}`;
  if (trailers.length) pages[pages.length - 1] = `${pages[pages.length - 1] ?? ''}\n${[...new Set(trailers)].join('\n')}`;
  return { pages };
}

function mainDocumentPath(rels: string | undefined): string {
  const rel = rels && /<Relationship\b[^>]*Type="[^"]*\/officeDocument"[^>]*>/.exec(rels)?.[0];
  const target = rel && /Target="\/?([^"]+)"/.exec(rel)?.[1];
  return target ?? 'word/document.xml';
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
    }
    return ENTITIES[ref] ?? whole;
  });
}

/** The text of one WordprocessingML part, split into pages. */
export function wordprocessingText(xml: string): string[] {
  const pages: string[] = [];
  let current = '';
  let inText = false;
  let skipDepth = 0;
  const pageBreak = () => {
    if (current.trim() === '') return;
    pages.push(current);
    current = '';
  };
  const token = /<(\/?)([\w:.-]+)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>|([^<]+)/g;
  for (let m = token.exec(xml); m; m = token.exec(xml)) {
    const [, closing, tag, attributes = '', selfClosing, text] = m;
    if (text !== undefined) {
      if (inText && skipDepth === 0) current += decodeEntities(text);
      continue;
    }
    if (tag === 'mc:Fallback' || tag === 'w:delText' || tag === 'w:instrText') {
      if (!selfClosing) skipDepth += closing ? -1 : 1;
      skipDepth = Math.max(0, skipDepth);
      continue;
    }
    if (skipDepth > 0) continue;
    if (tag === 'w:t') inText = !closing && !selfClosing;
    else if (closing && tag === 'w:p') current += '\n';
    else if (closing && tag === 'w:tc') current += '\t';
    else if (closing && tag === 'w:tr') current += '\n';
    else if (tag === 'w:tab' && !closing && !/w:pos=/.test(attributes)) current += '\t';
    else if (tag === 'w:noBreakHyphen') current += '-';
    else if (tag === 'w:cr') current += '\n';
    else if (tag === 'w:br') {
      if (/w:type="page"/.test(attributes)) pageBreak();
      else current += '\n';
    } else if (tag === 'w:lastRenderedPageBreak') pageBreak();
  }
  if (current.trim() !== '' || pages.length === 0) pages.push(current);
  return pages.map((p) => p.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n'));
}
