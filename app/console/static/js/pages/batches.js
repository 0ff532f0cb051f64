// Batches: provider batch slices waiting for their answers, then the recently finished ones.
import { get } from "../api.js";
import { table } from "../dom.js";
import { count, duration, dateTime } from "../format.js";

const COLUMNS = [
  { label: "provider", value: (r) => r.provider },
  { label: "provider batch", value: (r) => r.provider_batch_id, text: (r) => r.provider_batch_id || "–" },
  // llm.batches says "submitting" until the slice's "done" record: both mean pending here.
  { label: "state", value: (r) => r.state, text: (r) => (r.state === "done" ? "done" : "pending") },
  { label: "requests", value: (r) => r.requests, text: (r) => count(r.requests), num: true },
  { label: "tenants", value: (r) => r.tenants.join(" "), text: (r) => r.tenants.join(", ") || "–" },
  { label: "age", value: (r) => r.age_s, text: (r) => duration(r.age_s), num: true },
  { label: "submitted", value: (r) => r.submitted_at, text: (r) => dateTime(r.submitted_at) },
  { label: "updated", value: (r) => r.updated_at, text: (r) => dateTime(r.updated_at) },
  { label: "partition", value: (r) => r.partition, num: true },
];

export async function batches() {
  const [pending, done] = await Promise.all([
    get("/v1/batches", { state: "pending", limit: 200 }),
    get("/v1/batches", { state: "done", limit: 50 }),
  ]);
  return [
    table("pending-batches", COLUMNS, pending.batches, { title: "Pending batches (oldest first; the provider's batch id shows once answered)",
      emptyText: "No batch is waiting on a provider. Requests with priority \"batch\" and a deadline that allows it go out as provider batches." }),
    table("recent-batches", COLUMNS, done.batches, { title: "Recently finished batches",
      emptyText: "No batch has finished yet." }),
  ];
}

