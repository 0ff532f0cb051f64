// Overview: every tenant's spend, savings, traffic and caches over the date range.
import { h, panel, empty } from "../dom.js";
import { costSections } from "./costs.js";

export async function overview(range) {
  const { sections, exportButton, requests } = await costSections(range, null);
  const nothing = requests === 0 && empty(
    `No billed answer between ${range.start} and ${range.end}. Widen the range, or send ` +
    "requests: publish NEW_RECORD events to llm.requests (`make demo` does it for you); " +
    "the figures appear as the workers' sink writes them to Postgres.");
  return [
    ...(nothing ? [nothing] : []),
    panel(`Overview · ${range.start} to ${range.end} (UTC)`, { actions: [exportButton] },
      h("p", { class: "muted", text: "Every tenant. Hover a chart for the day's figures; each table exports to CSV." })),
    ...sections,
  ];
}
