import { usd } from './format';

export interface ChartPoint {
  at: string;
  calls: number;
  failed: number;
  revenue: number;
}

const width = 1000;
const height = 260;
const pad = { top: 12, right: 64, bottom: 28, left: 44 };

/**
 * Calls per bucket as bars (failures in red on top) and revenue as a line on its own scale. Plain
 * SVG: no chart library in the bundle. The same numbers are in a table for screen readers.
 */
export function CallsChart({ points, label }: { points: ChartPoint[]; label: (at: string) => string }) {
  const maxCalls = Math.max(1, ...points.map((p) => p.calls));
  const maxRevenue = Math.max(1, ...points.map((p) => p.revenue));
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const slot = plotW / Math.max(1, points.length);
  const y = (calls: number) => pad.top + plotH - (calls / maxCalls) * plotH;
  const yRevenue = (revenue: number) => pad.top + plotH - (revenue / maxRevenue) * plotH;
  const line = points
    .map(
      (p, i) =>
        `${i ? 'L' : 'M'}${(pad.left + slot * (i + 0.5)).toFixed(1)},${yRevenue(p.revenue).toFixed(1)}`,
    )
    .join(' ');
  const ticks = [0, Math.floor(points.length / 2), points.length - 1].filter(
    (i, n, all) => all.indexOf(i) === n,
  );
  const total = points.reduce((sum, p) => sum + p.calls, 0);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby="chart-title">
        <title id="chart-title">{`${total} calls and ${usd(points.reduce((s, p) => s + p.revenue, 0))} revenue over the period`}</title>
        <line
          x1={pad.left}
          x2={width - pad.right}
          y1={pad.top + plotH}
          y2={pad.top + plotH}
          className="axis"
        />
        <text x={pad.left - 6} y={pad.top + 4} className="tick" textAnchor="end">
          {maxCalls}
        </text>
        <text x={pad.left - 6} y={pad.top + plotH} className="tick" textAnchor="end">
          0
        </text>
        <text x={width - pad.right + 6} y={pad.top + 4} className="tick revenue-tick">
          {usd(maxRevenue)}
        </text>
        {points.map((p, i) => {
          const x = pad.left + slot * i + slot * 0.15;
          const w = slot * 0.7;
          return (
            <g key={p.at}>
              <rect x={x} width={w} y={y(p.calls)} height={pad.top + plotH - y(p.calls)} className="bar" />
              {p.failed > 0 ? (
                <rect
                  x={x}
                  width={w}
                  y={y(p.calls)}
                  height={pad.top + plotH - y(p.failed)}
                  className="bar-failed"
                />
              ) : null}
            </g>
          );
        })}
        <path d={line} className="revenue-line" fill="none" />
        {ticks.map((i) => (
          <text key={i} x={pad.left + slot * (i + 0.5)} y={height - 8} className="tick" textAnchor="middle">
            {label(points[i]!.at)}
          </text>
        ))}
      </svg>
      <figcaption>
        <span className="legend legend-calls">calls</span>{' '}
        <span className="legend legend-failed">failed</span>{' '}
        <span className="legend legend-revenue">revenue</span>
      </figcaption>
      <details>
        <summary>Chart data</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Time (UTC)</th>
              <th scope="col">Calls</th>
              <th scope="col">Failed</th>
              <th scope="col">Revenue</th>
            </tr>
          </thead>
          <tbody>
            {points.map((p) => (
              <tr key={p.at}>
                <td>{label(p.at)}</td>
                <td>{p.calls}</td>
                <td>{p.failed}</td>
                <td>{usd(p.revenue)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
