// One tenant: its costs, budgets (use bars, thresholds, forecast), alerts, rejections and
// policy document. The admin token can change its budgets and policy here.
import { get, send } from "../api.js";
import { h, panel, table, empty, errorBox } from "../dom.js";
import { money, percent, count, dateTime } from "../format.js";
import { costSections } from "./costs.js";

const scopeOf = (b) => [b.service ? `service ${b.service}` : null,
  b.use_case ? `use case ${b.use_case}` : null].filter(Boolean).join(", ") || "all spend";
// Each channel's delivery (the notifier's), e.g. "ops-slack: delivered, pager: failed (…)".
const deliveryOf = (a) => a.deliveries.map((d) => `${d.channel}: ${d.state}` +
  (d.state !== "delivered" && d.last_error ? ` (${d.last_error})` : "")).join(", ")
  || "no channel";

function meter(limit, status, thresholds, hardStop) {
  // The bar spans 0 .. max(limit x hard stop, forecast); ticks at thresholds.
  const limitUsd = Number(limit.limit_usd);
  const top = Math.max(limitUsd * Number(hardStop), Number(limit.forecast_usd || 0),
    Number(limit.spent_usd)) || 1;
  const at = (v) => `${Math.min(100, (100 * v) / top).toFixed(2)}%`;
  const fill = h("span", { class: `fill ${limit.state}` });
  fill.style.width = at(Number(limit.spent_usd));
  const bar = h("div", { class: "meter", role: "img",
    "aria-label": `${money(limit.spent_usd)} of ${money(limit.limit_usd)}` }, fill);
  for (const t of [...thresholds, 1]) {
    const tick = h("span", { class: "tick", title: `${percent(100 * t)} of the limit` });
    tick.style.left = at(limitUsd * Number(t));
    bar.append(tick);
  }
  if (limit.forecast_usd !== undefined) {
    const mark = h("span", { class: "forecast", title: `forecast ${money(limit.forecast_usd)}` });
    mark.style.left = at(Number(limit.forecast_usd));
    bar.append(mark);
  }
  return bar;
}

function budgetView(b) {
  const rows = [h("div", { class: "panel-head" },
    h("strong", { text: scopeOf(b) }), h("span", { class: `state ${b.state}`, text: b.state }))];
  for (const [period, limit] of [["today", b.daily], ["this month", b.monthly]]) {
    if (!limit) continue;
    rows.push(h("div", { dataset: { budget: `${b.service || ""}/${b.use_case || ""}/${period}` } },
      h("div", {}, h("span", { text: `${period}: ` }),
        h("strong", { dataset: { figure: "budget-spent", value: limit.spent_usd }, text: money(limit.spent_usd) }),
        h("span", { text: " of " }),
        h("strong", { dataset: { figure: "budget-limit", value: limit.limit_usd }, text: money(limit.limit_usd) }),
        h("span", { class: "muted", text: limit.used_pct === null ? "" : ` (${percent(limit.used_pct)})` })),
      meter(limit, b.state, b.alert_thresholds, b.hard_stop_ratio),
      limit.forecast_usd !== undefined
        ? h("div", { class: "muted", text: `forecast for the month ${money(limit.forecast_usd)} (${limit.forecast_pct === null ? "–" : percent(limit.forecast_pct)}, ${limit.forecast_state})` })
        : null));
  }
  rows.push(h("div", { class: "muted", text: `alerts at ${b.alert_thresholds.map((t) => percent(100 * t)).join(", ")} of a limit; hard stop at ${b.hard_stop_ratio}× the limit` }));
  return h("div", { class: "budget" }, ...rows);
}

function budgetForm(tenant, budgets, canWrite, reload) {
  if (!canWrite) {
    return h("p", { class: "muted", text: "Signed in with the read-only token: budgets can be viewed, not changed." });
  }
  const current = budgets.find((b) => !b.service && !b.use_case) || {};
  const plain = (v) => (v === undefined || v === null ? "" : String(v).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, ""));
  const field = (name, labelText, value, attrs = {}) => h("label", { text: labelText },
    h("input", { name, value: value ?? "", ...attrs }));
  const message = h("div", {});
  const form = h("form", { class: "form-row", id: "budget-form", onsubmit: async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const limit = (k) => (data.get(k) === "" ? null : String(data.get(k)));
    const body = {
      daily_limit_usd: limit("daily_limit_usd"),
      monthly_limit_usd: limit("monthly_limit_usd"),
      alert_thresholds: String(data.get("alert_thresholds")).split(",").map((s) => s.trim()).filter(Boolean),
      hard_stop_ratio: String(data.get("hard_stop_ratio") || "1.5"),
    };
    try {
      await send("PUT", `/v1/budgets/${encodeURIComponent(tenant)}`, body,
        { service: data.get("service"), use_case: data.get("use_case") });
      await reload("Budget saved. Workers apply it at their next policy refresh.");
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  } },
  field("service", "service (empty: any)", "", { maxlength: "128" }),
  field("use_case", "use case (empty: any)", "", { maxlength: "128" }),
  field("daily_limit_usd", "daily limit (USD)", plain(current.daily?.limit_usd), { inputmode: "decimal" }),
  field("monthly_limit_usd", "monthly limit (USD)", plain(current.monthly?.limit_usd), { inputmode: "decimal" }),
  field("alert_thresholds", "alert thresholds", (current.alert_thresholds || ["0.8", "1.0"]).map(plain).join(", ")),
  field("hard_stop_ratio", "hard stop ×", plain(current.hard_stop_ratio || "1.5"), { inputmode: "decimal" }),
  h("button", { type: "submit", text: "Save budget" }));
  return h("div", {}, h("h3", { text: "Set a budget" }), form, message);
}

