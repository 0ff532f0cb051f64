// Charts over days, drawn by the vendored uPlot. Hovering a day shows every series' value
// for that day in the legend (the figures, not only the shape).
import { h, empty } from "./dom.js";
import { money, count } from "./format.js";

const COLORS = ["#2f6fed", "#9aa4b2", "#1f9d55", "#d68b00", "#8b5cf6", "#d23a3a", "#0ea5e9",
  "#f472b6"];
const charts = new Set();
const HEIGHT = 240;

function utcDay(iso) {
  return Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)) / 1000;
}

function width(el) {
  return Math.max(260, (el.clientWidth || el.parentElement?.clientWidth || 600) - 4);
}

window.addEventListener("resize", () => {
  for (const chart of charts) {
    if (!chart.root.isConnected) { charts.delete(chart); chart.destroy(); continue; }
    chart.setSize({ width: width(chart.root.parentElement), height: HEIGHT });
  }
});

// ``days``: ISO dates; ``series``: [{label, values (numbers), fill?}]; ``stacked``: each
// series drawn on top of the ones before it (the legend still shows its own value).
export function dayChart(name, days, series, { stacked = false, unit = "money" } = {}) {
  const holder = h("div", { class: "chart", dataset: { chart: name } });
  if (!days.length || series.every((s) => s.values.every((v) => !v))) {
    holder.append(empty("No traffic in this range yet: the chart fills in as answers are billed."));
    return holder;
  }
  const fmt = unit === "money" ? money : count;
  const plotted = series.map((s) => s.values.slice());
  if (stacked) {
    for (let i = 1; i < plotted.length; i++) {
      plotted[i] = plotted[i].map((v, j) => v + plotted[i - 1][j]);
    }
  }
  // Stacked: the top of the stack is drawn first, so each lower band paints over it.
  const order = series.map((_, i) => i);
  if (stacked) order.reverse();
  const opts = {
    width: 600,
    height: HEIGHT,
    tzDate: (ts) => window.uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    cursor: { drag: { x: false, y: false } },
    legend: { live: true },
    scales: { x: { time: true } },
    axes: [{}, { values: (u, ticks) => ticks.map((t) => fmt(t)), size: 80 }],
    series: [
      { label: "day", value: (u, ts) => (ts == null ? "–" : new Date(ts * 1000).toISOString().slice(0, 10)) },
      ...order.map((i) => ({
        label: series[i].label,
        stroke: COLORS[i % COLORS.length],
        fill: stacked || series[i].fill ? COLORS[i % COLORS.length] + "99" : undefined,
        width: 2,
        points: { show: days.length < 3 },
        value: (u, v, si, idx) => (idx == null ? "–" : fmt(series[i].values[idx])),
      })),
    ],
  };
  const data = [days.map(utcDay), ...order.map((i) => plotted[i])];
  let frames = 0;
  const draw = () => {
    // Sized once it is on the page; a page left before that never draws it.
    if (!holder.isConnected) { if (++frames < 600) requestAnimationFrame(draw); return; }
    opts.width = width(holder);
    const chart = new window.uPlot(opts, data, holder);
    chart.root.dataset.ready = "true";
    charts.add(chart);
  };
  requestAnimationFrame(draw);
  return holder;
}
