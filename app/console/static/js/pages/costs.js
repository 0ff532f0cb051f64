// The cost sections shared by the overview and a tenant's page: figures, spend and savings
// over time, requests by path and status, cache hit rates, top tenants and models.
import { get, download } from "../api.js";
import { h, card, panel, table, errorBox } from "../dom.js";
import { dayChart } from "../charts.js";
import { money, count, percent, ratio, sumMoney, LEVERS } from "../format.js";

function days(start, end) {
  const out = [];
  for (let d = new Date(start + "T00:00:00Z"); d <= new Date(end + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + 1)) out.push(d.toISOString().slice(0, 10));
  return out;
}

const label = (key) => (key === null || key === undefined ? "(not attributed)" : String(key));
const savingsOf = (t) => sumMoney(LEVERS.map((lever) => t.savings_usd[lever] || "0"));

export const TENANT_HREF = (tenant) => "#/tenant/" + encodeURIComponent(tenant);

export async function costSections(range, tenant) {
  const q = { start: range.start, end: range.end, tenant };
  const [summary, byDay, byPath, byTenant, byModel, savings, rejected] = await Promise.all([
    get("/v1/costs/summary", q),
    get("/v1/costs/summary", { ...q, group_by: "day" }),
    get("/v1/costs/summary", { ...q, group_by: "path" }),
    tenant ? null : get("/v1/costs/summary", { ...q, group_by: "tenant" }),
    get("/v1/costs/summary", { ...q, group_by: "provider,model" }),
    get("/v1/costs/savings", q),
    get("/v1/rejections", { ...q, limit: 50 }),
  ]);
  const t = summary.totals;
  const cacheHits = byPath.rows.find((r) => r.key.path === "response_cache")?.totals.requests || 0;
  const promptTokens = t.input_tokens + t.cache_read_tokens + t.cache_write_tokens;
  const figures = h("div", { class: "cards" },
    card("Spend", money(t.cost_usd), { figure: "spend", value: t.cost_usd }),
    card("Baseline", money(t.baseline_cost_usd),
      { figure: "baseline", value: t.baseline_cost_usd, sub: "standard API, requested model, no cache" }),
    card("Savings", money(savings.savings_usd),
      { figure: "savings", value: savings.savings_usd, sub: percent(savings.savings_pct) + " of baseline" }),
    card("Answers billed", count(t.requests), { figure: "requests", value: String(t.requests),
      sub: `${count(t.successes)} succeeded; ${count(rejected.total)} more requests rejected` }),
    card("Response-cache hit rate", percent(ratio(cacheHits, t.requests)),
      { figure: "cache-hit-rate", value: ratio(cacheHits, t.requests).toFixed(2),
        sub: `${count(cacheHits)} of ${count(t.requests)} answers from the cache` }),
    card("Prompt-cache reads", percent(ratio(t.cache_read_tokens, promptTokens)),
      { figure: "prompt-cache-share", value: ratio(t.cache_read_tokens, promptTokens).toFixed(2),
        sub: "of input tokens read from the provider's cache" }),
  );

  const range_ = days(range.start, range.end);
  const perDay = new Map(byDay.rows.map((r) => [r.key.day, r.totals]));
  const at = (d, f) => (perDay.has(d) ? f(perDay.get(d)) : 0);
  const spendChart = panel("Spend and baseline per day", {},
    dayChart("spend", range_, [
      { label: "spend", values: range_.map((d) => at(d, (x) => Number(x.cost_usd))), fill: true },
      { label: "baseline", values: range_.map((d) => at(d, (x) => Number(x.baseline_cost_usd))) },
      { label: "savings", values: range_.map((d) => at(d, (x) => Number(savingsOf(x)))) },
    ]));
  const leverChart = panel("Savings per lever per day (stacked)", {},
    dayChart("levers", range_, LEVERS.map((lever) => ({
      label: lever, values: range_.map((d) => at(d, (x) => Number(x.savings_usd[lever] || 0))),
    })), { stacked: true }));

  const exportButton = h("button", {
    type: "button", text: "Export cost events (CSV)", dataset: { export: "costs" },
    onclick: async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      try {
        await download("/v1/costs/export.csv", q, `costs-${range.start}-${range.end}.csv`);
      } catch (error) {
        button.after(errorBox(error));
      } finally {
        button.disabled = false;
      }
    },
  });

  const levers = table("savings-by-lever", [
    { label: "lever", value: (r) => r.lever },
    { label: "saved", value: (r) => r.savings_usd, text: (r) => money(r.savings_usd), num: true },
    { label: "% of baseline", value: (r) => r.pct_of_baseline, text: (r) => percent(r.pct_of_baseline), num: true },
  ], savings.levers, { title: "Savings by lever" });

  const paths = table("requests-by-path", [
    { label: "path", value: (r) => r.key.path },
    { label: "requests", value: (r) => r.totals.requests, text: (r) => count(r.totals.requests), num: true },
    { label: "ok", value: (r) => r.totals.successes, text: (r) => count(r.totals.successes), num: true },
    { label: "failed", value: (r) => r.totals.requests - r.totals.successes,
      text: (r) => count(r.totals.requests - r.totals.successes), num: true },
    { label: "spend", value: (r) => r.totals.cost_usd, text: (r) => money(r.totals.cost_usd), num: true },
  ], byPath.rows, { title: "Requests by path and status",
    emptyText: "No billed answers in this range. Send requests to llm.requests (or run `make demo`)." });

  const rejections = table("rejections-by-code", [
    { label: "code", value: (r) => r.code },
    { label: "rejected", value: (r) => r.count, text: (r) => count(r.count), num: true },
  ], rejected.by_code, { title: "Rejected requests by reason",
    emptyText: "No request was rejected in this range (budget, rate limit or safety)." });

  const models = table("top-models", [
    { label: "provider", value: (r) => r.key.provider, text: (r) => label(r.key.provider) },
    { label: "model", value: (r) => r.key.model, text: (r) => label(r.key.model) },
    { label: "requests", value: (r) => r.totals.requests, text: (r) => count(r.totals.requests), num: true },
    { label: "spend", value: (r) => r.totals.cost_usd, text: (r) => money(r.totals.cost_usd), num: true },
    { label: "baseline", value: (r) => r.totals.baseline_cost_usd, text: (r) => money(r.totals.baseline_cost_usd), num: true },
    { label: "saved", value: (r) => savingsOf(r.totals), text: (r) => money(savingsOf(r.totals)), num: true },
  ], byModel.rows.slice(0, 20), { title: "Top models" });

  const sections = [figures, h("div", { class: "grid2" }, spendChart, leverChart),
    h("div", { class: "grid2" }, paths, levers), rejections];
  if (byTenant) {
    sections.push(h("div", { class: "grid2" }, table("top-tenants", [
      { label: "tenant", value: (r) => r.key.tenant, href: (r) => TENANT_HREF(r.key.tenant) },
      { label: "requests", value: (r) => r.totals.requests, text: (r) => count(r.totals.requests), num: true },
      { label: "spend", value: (r) => r.totals.cost_usd, text: (r) => money(r.totals.cost_usd), num: true },
      { label: "baseline", value: (r) => r.totals.baseline_cost_usd, text: (r) => money(r.totals.baseline_cost_usd), num: true },
      { label: "saved", value: (r) => savingsOf(r.totals), text: (r) => money(savingsOf(r.totals)), num: true },
    ], byTenant.rows.slice(0, 20), { title: "Top tenants" }), models));
  } else {
    sections.push(models);
  }
  return { sections, exportButton, rejected, requests: t.requests };
}
