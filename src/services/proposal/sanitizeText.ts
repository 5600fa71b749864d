/**
 * Makes untrusted text safe to store and show: whitespace runs (newlines included) become one
 * space; control, format (e.g. bidi overrides, zero-width) and lone-surrogate characters are
 * removed; the result is trimmed and cut to `maxChars` code points, so a surrogate pair is never
 * split.
 */
export function sanitizeText(value: string, maxChars: number): string {
  const cleaned = value
    .replace(/\s+/gu, ' ')
    .replace(/[\p{Cc}\p{Cf}\p{Cs}]/gu, '')
    .trim();
  const codePoints = Array.from(cleaned);
  return codePoints.length <= maxChars ? cleaned : codePoints.slice(0, maxChars).join('').trimEnd();
}

/**
 * sanitizeText for prose a model wrote (objective, rationale): markup tags and stray angle
 * brackets go too, so nothing it says can render as HTML anywhere it is shown.
 */
export function sanitizeProse(value: string, maxChars: number): string {
  return sanitizeText(value.replace(/<[^<>]*>/g, ' ').replace(/[<>]/g, ''), maxChars);
}
