// Hand-written SVG line charts for the benchmark report: panels of series on linear or log axes, no charting dependency.

export interface ChartSeries {
  name: string;
  points: Array<[x: number, y: number]>;
}

export interface ChartPanel {
  title: string;
  xLabel: string;
  yLabel: string;
  xScale: 'linear' | 'log';
  series: ChartSeries[];
  /** Fixed y range (e.g. 0–100 for percentiles); otherwise from the data. */
  yDomain?: [number, number];
}

/** Tableau 10: colours told apart by most readers, in print and on screen. */
export const SERIES_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const WIDTH = 860;
const PANEL_HEIGHT = 380;
const MARGIN = { left: 64, right: 230, top: 44, bottom: 52 };
const TITLE_HEIGHT = 30;

/** 1-2-5 steps: the round numbers a reader expects on an axis. */
const STEPS = [1, 2, 5];

/** Ticks of a log axis: every 1-2-5 value from the one at or under `low` to the one at or over `high`. */
export function logTicks(low: number, high: number): number[] {
  const ticks: number[] = [];
  for (let exponent = Math.floor(Math.log10(low)) - 1; exponent <= Math.ceil(Math.log10(high)); exponent += 1) {
    for (const step of STEPS) ticks.push(roundTick(step * 10 ** exponent));
  }
  const below = ticks.filter((tick) => tick <= low);
  const first = below.length === 0 ? 0 : below.length - 1;
  const last = ticks.findIndex((tick) => tick >= high);
  return ticks.slice(first, last === -1 ? undefined : last + 1);
}

/** Ticks of a linear axis: about `count` of them, a 1-2-5 step apart, covering low..high. */
export function linearTicks(low: number, high: number, count = 6): number[] {
  if (high <= low) high = low + 1;
  const rough = (high - low) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = (STEPS.find((candidate) => candidate * magnitude >= rough) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let tick = Math.floor(low / step) * step; tick < high + step; tick += step) {
    ticks.push(roundTick(tick));
    if (tick >= high) break;
  }
  return ticks;
}

/** Floating-point noise off a tick (0.30000000000000004 → 0.3). */
function roundTick(value: number): number {
  return Number(value.toPrecision(12));
}

export function formatTick(value: number): string {
  if (Math.abs(value) >= 10_000) return `${roundTick(value / 1000)}k`;
  return String(roundTick(value));
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Maps data to pixels along one axis. */
function scaleOf(kind: 'linear' | 'log', [low, high]: [number, number], [from, to]: [number, number]): (value: number) => number {
  const transform = kind === 'log' ? Math.log10 : (value: number) => value;
  const span = transform(high) - transform(low) || 1;
  return (value) => from + ((transform(value) - transform(low)) / span) * (to - from);
}

/** Finite points only, and on a log axis positive x only (log 0 is nowhere). */
function plottable(points: Array<[number, number]>, xScale: 'linear' | 'log'): Array<[number, number]> {
  return points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (xScale === 'linear' || x > 0));
}

