import type { Lang } from './i18n.js';
import { LANGUAGES } from './i18n.js';

const GS1 = 'https://ref.gs1.org/voc/';

/**
 * RFC 9264 linkset for a passport URI, with the GS1 link types a Digital Link resolver answers:
 * the passport itself (gs1:dpp, as a page per language and as JSON-LD), product information
 * (gs1:pip), sustainability and certification information (sections of the page).
 */
export function buildLinkset(uri: string, productName: string | null) {
  const page = (lang: Lang, fragment = '') => ({
    href: `${uri}?lang=${lang}${fragment}`,
    type: 'text/html',
    hreflang: [lang],
    ...(productName ? { title: productName } : {}),
  });
  const pages = (fragment = '') => LANGUAGES.map((l) => page(l, fragment));
  return {
    linkset: [
      {
        anchor: uri,
        [`${GS1}defaultLink`]: [page('en')],
        [`${GS1}dpp`]: [...pages(), { href: `${uri}?format=jsonld`, type: 'application/ld+json' }],
        [`${GS1}pip`]: pages(),
        [`${GS1}sustainabilityInfo`]: pages('#environment'),
        [`${GS1}certificationInfo`]: pages('#certifications'),
      },
    ],
  };
}
