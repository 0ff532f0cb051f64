// Overview: every tenant's spend, savings, traffic and caches over the date range.
import { h, panel } from "../dom.js";
import { costSections } from "./costs.js";

export async function overview(range) {
  const { sections, exportButton } = await costSections(range, null);
  return [
    panel(`Overview · ${range.start} to ${range.end} (UTC)`, { actions: [exportButton] },
      h("p", { class: "muted", text: "Every tenant. Hover a chart for the day's figures; each table exports to CSV." })),
    ...sections,
  ];
}
