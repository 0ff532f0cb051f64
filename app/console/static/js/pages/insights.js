// Recommendations with their estimated monthly saving, and experiments with their analysis.
import { get } from "../api.js";
import { h, panel, table, errorBox } from "../dom.js";
import { money, count, percent, dateTime } from "../format.js";
import { TENANT_HREF } from "./costs.js";

const num = (v, digits = 4) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));

async function analysis(experiment) {
  let result;
  try {
    result = await get(`/v1/experiments/${encodeURIComponent(experiment.id)}/analysis`);
  } catch (error) {
    return errorBox(error);
  }
  const counts = table(`experiment-${experiment.id}-counts`, [
    { label: "variant", value: (r) => r.variant },
    { label: "impressions", value: (r) => r.impressions, text: (r) => count(r.impressions), num: true },
    { label: "adoptions", value: (r) => r.adoptions, text: (r) => count(r.adoptions), num: true },
    { label: "conversions", value: (r) => r.conversions, text: (r) => count(r.conversions), num: true },
    { label: "satisfaction (n)", value: (r) => r.satisfaction_n, num: true },
    { label: "satisfaction mean", value: (r) => r.satisfaction_mean, text: (r) => num(r.satisfaction_mean, 3), num: true },
  ], result.counts, { title: "Counts", emptyText: "No outcome recorded yet: send impressions and conversions on llm.feedback." });
  const metrics = result.metrics.map((m) => table(`experiment-${experiment.id}-${m.metric}`, [
    { label: "variant", value: (r) => r.variant },
    { label: "n", value: (r) => r.n, text: (r) => count(r.n), num: true },
    { label: "rate / mean", value: (r) => r.rate, text: (r) => num(r.rate), num: true },
    { label: "lift", value: (r) => r.lift, text: (r) => (r.lift === null ? "–" : percent(100 * r.lift)), num: true },
    { label: "p-value", value: (r) => r.p_value, text: (r) => num(r.p_value), num: true },
    { label: "significant", value: (r) => r.significant, text: (r) => (r.significant ? "yes" : "no") },
  ], m.variants, { title: `${m.metric} (${m.test})${m.winner ? " · winner: " + m.winner : ""}` }));
  return h("div", {},
    h("p", { class: "muted", text: `control variant: ${result.control}; sample size ${result.sample_size_met ? "met" : "not met yet"} (${result.min_sample} per variant); α = ${result.alpha}` }),
    counts, ...metrics);
}

export async function insights(range) {
  const [recs, experiments] = await Promise.all([
    get("/v1/recommendations", { start: range.start, end: range.end }),
    get("/v1/experiments"),
  ]);
  const recommendations = table("recommendations", [
    { label: "recommendation", value: (r) => r.title, wrap: true },
    { label: "tenant", value: (r) => r.tenant_id, href: (r) => TENANT_HREF(r.tenant_id) },
    { label: "kind", value: (r) => r.kind },
    { label: "model", value: (r) => r.model, text: (r) => r.model || "–" },
    { label: "est. monthly saving", value: (r) => r.estimated_monthly_saving_usd,
      text: (r) => money(r.estimated_monthly_saving_usd), num: true },
    { label: "confidence", value: (r) => r.confidence, text: (r) => percent(100 * r.confidence), num: true },
    { label: "requests seen", value: (r) => r.sample_requests, text: (r) => count(r.sample_requests), num: true },
    { label: "detail", value: (r) => r.detail, wrap: true },
  ], recs.recommendations, { title: `Recommendations · ${range.start} to ${range.end}`,
    emptyText: "No recommendation for this range: they need a few days of traffic per tenant and model." });
  const list = table("experiments", [
    { label: "experiment", value: (r) => r.name },
    { label: "tenant", value: (r) => r.tenant, href: (r) => TENANT_HREF(r.tenant) },
    { label: "status", value: (r) => r.status },
    { label: "variants", value: (r) => r.variants.map((v) => v.name).join(" "),
      text: (r) => r.variants.map((v) => `${v.name} (${v.weight})`).join(", ") },
    { label: "created", value: (r) => r.created_at, text: (r) => dateTime(r.created_at) },
  ], experiments.experiments, { title: "Experiments",
    emptyText: "No experiment yet. Create one with POST /v1/experiments (see /openapi.json)." });
  const analyses = await Promise.all(experiments.experiments.slice(0, 10).map(async (e) =>
    panel(`Analysis · ${e.name} (${e.tenant})`, {}, await analysis(e))));
  return [recommendations, list, ...analyses];
}
