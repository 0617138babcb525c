// Time charts on uPlot (vendored, loaded before the modules as window.uPlot): lines, quantile
// bands between two series, and shaded spans (covariates marked). Charts follow their
// container's width, so one chart fits a laptop and a phone.

const PALETTE = ["#1f6feb", "#cf222e", "#1a7f37", "#8250df", "#9a6700", "#0a7e8c", "#bc4c00", "#57606a"];

export function color(i) {
  return PALETTE[i % PALETTE.length];
}

// Seconds since the epoch (uPlot's time axis) of an ISO date or time; without a zone, UTC.
export function epoch(iso) {
  const text = String(iso);
  if (/^\d{4}-\d\d-\d\d$/.test(text)) return Date.parse(`${text}T00:00:00Z`) / 1000;
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`) / 1000;
}

// Align several {x: [iso...], y: [...]} series on the union of their timestamps.
export function align(columns) {
  const xs = [...new Set(columns.flatMap((c) => c.x.map(epoch)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = columns.map((c) => {
    const out = new Array(xs.length).fill(null);
    c.x.forEach((iso, i) => {
      out[index.get(epoch(iso))] = c.y[i] ?? null;
    });
    return out;
  });
  return [xs, ...ys];
}

function chartHeight(width) {
  return width < 500 ? 240 : 320;
}

// spec: {series: [{label, stroke, dash, width, points, pointsOnly, fill, show}], bands: [{upper, lower, fill}],
//        spans: [{from, to, label}] (epoch seconds), spanFill, yLabel}
export function timeChart(container, data, spec) {
  const uPlot = window.uPlot;
  if (!uPlot) throw new Error("the chart library did not load");
  container.replaceChildren();
  const width = Math.max(280, container.clientWidth || 600);
  const spans = spec.spans || [];
  const options = {
    width,
    height: chartHeight(width),
    scales: { x: { time: true } },
    axes: [{}, { label: spec.yLabel || "", size: 60 }],
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
    series: [
      { label: "time" },
      ...spec.series.map((s) => ({
        ...(s.pointsOnly ? { paths: () => null } : {}),
        label: s.label,
        stroke: s.stroke,
        width: s.width ?? 1.5,
        dash: s.dash,
        fill: s.fill,
        show: s.show ?? true,
        spanGaps: s.spanGaps ?? false,
        points: { show: s.points ?? Boolean(s.pointsOnly), size: 6, fill: s.stroke },
      })),
    ],
    bands: (spec.bands || []).map((b) => ({ series: [b.upper, b.lower], fill: b.fill })),
    hooks: {
      drawClear: [
        (u) => {
          if (!spans.length) return;
          const ctx = u.ctx;
          ctx.save();
          ctx.fillStyle = spec.spanFill || "rgba(154, 103, 0, 0.13)";
          for (const span of spans) {
            const left = u.valToPos(span.from, "x", true);
            const right = u.valToPos(span.to, "x", true);
            ctx.fillRect(left, u.bbox.top, Math.max(2, right - left), u.bbox.height);
          }
          ctx.restore();
        },
      ],
    },
  };
  const plot = new uPlot(options, data, container);
  const observer = new ResizeObserver(() => {
    const w = Math.max(280, container.clientWidth);
    if (Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height: chartHeight(w) });
  });
  observer.observe(container);
  return {
    plot,
    destroy() {
      observer.disconnect();
      plot.destroy();
    },
  };
}

// Runs of consecutive non-zero values as spans [from, to) in epoch seconds (the last one
// reaches half a step past its point), for a covariate such as a promotion flag.
export function nonZeroSpans(xs, values) {
  const spans = [];
  const step = xs.length > 1 ? xs[1] - xs[0] : 86400;
  let start = null;
  values.forEach((v, i) => {
    const on = v !== null && v !== 0;
    if (on && start === null) start = xs[i] - step / 2;
    if (!on && start !== null) {
      spans.push({ from: start, to: xs[i] - step / 2 });
      start = null;
    }
  });
  if (start !== null) spans.push({ from: start, to: xs[xs.length - 1] + step / 2 });
  return spans;
}
