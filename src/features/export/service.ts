import type { Kysely } from 'kysely';
import { toBool } from '../../db/dialect.js';
import { createComplianceRepository } from '../passports/repository.js';
import type { ComplianceRow, Schema } from '../../db/schema.js';
import { errors } from '../../errors.js';
import { valuesFromRow } from '../passports/record.js';
import { missingForComplete } from '../passports/rules.js';
import { passportView, type PassportView } from '../passports/views.js';
import { redactPassport } from '../passports/derive.js';
import { PASSPORT_MODEL, type AccessTier } from '../passports/model.js';
import type { GrantHolder } from '../access/grants.js';
import { findLiveInstance } from '../passports/instances.js';
import { publicSuccessorOf, type PublicSuccessor } from '../passports/successors.js';
import { passportUri, publishableGtin } from './digital-link.js';
import { requireOwnedProduct } from '../products/ownership.js';
import { createExportRepository, PRODUCT_COLUMNS } from './repository.js';
import type { ExportInput } from './types.js';

type ProductForExport = NonNullable<Awaited<ReturnType<ReturnType<typeof createExportRepository>['findPublicProduct']>>>;

/** What the public resolver shows: one published version, and which others exist. */
export interface PublicPassport extends ExportInput {
  productId: string;
  currentVersion: number;
  versions: Array<{ version: number; publishedAt: string }>;
  /** The tier the passport was redacted for: public, or the tier of a grant from its organisation. */
  tier: AccessTier;
  /** The passport that succeeds this one (product replaced), shown beside it. */
  successor?: PublicSuccessor | undefined;
}

/** Which published version a public request asks for: a number, the one live at an instant, or the current one. */
export interface PublicSelector {
  version?: number | undefined;
  /** ISO-8601: the version that was live then (published at or before it, never withdrawn). */
  at?: string | undefined;
  /** An access grant presented with the request; it counts for its own organisation's passports only. */
  grant?: GrantHolder | undefined;
  /** The batch (AI 10) and serial (AI 21) of a Digital Link: their batch or item passport when one is live. */
  lot?: string | undefined;
  serial?: string | undefined;
}

/** A published passport is live while it has a published version and no withdrawal after it. */
function isLive(row: ComplianceRow): boolean {
  return row.published_version !== null && !row.withdrawn_at;
}

/**
 * Assembles what the export formats, the QR code and the public resolver need: which version of
 * which passport, under which URI. The public side sees published, not withdrawn, versions only.
 */
