// Tenants: every tenant with traffic in the range, and a way to open any tenant by id.
import { get } from "../api.js";
import { h, panel, table } from "../dom.js";
import { money, count } from "../format.js";
import { TENANT_HREF } from "./costs.js";

export async function tenants(range) {
  const found = await get("/v1/costs/summary", { start: range.start, end: range.end, group_by: "tenant" });
  const input = h("input", { id: "tenant-id", required: true, placeholder: "tenant id", maxlength: "128" });
  const open = h("form", { class: "form-row", onsubmit: (e) => {
    e.preventDefault();
    location.hash = TENANT_HREF(input.value.trim());
  } }, h("label", { text: "Open a tenant by id" }, input), h("button", { type: "submit", text: "Open" }));
  return [
    panel("Open a tenant", {}, h("p", { class: "muted",
      text: "A tenant with budgets but no traffic in this range does not appear below; open it by id." }), open),
    table("tenants", [
      { label: "tenant", value: (r) => r.key.tenant, href: (r) => TENANT_HREF(r.key.tenant) },
      { label: "requests", value: (r) => r.totals.requests, text: (r) => count(r.totals.requests), num: true },
      { label: "spend", value: (r) => r.totals.cost_usd, text: (r) => money(r.totals.cost_usd), num: true },
      { label: "baseline", value: (r) => r.totals.baseline_cost_usd, text: (r) => money(r.totals.baseline_cost_usd), num: true },
    ], found.rows, { title: `Tenants with traffic · ${range.start} to ${range.end}`,
      emptyText: "No tenant has billed traffic in this range. Widen the range, or run `make demo`." }),
  ];
}
