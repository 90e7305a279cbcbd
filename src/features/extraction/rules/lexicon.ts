/**
 * Words the rules look for, in English, French, German and Dutch (with some Italian and Spanish).
 * Each list is a regex alternation; the patterns that use them live next to their field.
 */

const alt = (...words: string[]) => `(?:${words.join('|')})`;

/** A finite statement of conformity ("the product complies with …"), not an obligation ("must comply"). */
export const COMPLIANCE_VERB = alt(
  // en
  'compl(?:y|ies)\\s+with',
  'conforms?\\s+to',
  '(?:is|are)\\s+(?:fully\\s+)?(?:in\\s+)?(?:conformity|compliance|conformance|accordance)\\s+with',
  '(?:is|are)\\s+(?:fully\\s+)?(?:compliant|conformant|conform)\\s+(?:with|to)',
  'in\\s+(?:conformity|compliance)\\s+with',
  'meets?\\s+the\\s+(?:essential\\s+)?requirements',
  'fulfil(?:l?s)?\\s+the\\s+(?:essential\\s+)?requirements',
  'satisf(?:y|ies)\\s+the\\s+requirements',
  'conformity\\s+with',
  // fr
  '(?:est|sont)\\s+conformes?\\s+(?:à|a|aux|avec)',
  'conformément\\s+(?:à|aux)',
  'satisfait\\s+(?:à|aux)',
  'répond(?:ent)?\\s+aux\\s+exigences',
  'en\\s+conformité\\s+avec',
  // de
  'entspr(?:icht|echen)',
  'erfüll(?:t|en)',
  'konform\\s+(?:mit|zu)',
  'in\\s+Übereinstimmung\\s+mit',
  'Übereinstimmung\\s+mit',
  'übereinstimm(?:t|en)',
  // nl
  'vold(?:oet|oen)\\s+aan',
  'in\\s+overeenstemming\\s+(?:is\\s+|zijn\\s+)?met',
  '(?:is|zijn)\\s+conform',
  // it, es
  '(?:è|sono)\\s+conformi?\\s+(?:a|alla|alle|ai)',
  '(?:es|son)\\s+conformes?\\s+(?:a|con)',
  'cumple(?:n)?\\s+con',
);

/** Words that make a mention definitional or conditional rather than a claim about this product. */
export const HEDGE = alt(
  'designated',
  'declared\\s+as',
  'label(?:l)?ed\\s+as',
  'defined\\s+as',
  'defines?',
  'means(?!\\s+of)',
  'when',
  'if',
  'unless',
  'should',
  'must',
  'shall',
  'required\\s+to',
  'need\\s+to',
  'to\\s+comply',
  'wenn',
  'sofern',
  'muss',
  'müssen',
  'doit',
  'doivent',
  'indien',
  'moet',
  'moeten',
);

/** Titles of an EU declaration of conformity. */
export const DOC_TITLE = alt(
  '(?:EU|EC|CE|European|EG|EEC)[\\s-]+(?:declaration|statement)\\s+of\\s+conformity',
  'declaration\\s+of\\s+conformity',
  'conformity\\s+declaration',
  'déclaration\\s+(?:UE|CE)?\\s*de\\s+conformité',
  '(?:EU|EG|CE)-?Konformitätserklärung',
  'Konformitätserklärung',
  'EU-?conformiteitsverklaring',
  'conformiteitsverklaring',
  'verklaring\\s+van\\s+overeenstemming',
  'dichiarazione\\s+(?:UE\\s+|CE\\s+)?di\\s+conformità',
  'declaración\\s+(?:UE\\s+|CE\\s+)?de\\s+conformidad',
);

/** Household-waste phrases of a WEEE disposal notice. */
export const HOUSEHOLD_WASTE = alt(
  '(?:household|domestic|municipal|general|unsorted(?:\\s+municipal)?)\\s+(?:waste|refuse|garbage|trash|rubbish|bin)',
  'ordures\\s+ménagères',
  'déchets\\s+(?:ménagers|municipaux)',
  'Hausmüll',
  'Restmüll',
  'Siedlungsabfall',
  'huishoudelijk(?:e)?\\s+afval',
  'huisvuil',
  'restafval',
  'rifiuti\\s+(?:domestici|urbani)',
  'residuos\\s+(?:domésticos|urbanos)',
  'basura\\s+doméstica',
);

/** What makes a household-waste sentence a prohibition or a call for separate collection. */
export const DISPOSAL_PROHIBITION = alt(
  'not',
  'never',
  'unlawful',
  'illegal',
  'prohibited',
  'forbidden',
  'separate(?:ly)?',
  'ne\\s+(?:pas|doit|doivent)',
  'interdit',
  'séparément',
  'nicht',
  'verboten',
  'getrennt',
  'niet',
  'verboden',
  'gescheiden',
  'apart',
  'non',
  'vietato',
  'separat[ao]',
  'prohibido',
);

/** The crossed-out wheeled bin. */
export const CROSSED_BIN = alt(
  'crossed[\\s-]*(?:out|through)?\\s+(?:wheel(?:ed|ie)\\s+)?(?:bin|dustbin|trash\\s*can|garbage\\s*can|waste\\s*(?:bin|container)|container)',
  'barred\\s+(?:wheel(?:ed|ie)\\s+)?bin',
  'poubelle\\s+(?:sur\\s+roues\\s+)?barrée',
  'durchgestrichen(?:e|en)?\\s+(?:Abfalltonne|Mülltonne|Tonne|Abfallbehälter|Mülleimer)',
  'doorgestreepte\\s+(?:vuilnisbak|container|afvalbak|verrijdbare\\s+container)',
  'doorgekruiste\\s+(?:vuilnisbak|container|afvalbak)',
  'bidone\\s+(?:della\\s+spazzatura\\s+)?(?:barrato|sbarrato)',
  'contenedor\\s+(?:de\\s+basura\\s+)?tachado',
);

/** The object of a disposal notice: the product, not only its batteries. */
export const DISPOSAL_OBJECT = alt(
  'product',
  'device',
  'equipment',
  'appliance',
  'apparatus',
  'symbol',
  'produit',
  'appareil',
  'équipement',
  'symbole',
  'Produkt',
  'Gerät',
  'Altgerät',
  'Symbol',
  'apparaat',
  'apparatuur',
  'symbool',
  'prodotto',
  'apparecchio',
  'producto',
  'aparato',
);