function panelSvg(panel: ChartPanel, top: number): string {
  const series = panel.series.map((one) => ({ ...one, points: plottable(one.points, panel.xScale) }));
  const xs = series.flatMap((one) => one.points.map(([x]) => x));
  const ys = series.flatMap((one) => one.points.map(([, y]) => y));
  const plotLeft = MARGIN.left;
  const plotRight = WIDTH - MARGIN.right;
  const plotTop = top + MARGIN.top;
  const plotBottom = top + PANEL_HEIGHT - MARGIN.bottom;
  const parts: string[] = [`<text x="${plotLeft}" y="${top + 26}" class="panel-title">${escapeXml(panel.title)}</text>`];
  if (xs.length === 0) return [...parts, `<text x="${plotLeft}" y="${plotTop + 20}">no data</text>`].join('\n');
  const xTicks = panel.xScale === 'log' ? logTicks(Math.min(...xs), Math.max(...xs)) : linearTicks(Math.min(...xs), Math.max(...xs));
  const yTicks = panel.yDomain ? linearTicks(panel.yDomain[0], panel.yDomain[1], 5) : linearTicks(Math.min(0, ...ys), Math.max(...ys));
  const xDomain: [number, number] = [xTicks[0]!, xTicks[xTicks.length - 1]!];
  const yDomain: [number, number] = panel.yDomain ?? [yTicks[0]!, yTicks[yTicks.length - 1]!];
  const x = scaleOf(panel.xScale, xDomain, [plotLeft, plotRight]);
  const y = scaleOf('linear', yDomain, [plotBottom, plotTop]);
  const pixel = (value: number) => value.toFixed(1);
  for (const tick of xTicks) {
    parts.push(`<line x1="${pixel(x(tick))}" y1="${plotTop}" x2="${pixel(x(tick))}" y2="${plotBottom}" class="grid"/>`);
    parts.push(`<text x="${pixel(x(tick))}" y="${plotBottom + 18}" text-anchor="middle">${formatTick(tick)}</text>`);
  }
  for (const tick of yTicks.filter((value) => value >= yDomain[0] && value <= yDomain[1])) {
    parts.push(`<line x1="${plotLeft}" y1="${pixel(y(tick))}" x2="${plotRight}" y2="${pixel(y(tick))}" class="grid"/>`);
    parts.push(`<text x="${plotLeft - 8}" y="${pixel(y(tick) + 4)}" text-anchor="end">${formatTick(tick)}</text>`);
  }
  parts.push(`<line x1="${plotLeft}" y1="${plotBottom}" x2="${plotRight}" y2="${plotBottom}" class="axis"/>`);
  parts.push(`<line x1="${plotLeft}" y1="${plotTop}" x2="${plotLeft}" y2="${plotBottom}" class="axis"/>`);
  parts.push(`<text x="${(plotLeft + plotRight) / 2}" y="${plotBottom + 40}" text-anchor="middle">${escapeXml(panel.xLabel)}</text>`);
  parts.push(`<text transform="translate(${plotLeft - 46} ${(plotTop + plotBottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(panel.yLabel)}</text>`);
  series.forEach((one, index) => {
    const colour = SERIES_COLOURS[index % SERIES_COLOURS.length]!;
    const d = one.points.map(([pointX, pointY], position) => `${position === 0 ? 'M' : 'L'}${pixel(x(pointX))} ${pixel(y(pointY))}`).join(' ');
    parts.push(`<path class="series" d="${d}" stroke="${colour}"><title>${escapeXml(one.name)}</title></path>`);
    const legendY = plotTop + 8 + index * 20;
    parts.push(`<line x1="${plotRight + 16}" y1="${legendY}" x2="${plotRight + 40}" y2="${legendY}" stroke="${colour}" stroke-width="3"/>`);
    parts.push(`<text x="${plotRight + 46}" y="${legendY + 4}">${escapeXml(one.name)}</text>`);
  });
  return parts.join('\n');
}

/** A complete SVG document: a title, then the panels one under the other. */
export function chartSvg(title: string, panels: ChartPanel[]): string {
  const height = TITLE_HEIGHT + panels.length * PANEL_HEIGHT;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">
<style>
.grid { stroke: #e0e0e0; stroke-width: 1; }
.axis { stroke: #333; stroke-width: 1; }
.series { fill: none; stroke-width: 2; stroke-linejoin: round; }
.title { font-size: 16px; font-weight: bold; }
.panel-title { font-size: 13px; font-weight: bold; }
</style>
<rect width="${WIDTH}" height="${height}" fill="#fff"/>
<text x="${MARGIN.left}" y="22" class="title">${escapeXml(title)}</text>
${panels.map((panel, index) => panelSvg(panel, TITLE_HEIGHT + index * PANEL_HEIGHT)).join('\n')}
</svg>
`;
}
