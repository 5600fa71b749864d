import { sanitizeText } from './sanitizeText.js';

/** The longest objective a plan carries, in characters (code points). */
export const MAX_OBJECTIVE_CHARS = 500;

/** Said in place of {renewal_date} when no renewal date is known. */
export const UNKNOWN_RENEWAL_DATE_PHRASE = 'its renewal date';

/** The plan type's objective template with what is known filled in; other placeholders stay as they are. */
export function fillObjectiveTemplate(template: string, known: { account_id: string; renewal_date: string | null }): string {
  const values: Record<string, string> = { account_id: known.account_id, renewal_date: known.renewal_date ?? UNKNOWN_RENEWAL_DATE_PHRASE };
  // One pass, so a value that looks like a placeholder (an account id "{renewal_date}") stays as it is.
  const filled = template.replace(/\{(account_id|renewal_date)\}/g, (_, name: string) => values[name]!);
  return sanitizeText(filled, MAX_OBJECTIVE_CHARS);
}
