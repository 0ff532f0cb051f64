// Number formats shared by every page (the browser tests format the same way).
export function money(value) {
  const n = Number(value);
  if (!Number.isFinite(n)) return "–";
  if (Math.abs(n) >= 1) {
    return "$" + n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  const fixed = n.toFixed(6);
  return "$" + (Number(fixed) === 0 ? (0).toFixed(6) : fixed); // no "-0.000000"
}

export function count(value) {
  return Number(value).toLocaleString("en-US");
}

export function percent(value) {
  const n = Number(value);
  return Number.isFinite(n) ? n.toFixed(2) + "%" : "–";
}

export function ratio(part, whole) {
  return whole ? (100 * part) / whole : 0;
}

export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export function dateTime(iso) {
  return iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "–";
}

export const LEVERS = ["batch", "prompt_cache", "response_cache", "pattern", "routing", "flex"];

// Exact sums of the API's decimal strings (money has at most 10 decimals in Postgres):
// scaled BigInts, so a total is never off by a float's rounding.
const SCALE = 10;
function scaled(text) {
  const [whole, frac = ""] = String(text).replace(/^-/, "").split(".");
  const digits = BigInt(whole || "0") * 10n ** BigInt(SCALE) + BigInt((frac + "0".repeat(SCALE)).slice(0, SCALE) || "0");
  return String(text).startsWith("-") ? -digits : digits;
}

export function sumMoney(values) {
  const total = values.reduce((acc, v) => acc + scaled(v ?? "0"), 0n);
  const sign = total < 0n ? "-" : "";
  const digits = (total < 0n ? -total : total).toString().padStart(SCALE + 1, "0");
  const frac = digits.slice(-SCALE).replace(/0+$/, "");
  return sign + digits.slice(0, -SCALE) + (frac ? "." + frac : "");
}
