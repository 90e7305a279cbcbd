import type { Generated, Insertable, Selectable } from 'kysely';

/**
 * Row types as stored. Portable across both dialects: text ids (UUIDs made by the app),
 * ISO-8601 UTC timestamps as text, JSON as text, booleans as 0/1 (SQLite) or boolean (PostgreSQL),
 * read back through `toBool` in ./dialect.ts.
 */
export interface OrganisationsTable {
  id: string;
  slug: string;
  name: string;
  created_at: string;
  /** The unique operator identifier for the EU DPP registry: an EORI number or a GLN (canonical form); null until set. */
  operator_id: Generated<string | null>;
}

export interface ApiKeysTable {
  /** Public part of the key, also its primary key: `dpp_<id>_<secret>`. */
  id: string;
  org_id: string;
  name: string | null;
  /** sha256 of the whole key, hex. The key itself is never stored. */
  secret_hash: string;
  /** Comma-separated scopes: read, write, admin. */
  scopes: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface ProductsTable {
  id: string;
  org_id: string;
  external_id: string | null;
  title: string;
  /** The identifier as the user gave it (digits only). */
  ean: string | null;
  /** The same GTIN left-padded to 14 digits: the form used for uniqueness, search and Digital Link. */
  gtin14: string | null;
  gtin_valid: number | boolean | null;
  brand: string | null;
  category: string | null;
  description: string | null;
  /** JSON object text. */
  attributes: string;
  created_at: string;
  updated_at: string;
  /** True once a passport exists (0/1 on SQLite). */
  has_dpp: Generated<number | boolean>;
  /** draft | complete | published, null without a passport. */
  dpp_status: Generated<string | null>;
  /** Title folded for search: lower case, accents removed. Set by the repository from the title. */
  search_text: Generated<string>;
}

/** One per product: the passport (working copy) and the environmental data, which share carbon_footprint_kg. */
export interface ComplianceRecordsTable {
  product_id: string;
  org_id: string;
  dpp_id: string;
  /** Set when a passport was created; environmental data alone does not make a passport. */
  passport_created_at: string | null;
  version: number;
  product_name: string | null;
  manufacturer: string | null;
  country_of_origin: string | null;
  materials: string | null;
  carbon_footprint_kg: number | null;
  recyclability_score: string | null;
  certifications: string | null;
  end_of_life_instructions: string | null;
  dismantling_instructions: string | null;
  spare_parts_sources: string | null;
  conformity_test_results: string | null;
  reach_compliant: number | boolean | null;
  rohs_compliant: number | boolean | null;
  ce_marked: number | boolean | null;
  weee_category: string | null;
  energy_class: string | null;
  recyclable: number | boolean | null;
  hazardous_substances: string | null;
  /** CN/HS commodity code, digits only (6, 8 or 10). */
  commodity_code: string | null;
  /** GLN of the facility the product is made at. */
  facility_id: string | null;
  /** JSON: field → source ("api" or "extraction:<id>") of its current value. */
  field_sources: string;
  published_version: number | null;
  published_at: string | null;
  withdrawn_at: string | null;
  has_unpublished_changes: number | boolean;
  updated_at: string;
  /** JSON array: what keeps the passport from complete (`missingForComplete` of the values), kept with every change. */
  missing_fields: string;
}

export interface ComplianceHistoryTable {
  id: string;
  org_id: string;
  product_id: string;
  version: number;
  action: string;
  changed_at: string;
  key_id: string | null;
  source: string | null;
  /** JSON array of {field, old, new}. */
  changes: string;
}

export interface PassportPublicationsTable {
  product_id: string;
  published_version: number;
  org_id: string;
  /** The record version this publication froze. */
  revision: number;
  published_at: string;
  key_id: string | null;
  /** JSON of the passport as published. */
  snapshot: string;
  withdrawn_at: string | null;
  /** SHA-256 hex of the RFC 8785 (JCS) canonical form of `snapshot`. */
  content_hash: string | null;
  /** The signed UNTP credential of this version (compact JWS, `vc+jwt`); null for versions published before signing. */
  credential: string | null;
  /** `kid` of the signing key (see `signing_keys`). */
  credential_kid: string | null;
  /** The credential's revocation status list (`status_lists.list_number`) and its index there. */
  status_list: number | null;
  status_index: number | null;
}

/** An organisation's credential signing keys (Ed25519). */
export interface SigningKeysTable {
  /** The key's RFC 7638 JWK thumbprint; the DID URL of its verification method is `<did>#<kid>`. */
  kid: string;
  org_id: string;
  /** JSON of the public JWK. */
  public_jwk: string;
  /** The private JWK: sealed (`aesgcm:v1:…`) when SIGNING_SECRET is set, else its JSON. */
  private_key: string;
  /** active (signs new credentials; one per organisation) or retired (still verifies). */
  status: string;
  created_at: string;
  retired_at: string | null;
}

/** An organisation's W3C Bitstring Status Lists. */
export interface StatusListsTable {
  org_id: string;
  /** revocation. */
  purpose: string;
  list_number: number;
  /** Bits in the list. */
  size: number;
  /** The next index a new credential gets. */
  next_index: number;
  /** GZIP + base64url (no padding) of the bits; the served `encodedList` is this with the multibase prefix `u`. */
  encoded_list: string;
  updated_at: string;
}

export interface OrgStatsTable {
  org_id: string;
  total_products: number;
  with_dpp: number;
  draft: number;
  complete: number;
  published: number;
}

export interface OrgCertificationsTable {
  org_id: string;
  code: string;
  products: number;
}

export interface JobsTable {
  id: string;
  queue: string;
  /** JSON payload given to the handler. */
  payload: string;
  /** queued | running | completed | failed */
  status: string;
  priority: number;
  run_at: string;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  locked_until: string | null;
  last_error: string | null;
  idempotency_key: string | null;
  /** Groups the jobs of one request (an extraction task) for progress counts. */
  group_id: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

export interface BlobsTable {
  sha256: string;
  size: number;
  bytes: Buffer;
  created_at: string;
}

export interface DocumentsTable {
  id: string;
  org_id: string;
  product_id: string;
  filename: string;
  media_type: string;
  kind: string;
  size: number;
  sha256: string;
  created_at: string;
  /** The role on the public passport (declaration_of_conformity, user_manual…); null: private. */
  public_role: string | null;
  /** When the document was last marked public or private. */
  public_changed_at: string | null;
}

export interface ExtractionTasksTable {
  id: string;
  org_id: string;
  provider: string;
  created_at: string;
}

export interface ExtractionsTable {
  id: string;
  org_id: string;
  product_id: string;
  asset_id: string;
  task_id: string;
  job_id: string;
  provider: string;
  /** queued | running | completed | failed */
  status: string;
  /** JSON: field → {value, confidence, evidence[]} */
  fields: string | null;
  confidence: number | null;
  /** JSON array of the field names applied to the product. */
  applied: string | null;
  /** JSON array of {field, extracted, current, reason, kept_source}. */
  conflicts: string | null;
  /** product_declaration | technical_document | component_statement (features/extraction/authority.ts); null before it ran. */
  authority: string | null;
  error: string | null;
  created_at: string;
  extracted_at: string | null;
}

/** One audited change (see features/audit): who did what to which target, kept AUDIT_RETENTION_DAYS. */
export interface AuditEventsTable {
  id: string;
  org_id: string;
  at: string;
  /** The API key that made the change; null for the CLI and the system. */
  actor_key_id: string | null;
  /** Through what: "api", "cli", "system", "import" … */
  actor: string;
  /** e.g. passport.publish, passport.withdraw, product.delete, document.delete, key.create, key.revoke */
  action: string;
  /** passport | product | document | api_key */
  target_type: string;
  target_id: string;
  /** JSON object text. */
  details: string;
  request_id: string | null;
}

export interface AccessGrantsTable {
  id: string;
  org_id: string;
  /** Who holds it: "Repair Café Lyon", "Market surveillance DE-BY". */
  grantee: string;
  /** The highest tier it shows: legitimate_interest or authority. */
  tier: string;
  purpose: string | null;
  /** SHA-256 hex of the token; the token itself is shown once, at creation. */
  token_hash: string;
  created_at: string;
  created_by_key_id: string | null;
  expires_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** One entry of the EU DPP registry queue (features/registry): a published version or a withdrawal, with its registry fields as they were then. */
export interface RegistryEntriesTable {
  id: string;
  org_id: string;
  product_id: string;
  dpp_id: string;
  published_version: number;
  /** registration | withdrawal */
  kind: string;
  /** incomplete | pending | submitted | registered | rejected */
  status: string;
  /** JSON array of the registry fields that were missing. */
  missing_fields: string;
  product_identifier: string;
  /** gtin | dpp_id */
  product_identifier_scheme: string;
  operator_id: string | null;
  facility_id: string | null;
  commodity_code: string | null;
  passport_uri: string;
  queued_at: string;
  updated_at: string;
  submitted_at: string | null;
  acknowledged_at: string | null;
  registry_id: string | null;
  reason: string | null;
}

export interface PassportInstancesTable {
  id: string;
  org_id: string;
  product_id: string;
  level: 'batch' | 'item';
  /** `batch:<lot>` or `item:<serial>`: one batch or item, whatever its version. */
  ident: string;
  lot: string | null;
  serial: string | null;
  /** YYYY-MM-DD. */
  production_date: string | null;
  version: number;
  /** The model's published version this batch or item passport extends. */
  based_on_version: number;
  /** JSON object: the per-instance fields the batch or item states itself. */
  instance_values: string;
  /** JSON: the passport as published for this batch or item (a PassportView plus its granularity). */
  snapshot: string;
  created_at: string;
  created_by_key_id: string | null;
  withdrawn_at: string | null;
}

export interface PassportSuccessorsTable {
  product_id: string;
  org_id: string;
  successor_product_id: string;
  /** replaced: a newer product; moved: the same product's passport now lives at the successor. */
  reason: 'replaced' | 'moved';
  created_at: string;
  created_by_key_id: string | null;
}

export interface Schema {
  organisations: OrganisationsTable;
  api_keys: ApiKeysTable;
  products: ProductsTable;
  compliance_records: ComplianceRecordsTable;
  compliance_history: ComplianceHistoryTable;
  passport_publications: PassportPublicationsTable;
  org_stats: OrgStatsTable;
  org_certifications: OrgCertificationsTable;
  jobs: JobsTable;
  blobs: BlobsTable;
  documents: DocumentsTable;
  extraction_tasks: ExtractionTasksTable;
  extractions: ExtractionsTable;
  audit_events: AuditEventsTable;
  signing_keys: SigningKeysTable;
  status_lists: StatusListsTable;
  access_grants: AccessGrantsTable;
  passport_instances: PassportInstancesTable;
  passport_successors: PassportSuccessorsTable;
  registry_entries: RegistryEntriesTable;
}

export type OrganisationRow = Selectable<OrganisationsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type ProductRow = Selectable<ProductsTable>;
export type NewProductRow = Insertable<ProductsTable>;
export type ComplianceRow = Selectable<ComplianceRecordsTable>;
export type JobRow = Selectable<JobsTable>;
export type DocumentRow = Selectable<DocumentsTable>;
export type ExtractionRow = Selectable<ExtractionsTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type RegistryEntryRow = Selectable<RegistryEntriesTable>;
