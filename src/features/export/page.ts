import { createHash } from 'node:crypto';
import { html, SafeHtml } from '../../lib/html.js';
import { countryName, documentRoleName, LANGUAGES, strings, weeeCategoryName, type Lang, type Strings } from './i18n.js';
import { publicDocumentPath } from '../documents/public-roles.js';
import { hiddenFrom } from '../passports/derive.js';
import { PASSPORT_MODEL } from '../passports/model.js';
import type { PassportView } from '../passports/views.js';
import type { ExportInput } from './types.js';

/** The page's only stylesheet, inline and allowed by its hash in the Content-Security-Policy. */
const CSS = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#f5f6f4}
header{background:#14532d;color:#fff;padding:1rem}header p{margin:0;font-size:.875rem;opacity:.9}h1{margin:.25rem 0 0;font-size:1.375rem;line-height:1.3}
main{max-width:44rem;margin:0 auto;padding:1rem}section{background:#fff;border-radius:.5rem;padding:1rem;margin:0 0 1rem;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:1.0625rem;margin:0 0 .75rem;color:#14532d}dl{display:grid;grid-template-columns:minmax(8rem,40%) 1fr;gap:.375rem .75rem;margin:0}dt{color:#4a4a4a}dd{margin:0;font-weight:600;overflow-wrap:anywhere}
ul{margin:0;padding:0;list-style:none}li.cert{display:inline-block;border:1px solid #14532d;color:#14532d;border-radius:1rem;padding:.125rem .625rem;margin:0 .375rem .375rem 0;font-weight:600}
.mat{display:grid;grid-template-columns:1fr 3.5rem;gap:.125rem .5rem;align-items:center;margin-bottom:.5rem}.mat meter{grid-column:1/3;width:100%;height:.75rem}
.big{font-size:1.75rem;font-weight:700}.muted{color:#4a4a4a;font-size:.875rem}footer{max-width:44rem;margin:0 auto;padding:0 1rem 2rem;font-size:.875rem;color:#4a4a4a}
a{color:#14532d}nav a{margin-right:.75rem}.successor{max-width:44rem;margin:1rem auto 0;padding:0 1rem;font-weight:600}li.doc{margin:0 0 .5rem}
`;

export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'`,
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function yesNo(value: boolean | null, t: Strings): string {
  return value === null ? t.unknown : value ? t.yes : t.no;
}

function formatNumber(n: number, lang: Lang): string {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: 2 }).format(n);
}

function formatDate(iso: string, lang: Lang): string {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(iso));
}

function layout(lang: Lang, title: string, body: SafeHtml, t: Strings, selfPath: string): string {
  const others = LANGUAGES.filter((l) => l !== lang);
  return `<!doctype html>${
    html`<html lang="${lang}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <title>${title}</title>
        <style>
          ${new SafeHtml(CSS)}
        </style>
      </head>
      <body>
        ${body}
        <footer><nav aria-label="${t.language}">${others.map((l) => html`<a href="${selfPath}?lang=${l}" hreflang="${l}" lang="${l}">${l.toUpperCase()}</a>`)}</nav></footer>
      </body>
    </html>`.html
  }`;
}

/** The restricted fields of the model, in its order; the page shows those the (redacted) passport still holds. */
const RESTRICTED_FIELDS = hiddenFrom(PASSPORT_MODEL, 'public') as Array<keyof Strings & keyof PassportView>;

/** The restricted fields an access grant shows, under a heading that says they are not public; nothing for the public. */
function restrictedSection(p: PassportView, t: Strings) {
  const shown = RESTRICTED_FIELDS.filter((name) => name in p);
  if (shown.length === 0) return '';
  return html`<section aria-labelledby="s-restricted" class="restricted">
    <h2 id="s-restricted">${t.restricted}</h2>
    <p class="muted">${t.restrictedNote}</p>
    <dl>
      ${shown.map(
        (name) =>
          html`<dt>${t[name]}</dt>
            <dd>${(p[name] as string | null) ?? t.unknown}</dd>`,
      )}
    </dl>
  </section>`;
}

function formatSize(bytes: number, lang: Lang): string {
  if (bytes < 1024) return `${formatNumber(bytes, lang)} B`;
  if (bytes < 1024 * 1024) return `${formatNumber(bytes / 1024, lang)} KB`;
  return `${formatNumber(bytes / (1024 * 1024), lang)} MB`;
}

/** The documents the version lists (DoC, manual…), each a download link; nothing when it lists none. */
function documentsSection(input: ExportInput, lang: Lang, t: Strings) {
  const documents = input.passport.documents ?? [];
  if (documents.length === 0) return '';
  return html`<section aria-labelledby="s-docs" id="documents">
    <h2 id="s-docs">${t.documents}</h2>
    <ul>
      ${documents.map(
        (d) =>
          html`<li class="doc">
            <span class="muted">${documentRoleName(d.role, lang)}</span><br /><a
              href="${input.baseUrl}${publicDocumentPath(input.passport.product_id, d.document_id)}"
              type="${d.media_type}"
              download
              >${d.filename}</a
            >
            <span class="muted">(${d.media_type}, ${formatSize(d.size, lang)})</span>
          </li>`,
      )}
    </ul>
  </section>`;
}

/** Which batch or item a batch or item passport is about (nothing for the model passport). */
function granularityLine({ granularity: g }: ExportInput, t: Strings) {
  if (!g) return '';
  const parts = [
    g.level === 'batch' ? t.batchPassport : t.itemPassport,
    g.lot !== null ? `${t.batch} ${g.lot}` : null,
    g.serial !== null ? `${t.serial} ${g.serial}` : null,
    g.production_date !== null ? `${t.productionDate} ${g.production_date}` : null,
  ].filter((part): part is string => part !== null);
  return html`<p class="granularity">${parts.join(' · ')}</p>`;
}

/**
 * The public passport page: server-rendered, readable without JavaScript, every value escaped.
 * `selfPath` is the path the page was reached at (for the language links).
 */
export function renderPassportPage(input: ExportInput & { successor?: { uri: string; productName: string } | undefined }, lang: Lang, selfPath: string): string {
  const t = strings(lang);
  const p = input.passport;
  const env = p.environmental;
  const body = html`<header>
      <p>${t.title}</p>
      <h1>${p.product_name ?? ''}</h1>
      ${granularityLine(input, t)}
    </header>
    ${input.successor ? html`<p class="successor">${t.replacedBy} <a href="${input.successor.uri}" rel="successor-version">${input.successor.productName}</a></p>` : ''}
    <main>
      <section aria-labelledby="s-product">
        <h2 id="s-product">${t.product}</h2>
        <dl>
          <dt>${t.manufacturer}</dt>
          <dd>${p.manufacturer ?? t.unknown}</dd>
          ${
            p.country_of_origin
              ? html`<dt>${t.countryOfOrigin}</dt>
                  <dd>${countryName(p.country_of_origin, lang)}</dd>`
              : ''
          }
          ${
            input.gtin14
              ? html`<dt>${t.gtin}</dt>
                  <dd>${input.gtin14}</dd>`
              : ''
          }
          ${
            input.publishedVersion
              ? html`<dt>${t.version}</dt>
                  <dd>${input.publishedVersion}</dd>`
              : ''
          }
          ${
            input.publishedAt
              ? html`<dt>${t.published}</dt>
                  <dd><time datetime="${input.publishedAt}">${formatDate(input.publishedAt, lang)}</time></dd>`
              : ''
          }
        </dl>
      </section>
      <section aria-labelledby="s-materials">
        <h2 id="s-materials">${t.materials}</h2>
        ${
          p.materials.length
            ? p.materials.map(
                (m) =>
                  html`<div class="mat">
                    <span>${m.name}</span><span>${formatNumber(m.percentage, lang)} %</span
                    ><meter min="0" max="100" value="${m.percentage}" aria-label="${m.name}">${m.percentage} %</meter>
                  </div>`,
              )
            : html`<p class="muted">${t.none}</p>`
        }
      </section>
      <section aria-labelledby="s-carbon">
        <h2 id="s-carbon">${t.carbon}</h2>
        ${
          p.carbon_footprint_kg === null
            ? html`<p class="muted">${t.unknown}</p>`
            : html`<p><span class="big">${formatNumber(p.carbon_footprint_kg, lang)}</span> <span class="muted">${t.carbonUnit}</span></p>`
        }${
          p.recyclability_score
            ? html`<dl>
                <dt>${t.recyclability}</dt>
                <dd>${p.recyclability_score}</dd>
              </dl>`
            : ''
        }
      </section>
      <section aria-labelledby="s-certs" id="certifications">
        <h2 id="s-certs">${t.certifications}</h2>
        ${
          p.certifications.length
            ? html`<ul>
                ${p.certifications.map((c) => html`<li class="cert">${c}</li>`)}
              </ul>`
            : html`<p class="muted">${t.none}</p>`
        }
      </section>
      ${documentsSection(input, lang, t)}
      <section aria-labelledby="s-env" id="environment">
        <h2 id="s-env">${t.environment}</h2>
        <dl>
          <dt>${t.ce}</dt>
          <dd>${yesNo(env.ce_marked, t)}</dd>
          <dt>${t.rohs}</dt>
          <dd>${yesNo(env.rohs_compliant, t)}</dd>
          <dt>${t.reach}</dt>
          <dd>${yesNo(env.reach_compliant, t)}</dd>
          <dt>${t.weee}</dt>
          <dd>${env.weee_category ? weeeCategoryName(env.weee_category, lang) : t.unknown}</dd>
          <dt>${t.energy}</dt>
          <dd>${env.energy_class ?? t.unknown}</dd>
          <dt>${t.recyclable}</dt>
          <dd>${yesNo(env.recyclable, t)}</dd>
          <dt>${t.substances}</dt>
          <dd>
            ${
              env.hazardous_substances.length
                ? html`<ul>
                    ${env.hazardous_substances.map((s) => html`<li>${s.name}${s.cas_number ? html` (CAS ${s.cas_number})` : ''}${s.concentration_pct !== null ? html` — ${formatNumber(s.concentration_pct, lang)} %` : ''}</li>`)}
                  </ul>`
                : t.none
            }
          </dd>
        </dl>
      </section>
      <section aria-labelledby="s-eol">
        <h2 id="s-eol">${t.endOfLife}</h2>
        <p>${p.end_of_life_instructions ?? t.unknown}</p>
      </section>
      ${restrictedSection(p, t)}
      <p class="muted"><a href="${selfPath}?format=jsonld" type="application/ld+json">${t.machineReadable}</a></p>
    </main>`;
  return layout(lang, `${p.product_name ?? ''} — ${t.title}`, body, t, selfPath);
}

/** The page shown when there is no published passport (404) or the code is invalid (400). */
export function renderMessagePage(lang: Lang, kind: 'notFound' | 'badRequest', selfPath: string): string {
  const t = strings(lang);
  const title = kind === 'notFound' ? t.notFound : t.badRequest;
  const body = html`<header>
      <p>${t.title}</p>
      <h1>${title}</h1>
    </header>
    <main>
      <section><p>${kind === 'notFound' ? t.notFoundDetail : t.badRequest}</p></section>
    </main>`;
  return layout(lang, title, body, t, selfPath);
}