function policyView(tenant, policy, canWrite) {
  const stored = h("pre", { class: "json", dataset: { policy: "document" },
    text: JSON.stringify(policy.document, null, 2) });
  const effective = h("details", {}, h("summary", { text: "Effective policy (defaults ← '*' ← this tenant)" }),
    h("pre", { class: "json", text: JSON.stringify(policy.effective, null, 2) }));
  const parts = [h("p", { class: "muted", text: policy.updated_at
    ? `Stored document, updated ${dateTime(policy.updated_at)} (only what differs from the defaults):`
    : "No policy document stored: this tenant runs on the defaults and the '*' policy." }), stored, effective];
  if (canWrite) {
    const area = h("textarea", { id: "policy-editor", spellcheck: "false" });
    area.value = JSON.stringify(policy.document, null, 2);
    const message = h("div", { dataset: { policyMessage: "" } });
    parts.push(h("h3", { text: "Edit the policy document" }), area, h("div", { class: "form-row" },
      h("button", { type: "button", text: "Save policy", dataset: { save: "policy" }, onclick: async () => {
        let doc;
        try {
          doc = JSON.parse(area.value || "{}");
        } catch (error) {
          message.replaceChildren(errorBox(new Error("not valid JSON: " + error.message)));
          return;
        }
        try {
          const saved = await send("PUT", `/v1/tenants/${encodeURIComponent(tenant)}/policy`, doc);
          stored.textContent = JSON.stringify(saved.document, null, 2);
          message.replaceChildren(h("p", { class: "notice", role: "status", text: "Policy saved." }));
        } catch (error) {
          message.replaceChildren(errorBox(error));
        }
      } })), message);
  }
  return panel("Policy", {}, ...parts);
}

export async function tenantPage(range, tenant, session) {
  const q = { start: range.start, end: range.end, tenant };
  const [costs, alerts, policy] = await Promise.all([
    costSections(range, tenant),
    get("/v1/alerts", { ...q, limit: 100 }),
    get(`/v1/tenants/${encodeURIComponent(tenant)}/policy`),
  ]);
  const budgetsBody = h("div", { id: "budgets" });
  const reload = async (notice) => {
    try {
      const status = await get(`/v1/tenants/${encodeURIComponent(tenant)}/status`);
      budgetsBody.replaceChildren(
        ...(notice ? [h("p", { class: "notice", role: "status", text: notice })] : []),
        h("p", { class: "muted", text: `Today ${money(status.today_usd)} · month to date ${money(status.forecast.month_to_date_usd)} · forecast ${money(status.forecast.forecast_usd)} (${status.forecast.window_days}-day average × ${status.forecast.days_in_month} days)` }),
        ...(status.budgets.length ? status.budgets.map(budgetView)
          : [empty("No budget: this tenant's spend is not capped. Set one below (admin token) or with PUT /v1/budgets/{tenant}.")]),
        budgetForm(tenant, status.budgets, session.can_write, reload));
    } catch (error) {
      budgetsBody.replaceChildren(errorBox(error));
    }
  };
  await reload();
  const rejected = costs.rejected;
  const stopCodes = rejected.by_code.filter((c) => c.code.startsWith("rate_limited") || c.code === "budget_hard_stop");
  return [
    panel(`Tenant ${tenant} · ${range.start} to ${range.end} (UTC)`, { actions: [costs.exportButton] },
      h("p", { class: "muted", dataset: { tenant }, text: `Everything below concerns tenant “${tenant}” only.` })),
    panel("Budgets", {}, budgetsBody),
    ...costs.sections,
    table("alerts", [
      { label: "when", value: (r) => r.occurred_at, text: (r) => dateTime(r.occurred_at) },
      { label: "kind", value: (r) => r.kind },
      { label: "period", value: (r) => r.period },
      { label: "spent", value: (r) => r.spent_usd, text: (r) => money(r.spent_usd), num: true },
      { label: "limit", value: (r) => r.limit_usd, text: (r) => money(r.limit_usd), num: true },
      { label: "scope", value: (r) => scopeOf(r) },
      { label: "detail", value: (r) => r.detail, text: (r) => r.detail || "–", wrap: true },
      { label: "delivery", value: (r) => deliveryOf(r), wrap: true },
    ], alerts.alerts, { title: "Recent alerts", emptyText: "No alert in this range: budgets raise one at each threshold they cross." }),
    table("rate-limit-and-hard-stop", [
      { label: "code", value: (r) => r.code },
      { label: "rejected", value: (r) => r.count, text: (r) => count(r.count), num: true },
    ], stopCodes, { title: "Rate-limit and hard-stop rejections",
      emptyText: "No request hit a rate limit or a budget hard stop in this range." }),
    table("recent-rejections", [
      { label: "request", value: (r) => r.request_id },
      { label: "code", value: (r) => r.code },
      { label: "model", value: (r) => r.model, text: (r) => r.model || "–" },
      { label: "when", value: (r) => r.occurred_at, text: (r) => dateTime(r.occurred_at) },
      { label: "message", value: (r) => r.message, wrap: true },
    ], rejected.recent, { title: "Recent rejections", emptyText: "No rejected request in this range." }),
    policyView(tenant, policy, session.can_write),
  ];
}
