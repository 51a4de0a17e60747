/**
 * The chart of docs/COST.md, as hand-written SVG (no dependency): $/month against records per
 * produce request, both axes logarithmic. Sluice's lines go through the measured points; the
 * others do not depend on how records are batched into requests and are drawn flat.
 */

export interface Series {
  readonly name: string;
  readonly color: string;
  /** [records per request, $/month], ascending x. */
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
  /** Mark each point (measured values). */
  readonly markers?: boolean;
}

const W = 860;
const H = 500;
const M = { left: 80, right: 240, top: 50, bottom: 60 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function money(v: number): string {
  return v >= 1000 ? `$${(v / 1000).toFixed(v >= 10000 ? 0 : 1)}k` : v >= 10 ? `$${v.toFixed(0)}` : `$${v.toFixed(1)}`;
}

export function costChart(series: readonly Series[], opts: { title: string; subtitle?: string; referenceX?: number }): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((y) => y > 0);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const y0 = Math.pow(10, Math.floor(Math.log10(Math.min(...ys))));
  const y1 = Math.pow(10, Math.ceil(Math.log10(Math.max(...ys))));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number) => M.left + ((Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0) || 1)) * pw;
  const sy = (y: number) => M.top + ph - ((Math.log10(Math.max(y, y0)) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0) || 1)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${M.left}" y="20" font-size="15" font-weight="bold">${esc(opts.title)}</text>`);
  if (opts.subtitle) out.push(`<text x="${M.left}" y="34" fill="#555">${esc(opts.subtitle)}</text>`);
  // grid: decades on y, 1-2-5 on x
  for (let d = y0; d <= y1 * 1.0001; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > y1 * 1.0001) break;
      const y = sy(v);
      out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="${m === 1 ? '#ccc' : '#eee'}"/>`);
      out.push(`<text x="${M.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#333">${money(v)}</text>`);
    }
  }
  for (let d = Math.pow(10, Math.floor(Math.log10(x0))); d <= x1; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v < x0 || v > x1) continue;
      const x = sx(v);
      out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${M.top}" y2="${M.top + ph}" stroke="${m === 1 ? '#ccc' : '#eee'}"/>`);
      out.push(`<text x="${x.toFixed(1)}" y="${M.top + ph + 16}" text-anchor="middle" fill="#333">${v}</text>`);
    }
  }
  if (opts.referenceX !== undefined) {
    const x = sx(opts.referenceX);
    out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${M.top}" y2="${M.top + ph}" stroke="#888" stroke-dasharray="2,3"/>`);
    out.push(`<text x="${(x - 4).toFixed(1)}" y="${M.top + 12}" text-anchor="end" fill="#555">client batching (${opts.referenceX})</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 18}" text-anchor="middle">records per produce request (log scale)</text>`);
  out.push(`<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">$ per month (log scale)</text>`);
  series.forEach((s, i) => {
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2.2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`);
    if (s.markers) for (const p of s.points) out.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
    const ly = M.top + 14 + i * 20;
    const lx = M.left + pw + 14;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2.2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`);
    const last = s.points[s.points.length - 1]!;
    out.push(`<text x="${lx + 30}" y="${ly}">${esc(s.name)}${s.markers ? '' : ` (${money(last[1])})`}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
