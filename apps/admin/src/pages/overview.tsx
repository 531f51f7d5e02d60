import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { trpc } from '../api';
import { CallsChart } from '../chart';
import { percent, sol, usd } from '../format';
import { Loaded, Page, Tile } from '../ui';

const rangeLabels = { '24h': 'Last 24 hours', '30d': 'Last 30 days' } as const;

export function OverviewPage() {
  const [range, setRange] = useState<'24h' | '30d'>('24h');
  const overview = useQuery({
    queryKey: ['admin.overview', range],
    queryFn: () => trpc.admin.overview.query({ range }),
    refetchInterval: 30_000,
  });
  const treasury = useQuery({ queryKey: ['admin.treasury'], queryFn: () => trpc.admin.treasury.get.query() });
  const outbox = useQuery({
    queryKey: ['admin.billing.reports', 'counts'],
    queryFn: () => trpc.admin.billing.reports.query({ limit: 1 }),
  });
  return (
    <Page title="Overview">
      <div className="tiles">
        <Loaded query={overview}>
          {(o) => (
            <>
              <Tile
                label="Calls per minute"
                value={o.last_hour.calls_per_minute}
                detail={`${o.last_hour.calls} in the last hour`}
              />
              <Tile
                label="Error rate"
                value={percent(o.last_hour.error_rate)}
                detail={`${o.last_hour.failed} failed in the last hour`}
                alert={(o.last_hour.error_rate ?? 0) > 0.05}
              />
              <Tile
                label={`Revenue ${o.month.period}`}
                value={usd(o.month.revenue)}
                detail={`${o.month.calls} calls`}
              />
              <Tile
                label={`Agent payouts ${o.month.period}`}
                value={usd(o.month.agent_payouts)}
                detail={`margin ${usd(o.month.revenue - o.month.agent_payouts)}`}
              />
            </>
          )}
        </Loaded>
        <Loaded query={treasury}>
          {(t) => (
            <Tile
              label="Treasury"
              value={usd(Number(t.chain.usdc))}
              alert={t.low}
              detail={
                <>
                  <meter
                    min={0}
                    max={Number(t.float_usdc)}
                    low={Number(t.float_usdc) / 5}
                    value={Number(t.chain.usdc)}
                  >
                    {percent(Number(t.chain.usdc) / Number(t.float_usdc))}
                  </meter>{' '}
                  {t.low ? (
                    <strong>Low: under 20% of its {usd(Number(t.float_usdc))} float</strong>
                  ) : (
                    `of ${usd(Number(t.float_usdc))} float`
                  )}
                  , {sol(Number(t.chain.lamports))}
                </>
              }
            />
          )}
        </Loaded>
        <Loaded query={outbox}>
          {({ counts }) => (
            <Tile
              label="Usage outbox"
              value={counts.failing ? `${counts.failing} failing` : 'Healthy'}
              alert={counts.failing > 0}
              detail={`${counts.open} open, ${counts.pending} pending, ${counts.delivered} delivered`}
            />
          )}
        </Loaded>
      </div>
      <section aria-labelledby="traffic-title" className="card">
        <header className="section-header">
          <h2 id="traffic-title">Calls and revenue — {rangeLabels[range]}</h2>
          <fieldset className="segmented">
            <legend className="visually-hidden">Range</legend>
            {(['24h', '30d'] as const).map((r) => (
              <button key={r} type="button" aria-pressed={range === r} onClick={() => setRange(r)}>
                {rangeLabels[r]}
              </button>
            ))}
          </fieldset>
        </header>
        <Loaded query={overview}>
          {(o) => (
            <CallsChart
              points={o.series.points}
              label={(at) => (o.series.bucket === 'hour' ? `${at.slice(11, 16)}` : at.slice(5, 10))}
            />
          )}
        </Loaded>
      </section>
    </Page>
  );
}
