import { documentRoleName, LANGUAGES, type Lang } from './i18n.js';
import { publicDocumentPath, type PublicDocument } from '../documents/public-roles.js';

/** GS1 Web Vocabulary: the namespace of GS1 link types (`gs1:pip` = `https://ref.gs1.org/voc/pip`). */
export const GS1_VOC = 'https://ref.gs1.org/voc/';
/** UN Transparency Protocol link types (the identity resolver's `untp:dpp`, a DPP credential). */
export const UNTP_LINK_TYPES = 'https://test.uncefact.org/vocabulary/linkTypes/';

/** One link a passport URI offers: its relation (full URI, or a registered IANA name), target and labels. */
export interface PassportLink {
  rel: string;
  href: string;
  title: string;
  type?: string;
  hreflang?: Lang[];
}

const LANGUAGE_NAMES: Record<Lang, string> = { en: 'English', fr: 'français', de: 'Deutsch' };

export interface LinkSubject {
  /** The URI the links are about: the Digital Link of the model (or /dpp/{id}). */
  uri: string;
  productName: string;
  publishedVersion: number;
  /** Every published version, for links to the ones before the current. */
  versions: Array<{ version: number; publishedAt: string }>;
  /** The shown version's signed credential (application/vc+jwt), when it has one. */
  credentialUrl?: string | undefined;
  /** The public documents the shown version lists, as links (`documentLinks`). */
  documents?: PassportLink[];
  /** The passport that succeeds this one (the product was replaced). */
  successor?: { uri: string; productName: string } | undefined;
}

/**
 * The links to a version's public documents, under their role's GS1 link type, with their media
 * type and a title naming the role and the file (JSON carries it escaped; it never reaches a header).
 */
export function documentLinks(baseUrl: string, productId: string, documents: readonly PublicDocument[]): PassportLink[] {
  return documents.map((d) => ({
    rel: d.link_type,
    href: `${baseUrl}${publicDocumentPath(productId, d.document_id)}`,
    title: `${documentRoleName(d.role, 'en')}: ${d.filename}`,
    type: d.media_type,
  }));
}

/**
 * The links of a published passport. Every link has a title; the default link is the passport at
 * the URI itself (served in place, see public-routes.ts), with a title only, as GS1 requires.
 */
export function passportLinks({ uri, productName, publishedVersion, versions, documents = [], credentialUrl, successor }: LinkSubject): PassportLink[] {
  const page = (rel: string, fragment: string, what: string) =>
    LANGUAGES.map((lang) => ({
      rel,
      href: `${uri}?lang=${lang}${fragment}`,
      title: `${what}: ${productName} (${LANGUAGE_NAMES[lang]})`,
      type: 'text/html',
      hreflang: [lang],
    }));
  // A document comes before the page section of the same type: `?linkType=gs1:certificationInfo`
  // opens the Declaration of Conformity itself (unless the client accepts only HTML).
  const docs = (rel: string) => documents.filter((d) => d.rel === rel);
  const pageRels = [`${GS1_VOC}sustainabilityInfo`, `${GS1_VOC}certificationInfo`];
  return [
    { rel: `${GS1_VOC}defaultLink`, href: uri, title: `Digital Product Passport: ${productName}` },
    ...page(`${GS1_VOC}pip`, '', 'Product information'),
    ...page(`${GS1_VOC}dpp`, '', 'Digital Product Passport'),
    { rel: `${GS1_VOC}dpp`, href: `${uri}?format=jsonld`, title: `Digital Product Passport (JSON-LD): ${productName}`, type: 'application/ld+json' },
    ...docs(`${GS1_VOC}sustainabilityInfo`),
    ...page(`${GS1_VOC}sustainabilityInfo`, '#environment', 'Sustainability information'),
    ...docs(`${GS1_VOC}certificationInfo`),
    ...page(`${GS1_VOC}certificationInfo`, '#certifications', 'Certifications'),
    ...documents.filter((d) => !pageRels.includes(d.rel)),
    {
      rel: `${UNTP_LINK_TYPES}dpp`,
      href: `${uri}?format=jsonld&profile=untp`,
      title: `UNTP Digital Product Passport credential: ${productName}`,
      type: 'application/ld+json',
    },
    // The same passport in UNTP 0.7.0 (the link above, the first of its type, stays UNTP 0.6.0).
    {
      rel: `${UNTP_LINK_TYPES}dpp`,
      href: `${uri}?format=jsonld&profile=untp-0.7.0`,
      title: `UNTP Digital Product Passport credential (UNTP 0.7.0): ${productName}`,
      type: 'application/ld+json',
    },
    // The same credential signed by the organisation (VC-JOSE-COSE compact JWS).
    ...(credentialUrl
      ? [{ rel: `${UNTP_LINK_TYPES}dpp`, href: credentialUrl, title: `UNTP Digital Product Passport credential, signed: ${productName}`, type: 'application/vc+jwt' }]
      : []),
    // The product that replaced this one (IANA "successor-version").
    ...(successor ? [{ rel: 'successor-version', href: successor.uri, title: `Replaced by: ${successor.productName}` }] : []),
    // Earlier published versions stay readable at their own address (IANA "predecessor-version").
    ...versions
      .filter((v) => v.version < publishedVersion)
      .sort((a, b) => b.version - a.version)
      .map((v) => ({
        rel: 'predecessor-version',
        href: `${uri}?version=${v.version}`,
        title: `Published version ${v.version} (${v.publishedAt.slice(0, 10)})`,
        type: 'text/html',
      })),
  ];
}

/**
 * RFC 9264 linkset in GS1's shape: one object per anchor, relation keys as full URIs, links with
 * `href` and `title` (plus `type` and `hreflang` when known), the product name as `itemDescription`.
 * A request for a more granular URI (a batch, a serial) gets its own anchor first, then the model's,
 * which holds the links (item-level passports fall back to the model's).
 */
export function buildLinkset(anchor: string, subject: LinkSubject, links: PassportLink[]) {
  const entry: Record<string, unknown> = { anchor: subject.uri, itemDescription: subject.productName };
  for (const link of links) {
    const { rel, ...target } = link;
    ((entry[rel] ??= []) as object[]).push(target);
  }
  const entries = anchor === subject.uri ? [entry] : [{ anchor, itemDescription: subject.productName }, entry];
  return { linkset: entries };
}

/** Expands a link type as requests name it (`gs1:pip`, `untp:dpp`, a full URI) to its full relation URI. */
export function expandLinkType(linkType: string): string {
  if (linkType.startsWith('gs1:')) return GS1_VOC + linkType.slice(4);
  if (linkType.startsWith('untp:')) return UNTP_LINK_TYPES + linkType.slice(5);
  // GS1 has published its vocabulary under both hosts.
  if (/^https?:\/\/(www\.)?gs1\.org\/voc\//.test(linkType)) return GS1_VOC + linkType.replace(/^https?:\/\/(www\.)?gs1\.org\/voc\//, '');
  return linkType;
}

/**
 * The link of a type that best fits the request: the first in the visitor's language and wanted
 * media type, else in the language, else of the media type, else the first of that type.
 */
export function pickLink(links: PassportLink[], rel: string, lang: Lang, mediaTypes: string[]): PassportLink | undefined {
  const candidates = links.filter((l) => l.rel === rel);
  const langOk = (l: PassportLink) => !l.hreflang || l.hreflang.includes(lang);
  const typeOk = (l: PassportLink) => !l.type || mediaTypes.includes(l.type);
  return candidates.find((l) => langOk(l) && typeOk(l)) ?? candidates.find(langOk) ?? candidates.find(typeOk) ?? candidates[0];
}
