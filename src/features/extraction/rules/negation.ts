/**
 * Negative statements: "CE marking does not apply", "not RoHS compliant", "nicht anwendbar",
 * "ne s'applique pas", "niet van toepassing". A cue negates a mention when it is in the same clause,
 * shortly before or after it, and does not belong to another subject standing in between
 * ("the CE marking is affixed; the WEEE directive does not apply" does not negate CE).
 */
import { sentenceEnd, sentenceStart, type Page } from './document.js';

const CUES: RegExp[] = [
  // en
  /\b(?:does|do|did|shall|will|would|can|could)\s*(?:not|n't)\s+(?:apply|comply|conform|meet|bear|carry|fall\s+(?:under|within)|require|need)\b/i,
  /\b(?:does|do|did)\s*(?:not|n't)\s+(?:make|issue|provide|sign|claim)\s+(?:any|a|an|the)\b/i,
  /\b(?:is|are|was|were|be)\s+not\s+(?:applicable|subject\s+to|required|covered|within|in\s+(?:the\s+)?scope|in\s+compliance|compliant|conform\w*|certified|declared|marked|affixed|relevant)\b/i,
  /\bnot\s+(?:applicable|subject\s+to|(?:with)?in\s+(?:the\s+)?scope|in\s+compliance\s+with|CE[\s-]?marked)\b/i,
  /\bnot\s+(?:RoHS|REACH|WEEE|CE|UKCA)[\s-]*(?:\d|II|III)?[\s-]*(?:compliant|conform\w*|marked|certified)\b/i,
  /\bnon[\s-]?(?:compliant|conform(?:ing|ant)?|RoHS|REACH)\b/i,
  /\b(?:out(?:side)?\s+(?:of\s+)?(?:the\s+)?scope|excluded\s+from\s+(?:the\s+)?scope|exempt(?:ed)?\s+from\s+(?:the\s+)?scope)\b/i,
  /\bno\s+(?:CE|UKCA)\b/,
  /\bwithout\s+(?:the\s+|a\s+)?(?:CE|UKCA)\b/,
  /\bno\s+(?:declaration|statement)\s+of\s+conformity\b/i,
  // fr
  /\bne\s+s'appliquen?t?\s+pas\b/i,
  /\bnon\s+(?:applicable|concerné)s?\b/i,
  /\b(?:n'est|ne\s+sont)\s+pas\s+(?:conformes?|soumis|concernés?|marqués?|applicables?|couverts?)\b/i,
  /\bnon[\s-]conformes?\b/i,
  /\bhors\s+(?:du\s+)?(?:champ|périmètre)\b/i,
  /\b(?:pas|aucun)\s+de\s+marquage\b/i,
  /\bsans\s+marquage\b/i,
  /\bne\s+(?:relève|relèvent|tombe|tombent|porte|portent)\s+pas\b/i,
  // de
  /\bnicht\s+(?:anwendbar|zutreffend|konform|erforderlich|gekennzeichnet|relevant|betroffen)\b/i,
  /\bfinde[nt]\s+keine\s+Anwendung\b/i,
  /\bgel?ten\s+nicht\b|\bgilt\s+nicht\b/i,
  /\bkeine\s+(?:CE|UKCA)\b/,
  /\bentspr(?:icht|echen)\s+nicht\b/i,
  /\bf(?:ä|ae)ll(?:t|en)\s+nicht\b/i,
  /\bunterlieg(?:t|en)\s+nicht\b/i,
  /\bau(?:ß|ss)erhalb\s+des\s+Anwendungsbereich/i,
  // nl
  /\bniet\s+van\s+toepassing\b/i,
  /\bval(?:t|len)\s+niet\s+onder\b/i,
  /\bvold(?:oet|oen)\s+niet\b/i,
  /\bniet\s+(?:conform|CE[\s-]?gemarkeerd|vereist)\b/i,
  /\bgeen\s+(?:CE|UKCA)\b/,
  /\bbuiten\s+het\s+toepassingsgebied\b/i,
  // it, es
  /\bnon\s+(?:si\s+applica|applicabile|conforme)\b/i,
  /\bno\s+(?:se\s+aplica|es\s+aplicable|es\s+conforme)\b/i,
];

const GLOBAL_CUES = CUES.map((cue) => new RegExp(cue.source, `${cue.flags}g`));

/** Clause breaks a negation does not reach across. */
const CLAUSE_BREAK = /;|\b(?:but|however|whereas|although|while|except|mais|cependant|tandis|aber|jedoch|während|maar|echter|terwijl)\b/gi;

/** Other subjects a cue may belong to when one stands between the mention and the cue. */
const OTHER_SUBJECT =
  /\b(?:CE|UKCA|RoHS|REACH|WEEE|SVHC|FCC|EMC|LVD|RED|(?:Directive|Regulation|Richtlinie|Verordnung|directive|règlement|richtlijn|verordening)\b|\d{2,4}\/\d{1,4}(?:\/(?:EU|EC|EEC))?)/g;
const PREPOSITION_BEFORE = /\b(?:of|under|in|to|for|by|with|des|der|dem|den|du|de|la|le|van|het|onder|aux|à)\s+(?:the\s+|la\s+|le\s+|die\s+|de\s+|het\s+)?(?:EU\s+|European\s+)?$/i;

export interface Negation {
  cue: string;
  index: number;
}

/** The negative cue that applies to the mention at [start, end), if any. */
export function negationOf(page: Page, start: number, end: number): Negation | undefined {
  const sentenceFrom = Math.max(sentenceStart(page, start), start - 80);
  let from = sentenceFrom;
  let to = Math.min(sentenceEnd(page, end), end + 160);
  const flat = page.flat;
  // Narrow to the clause of the mention (scanning only the sentence window).
  const sentence = flat.slice(sentenceFrom, to);
  CLAUSE_BREAK.lastIndex = 0;
  for (let m = CLAUSE_BREAK.exec(sentence); m; m = CLAUSE_BREAK.exec(sentence)) {
    const at = sentenceFrom + m.index;
    if (at + m[0].length <= start) from = at + m[0].length;
    else if (at >= end) {
      to = at;
      break;
    }
  }
  const window = flat.slice(from, to);
  for (const re of GLOBAL_CUES) {
    re.lastIndex = 0;
    for (let m = re.exec(window); m; m = re.exec(window)) {
      const at = from + m.index;
      if (at >= end && belongsToAnotherSubject(flat, end, at)) continue;
      if (at < start && start - (at + m[0].length) > 40) continue;
      return { cue: m[0], index: at };
    }
  }
  return undefined;
}

/** True when a subject other than the mention stands right before the cue and is not a mere modifier ("of RoHS"). */
function belongsToAnotherSubject(flat: string, mentionEnd: number, cueAt: number): boolean {
  const between = flat.slice(mentionEnd, cueAt);
  OTHER_SUBJECT.lastIndex = 0;
  let last: RegExpExecArray | undefined;
  for (let m = OTHER_SUBJECT.exec(between); m; m = OTHER_SUBJECT.exec(between)) last = m;
  if (!last) return false;
  // The subject must be close to the cue (its own verb phrase) and not a prepositional modifier.
  if (between.length - (last.index + last[0].length) > 40) return false;
  const lead = between.slice(0, last.index);
  // "WEEE Directive 2012/19/EU does not apply": still the mention's own noun phrase.
  if (lead.replace(OTHER_SUBJECT, ' ').replace(SAME_PHRASE_WORDS, ' ').trim() === '') return false;
  return !PREPOSITION_BEFORE.test(lead);
}

const SAME_PHRASE_WORDS = /\b(?:the|EU|European|marking|mark|directive|regulation|recast|2|3|II|III)\b|[()/:-]/gi;
