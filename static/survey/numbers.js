// Numbers as field workers type them and read them. Vietnamese writes decimals with a
// comma (2,5), English with a point: both are read, whatever the interface's language, so
// "2,5" is never taken for 25. Shown in the interface's own way.

// Digits with at most one decimal separator, either one; nothing else (no grouping: a
// depth or a distance in metres never needs it, and "1.000" would be ambiguous).
const DECIMAL = /^\+?(\d+)(?:[.,](\d+))?$|^\+?[.,](\d+)$/;

// The number typed in `text`: { value } (null when empty), or { invalid: true }.
export function parseDecimal(text) {
  const typed = String(text ?? "").trim().replace(/\s+/g, "");
  if (!typed) return { value: null };
  const match = DECIMAL.exec(typed);
  if (!match) return { invalid: true };
  const [, whole, fraction, bare] = match;
  // As the server reads it: a point before the decimals.
  const canonical = bare !== undefined ? `0.${bare}` : fraction !== undefined ? `${whole}.${fraction}` : whole;
  return { value: Number(canonical), text: canonical };
}

// A number's canonical text (parseDecimal's) rounded half up to `places` decimals, as the
// server keeps a measure (Decimal.quantize): exact on the digits, not on a binary float.
export function roundedHalfUp(text, places) {
  const [whole, fraction = ""] = text.split(".");
  const scaled = BigInt(whole + fraction.padEnd(places + 1, "0").slice(0, places + 1));
  return Number((scaled + 5n) / 10n) / 10 ** places;
}

// `value` (a number or its text with a point, as the server gives it) for a form field in
// the language `lang`: "2,5" in Vietnamese. Never grouped, so it reads back the same.
export function formatDecimal(value, lang, digits = 2) {
  if (value === null || value === undefined || value === "") return "";
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  return n.toLocaleString(lang, { maximumFractionDigits: digits, useGrouping: false });
}
