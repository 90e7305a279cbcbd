import type { Granularity } from '../passports/instances.js';
import type { PassportView } from '../passports/views.js';
import type { DppStatus } from '../passports/model.js';

/** What every export format is made from: one passport version and where it lives. */
export interface ExportInput {
  /** The published snapshot (or, for a draft export, the working copy). */
  passport: PassportView;
  /** The product's GTIN-14, present only when its check digit is valid. */
  gtin14: string | null;
  /** Status of the exported version: a draft export is marked as such. */
  status: DppStatus;
  /** Number of the published version exported; null for the working copy. */
  publishedVersion: number | null;
  publishedAt: string | null;
  /** PUBLIC_BASE_URL, without a trailing slash: base of ids, links and served contexts. */
  baseUrl: string;
  /** Public address of this published version's signed credential (application/vc+jwt); absent when it has none. */
  credentialUrl?: string | undefined;
  /** Set for a batch or item passport (the model passport has none). */
  granularity?: Granularity | undefined;
}
