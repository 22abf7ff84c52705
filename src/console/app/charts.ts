/** Plots with Chart.js (tree-shaken: only the line and bar controllers the console draws). */
import { BarController, BarElement, CategoryScale, Chart, Colors, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from "chart.js";
import { h } from "./dom.ts";

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip, Colors);

export interface Series {
  label: string;
  data: number[];
}

/** A canvas with a line or bar chart over `labels`; `data-testid` lets the browser test find it. */
export function chart(kind: "line" | "bar", labels: string[], series: Series[], testId: string): HTMLElement {
  const canvas = h("canvas", { "data-testid": testId, "data-points": series.reduce((n, s) => n + s.data.length, 0) });
  const box = h("div", { class: "chart" }, canvas);
  // Drawn once the canvas is in the document (Chart.js measures its parent).
  queueMicrotask(() =>
    new Chart(canvas, {
      type: kind,
      data: { labels, datasets: series.map((s) => ({ label: s.label, data: s.data })) },
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
    }),
  );
  return box;
}
