import type { SeriesFit } from './summary';

const WIDTH = 520;
const HEIGHT = 420;
const MARGIN = { left: 64, right: 16, top: 36, bottom: 48 };
const COLOURS = ['#1f77b4', '#aec7e8', '#d62728', '#ff9896', '#2ca02c', '#98df8a', '#9467bd', '#c5b0d5'];

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Powers of ten (and their 2× and 5×) spanning [min, max], for log axis ticks. */
function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min * 0.999 && v <= max * 1.001) ticks.push(v);
    }
  }
  return ticks.length >= 2 ? ticks : [min, max];
}

function label(value: number): string {
  if (value >= 1000) return `${value / 1000}k`;
  if (value >= 1) return String(Number(value.toPrecision(3)));
  return value.toPrecision(2);
}

function panel(title: string, xLabel: string, fits: readonly SeriesFit[], offsetX: number): string {
  const points = fits.flatMap((f) => f.points.filter((p) => p.x > 0 && p.seconds > 0));
  if (points.length === 0) return '';
  const [xMin, xMax] = [Math.min(...points.map((p) => p.x)), Math.max(...points.map((p) => p.x))];
  const [yMin, yMax] = [Math.min(...points.map((p) => p.seconds)) / 1.5, Math.max(...points.map((p) => p.seconds)) * 1.5];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const lx = (x: number) => (xMax === xMin ? 0.5 : (Math.log(x) - Math.log(xMin)) / (Math.log(xMax) - Math.log(xMin)));
  const ly = (y: number) => (Math.log(y) - Math.log(yMin)) / (Math.log(yMax) - Math.log(yMin));
  const px = (x: number) => offsetX + MARGIN.left + lx(x) * plotW;
  const py = (y: number) => MARGIN.top + (1 - ly(y)) * plotH;
  const parts: string[] = [];
  parts.push(`<text x="${offsetX + WIDTH / 2}" y="20" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`);
  parts.push(`<rect x="${offsetX + MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
  for (const t of logTicks(xMin, xMax)) {
    parts.push(`<line x1="${px(t)}" y1="${MARGIN.top}" x2="${px(t)}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`);
    parts.push(`<text x="${px(t)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle" font-size="11">${label(t)}</text>`);
  }
  for (const t of logTicks(yMin, yMax)) {
    parts.push(`<line x1="${offsetX + MARGIN.left}" y1="${py(t)}" x2="${offsetX + MARGIN.left + plotW}" y2="${py(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${offsetX + MARGIN.left - 6}" y="${py(t) + 4}" text-anchor="end" font-size="11">${label(t)}</text>`);
  }
  parts.push(`<text x="${offsetX + MARGIN.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle" font-size="12">${escapeXml(xLabel)}</text>`);
  parts.push(`<text transform="translate(${offsetX + 14} ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">seconds (median)</text>`);
  fits.forEach((fit, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const valid = fit.points.filter((p) => p.x > 0 && p.seconds > 0);
    const dash = fit.workload.endsWith(' people') ? ' stroke-dasharray="5 3"' : '';
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2"${dash} points="${valid.map((p) => `${px(p.x).toFixed(1)},${py(p.seconds).toFixed(1)}`).join(' ')}"/>`);
    for (const p of valid) parts.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.seconds).toFixed(1)}" r="3" fill="${colour}"/>`);
    const what = `${fit.workload.startsWith('W2') ? 'delta import' : 'delta sync'}${fit.workload.endsWith(' people') ? ' (people only)' : ''}`;
    const legend = `${what} ${fit.dialect}: slope ${Number.isNaN(fit.seconds.slope) ? '—' : fit.seconds.slope.toFixed(2)}`;
    parts.push(`<text x="${offsetX + MARGIN.left + 8}" y="${MARGIN.top + 16 + i * 15}" font-size="11" fill="${colour}">${escapeXml(legend)}</text>`);
  });
  return parts.join('\n');
}

/**
 * The scaling series as an SVG (no charting dependency): delta import and
 * delta sync time against N at fixed changes, and against the changes at
 * fixed N, on log-log axes, each line labelled with its fitted slope.
 */
export function scalingChartSvg(fits: readonly SeriesFit[], subtitle: string): string {
  const left = panel('Delta cost vs directory size N', 'N (people), fixed changes', fits.filter((f) => f.against === 'people'), 0);
  const right = panel('Delta cost vs changes', 'changes, fixed N', fits.filter((f) => f.against === 'changes'), WIDTH);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * WIDTH}" height="${HEIGHT + 20}" font-family="sans-serif" font-size="12">`,
    '<rect width="100%" height="100%" fill="white"/>',
    left,
    right,
    `<text x="${WIDTH}" y="${HEIGHT + 14}" text-anchor="middle" font-size="11" fill="#555">${escapeXml(subtitle)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
