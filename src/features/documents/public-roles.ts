/**
 * The roles a document can play on the public passport, each a GS1 Web Vocabulary link type
 * (https://ref.gs1.org/voc/): the relation under which the linkset offers the document, and the
 * `linkType` a resolver request names to be sent to it (`?linkType=gs1:certificationInfo`). Pure.
 */
export const PUBLIC_DOCUMENT_ROLES = {
  /** EU Declaration of Conformity. */
  declaration_of_conformity: 'certificationInfo',
  /** Another certificate or compliance statement (RoHS, REACH certificate of compliance…). */
  certificate: 'certificationInfo',
  user_manual: 'instructions',
  /** Assembly, repair or disassembly instructions. */
  instructions: 'instructions',
  quick_start_guide: 'quickStartGuide',
  safety_information: 'safetyInfo',
  /** Environmental or recycling information (a carbon footprint report, recycling instructions). */
  sustainability_information: 'sustainabilityInfo',
} as const;

export type PublicDocumentRole = keyof typeof PUBLIC_DOCUMENT_ROLES;
export const PUBLIC_DOCUMENT_ROLE_NAMES = Object.keys(PUBLIC_DOCUMENT_ROLES) as PublicDocumentRole[];

const GS1_VOC = 'https://ref.gs1.org/voc/';

export function isPublicDocumentRole(role: string): role is PublicDocumentRole {
  return Object.hasOwn(PUBLIC_DOCUMENT_ROLES, role);
}

/** The full link type URI of a role (`https://ref.gs1.org/voc/certificationInfo`). */
export function linkTypeOf(role: PublicDocumentRole): string {
  return GS1_VOC + PUBLIC_DOCUMENT_ROLES[role];
}

/** The role a document's kind stands for, used when it is made public without naming one. */
export const ROLE_OF_KIND: Readonly<Record<string, PublicDocumentRole>> = {
  declaration_of_conformity: 'declaration_of_conformity',
  manual: 'user_manual',
  rohs: 'certificate',
  reach: 'certificate',
  carbon_footprint: 'sustainability_information',
};

/**
 * A public document as a published passport version lists it (captured in the publication snapshot
 * at publish time, so the version keeps showing what it showed, whatever happens to the document).
 */
export interface PublicDocument {
  document_id: string;
  filename: string;
  role: PublicDocumentRole;
  /** GS1 link type URI of the role. */
  link_type: string;
  media_type: string;
  size: number;
  sha256: string;
}

/** Where the public downloads a document of a published passport (prefix with PUBLIC_BASE_URL). */
export function publicDocumentPath(productId: string, documentId: string): string {
  return `/dpp/${productId}/documents/${documentId}`;
}

/**
 * A file name for Content-Disposition that cannot break the header: an ASCII `filename="…"`
 * (anything outside letters, digits and `._-()` and space becomes `_`) and the exact name as RFC 8187
 * `filename*` (every byte outside RFC 8187's attr-char percent-encoded).
 */
export function contentDisposition(type: 'attachment' | 'inline', filename: string): string {
  const ascii = filename.replace(/[^A-Za-z0-9._\- ()]/g, '_').slice(0, 200) || 'document';
  const exact = encodeURIComponent(filename).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${ascii}"; filename*=UTF-8''${exact}`;
}
