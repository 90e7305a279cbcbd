/** Bytes to a JavaScript string for the text formats: BOM first, then the declared charset, then UTF-8, then Windows-1252. */

function tryDecode(label: string, bytes: Uint8Array, fatal: boolean): string | undefined {
  try {
    return new TextDecoder(label, { fatal }).decode(bytes);
  } catch {
    return undefined;
  }
}

export function decodeText(bytes: Uint8Array, charset?: string): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return tryDecode('utf-8', bytes.subarray(3), false)!;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return tryDecode('utf-16le', bytes.subarray(2), false)!;
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return tryDecode('utf-16be', bytes.subarray(2), false)!;
  if (charset) {
    const declared = tryDecode(charset, bytes, false);
    if (declared !== undefined) return declared;
  }
  return tryDecode('utf-8', bytes, true) ?? tryDecode('windows-1252', bytes, false)!;
}

/** The charset an HTML document declares in its first bytes (`<meta charset>` or http-equiv), if any. */
export function sniffHtmlCharset(bytes: Uint8Array): string | undefined {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 2048));
  return /<meta[^>]+charset\s*=\s*["']?([\w-]+)/i.exec(head)?.[1]?.toLowerCase();
}

/** Text files have no pages; a form feed (as pdftotext writes) is honoured as a page break. */
export function splitFormFeeds(text: string): string[] {
  const pages = text.split('\f');
  if (pages.length > 1 && pages[pages.length - 1]!.trim() === '') pages.pop();
  return pages;
}