export function createExportService(db: Kysely<Schema>, baseUrl: string) {
  const repo = createExportRepository(db);

  async function publishedInput(product: ProductForExport, row: ComplianceRow, version: number): Promise<ExportInput | undefined> {
    const publication = await repo.findPublication(product.id, version);
    if (!publication) return undefined;
    return {
      passport: JSON.parse(publication.snapshot) as PassportView,
      gtin14: publishableGtin(product.gtin14, toBool(product.gtin_valid)),
      status: 'published',
      publishedVersion: publication.published_version,
      publishedAt: publication.published_at,
      baseUrl,
      ...(publication.credential ? { credentialUrl: `${baseUrl}/dpp/${product.id}/credentials/v${publication.published_version}` } : {}),
    };
  }

  function workingCopyInput(product: ProductForExport, row: ComplianceRow): ExportInput {
    const values = valuesFromRow(row);
    const status = missingForComplete(values).length === 0 ? 'complete' : 'draft';
    return {
      passport: passportView(product, row, values, status),
      gtin14: publishableGtin(product.gtin14, toBool(product.gtin_valid)),
      status,
      publishedVersion: null,
      publishedAt: null,
      baseUrl,
    };
  }

  /** The export of one product for its organisation: the live published version, else the working copy. */
  async function inputFor(product: ProductForExport, row: ComplianceRow, version?: number): Promise<ExportInput> {
    if (version !== undefined) {
      const input = await publishedInput(product, row, version);
      if (!input) throw errors.notFound('Version', `Passport version ${version} of product ${product.id} does not exist.`);
      return input;
    }
    if (isLive(row)) return (await publishedInput(product, row, row.published_version!))!;
    return workingCopyInput(product, row);
  }

  async function publicPassport(product: ProductForExport, row: ComplianceRow, { version, at, grant, lot, serial }: PublicSelector): Promise<PublicPassport | undefined> {
    // The snapshot holds every field; what leaves here holds only those the reader may see.
    const tier: AccessTier = grant && grant.orgId === product.org_id ? grant.tier : 'public';
    // A batch or item passport answers its own Digital Link; an earlier model version or date asks for the model.
    const instance = version === undefined && at === undefined && (lot !== undefined || serial !== undefined) ? await findLiveInstance(db, product.id, { lot, serial }) : undefined;
    if (instance) {
      const { granularity, ...view } = instance;
      return {
        passport: redactPassport(PASSPORT_MODEL, view as PassportView, tier),
        gtin14: publishableGtin(product.gtin14, toBool(product.gtin_valid)),
        status: 'published',
        publishedVersion: granularity.version,
        publishedAt: granularity.issued_at,
        baseUrl,
        granularity,
        productId: product.id,
        currentVersion: granularity.version,
        versions: [{ version: granularity.version, publishedAt: granularity.issued_at }],
        tier,
      };
    }
    // Only versions never withdrawn: a withdrawal takes a version off the public side for good.
    const versions = (await repo.publicVersions(product.id)).map((v) => ({ version: v.published_version, publishedAt: v.published_at }));
    const wanted = at !== undefined ? versions.filter((v) => v.publishedAt <= at).at(-1)?.version : (version ?? row.published_version!);
    if (wanted === undefined || !versions.some((v) => v.version === wanted)) return undefined;
    const input = await publishedInput(product, row, wanted);
    if (!input) return undefined;
    const passport = redactPassport(PASSPORT_MODEL, input.passport, tier);
    const successor = await publicSuccessorOf(db, baseUrl, product.id);
    return { ...input, passport, productId: product.id, currentVersion: row.published_version!, versions, tier, successor };
  }

  const requireProduct = (orgId: string, productId: string) => requireOwnedProduct(db, orgId, productId, PRODUCT_COLUMNS);

  return {
    async exportFor(orgId: string, productId: string, version?: number): Promise<ExportInput> {
      const product = await requireProduct(orgId, productId);
      const row = await repo.findRecord(productId);
      if (!row?.passport_created_at) {
        throw errors.notFound('Passport', `Product ${productId} has no Digital Product Passport to export yet.`);
      }
      return inputFor(product, row, version);
    },

    /**
     * The URI the product's QR code encodes. A code is a promise printed on goods, so it is refused
     * (409) when it would open the wrong thing: another organisation's passport (that organisation
     * published the GTIN first and the Digital Link resolves to it), or, unless `preview` is asked
     * for, no passport at all (the product has no live published passport: the code would open a
     * "not found" page). A preview answers the same URI, marked as such.
     */
    async qrUriFor(orgId: string, productId: string, preview = false): Promise<string> {
      const product = await requireProduct(orgId, productId);
      const gtin14 = publishableGtin(product.gtin14, toBool(product.gtin_valid));
      if (gtin14 && (await createComplianceRepository(db).gtinPublishedElsewhere(orgId, gtin14))) throw errors.carrierTaken(productId, gtin14);
      if (!preview && product.dpp_status !== 'published') throw errors.carrierUnpublished(productId);
      return passportUri(baseUrl, product.id, gtin14);
    },

    /**
     * Public: the live published passport of a product (or an earlier published version, by number or
     * by date), redacted to the reader's tier, or undefined. A withdrawn passport shows no version at all.
     */
    async publicById(productId: string, selector: PublicSelector = {}): Promise<PublicPassport | undefined> {
      const product = await repo.findPublicProduct(productId);
      const row = product && (await repo.findRecord(productId));
      return product && row && isLive(row) ? publicPassport(product, row, selector) : undefined;
    },

    /** Public: the live published passport for a GTIN-14 (or its earlier version `version`), or undefined. */
    async publicByGtin(gtin14: string, selector: PublicSelector = {}): Promise<PublicPassport | undefined> {
      const product = await repo.findPublishedByGtin(gtin14);
      if (!product || !toBool(product.gtin_valid)) return undefined;
      const row = await repo.findRecord(product.id);
      return row && isLive(row) ? publicPassport(product, row, selector) : undefined;
    },

    /**
     * Public: where a withdrawn passport moved (its successor link says `moved` and the successor's
     * passport is live), by product id or GTIN; undefined otherwise. The resolver redirects there.
     */
    async movedTo(key: { productId: string } | { gtin14: string }): Promise<PublicSuccessor | undefined> {
      const product = 'productId' in key ? await repo.findPublicProduct(key.productId) : await repo.findEverPublishedByGtin(key.gtin14);
      const row = product && (await repo.findRecord(product.id));
      if (!product || !row || row.published_version === null || isLive(row)) return undefined;
      const successor = await publicSuccessorOf(db, baseUrl, product.id);
      return successor?.reason === 'moved' ? successor : undefined;
    },

    /** Every passport of an organisation (live published version, else working copy), streamed in id order. */
    async *all(orgId: string): AsyncIterable<ExportInput> {
      let after = '';
      for (;;) {
        const products = await repo.productsWithPassport(orgId, after, 500);
        if (products.length === 0) return;
        for (const product of products) {
          const row = await repo.findRecord(product.id);
          if (row?.passport_created_at) yield await inputFor(product, row);
        }
        after = products.at(-1)!.id;
      }
    },
  };
}

export type ExportService = ReturnType<typeof createExportService>;
