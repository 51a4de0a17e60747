import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import type { OffsetCommit, PartitionLag, ResetTo } from '../../lib/client/index.ts';
import { GroupIdNotFoundError } from '../../lib/client/index.ts';
import { Empty, ErrorBox, Loading, Stat } from '../components.tsx';
import { href, useAsync, useClient } from '../hooks.ts';

const SAMPLE_MS = 2_000;
const KEEP_SAMPLES = 900; // 30 min at one sample per 2 s

export function GroupPage({ group }: { group: string }) {
  const sluice = useClient();
  const [samples, setSamples] = useState<{ t: number[]; lag: number[] }>({ t: [], lag: [] });
  const state = useAsync(
    async () => {
      const [description, lag] = await Promise.all([
        sluice.admin.describeGroup(group).catch((e: unknown) => {
          if (e instanceof GroupIdNotFoundError) return undefined;
          throw e;
        }),
        sluice.admin.groupLag(group),
      ]);
      const total = lag.reduce((s, r) => s + (r.lag ?? 0), 0);
      setSamples((s) => ({ t: [...s.t, Date.now() / 1000].slice(-KEEP_SAMPLES), lag: [...s.lag, total].slice(-KEEP_SAMPLES) }));
      return { description, lag, total };
    },
    [sluice, group],
    SAMPLE_MS,
  );
  const data = state.data;
  return (
    <section>
      <p class="crumbs">
        <a href={href('groups')}>Groups</a> /
      </p>
      <h1>{group}</h1>
      <ErrorBox error={state.error} what="describe group" />
      {data === undefined ? (
        state.error ? null : <Loading what="group" />
      ) : (
        <>
          <div class="stats">
            <Stat id="state" label="state" value={data.description?.state ?? 'Empty'} />
            <Stat id="members" label="members" value={data.description?.members.length ?? 0} />
            <Stat id="total-lag" label="total lag" value={data.total} />
          </div>
          <h2>Lag over time</h2>
          <LagChart samples={samples} />
          <h2>Members</h2>
          {data.description === undefined || data.description.members.length === 0 ? (
            <Empty>
              {data.lag.length > 0
                ? 'No live members: the group only has committed offsets, which can be reset below.'
                : 'No live members and no committed offsets: a consumer joining this group, or a commit, will show here.'}
            </Empty>
          ) : (
            <div class="scroll">
              <table class="grid" id="members">
                <thead>
                  <tr>
                    <th scope="col">member</th>
                    <th scope="col" class="num">epoch</th>
                    <th scope="col">topics</th>
                    <th scope="col">assignment</th>
                  </tr>
                </thead>
                <tbody>
                  {data.description.members.map((m) => (
                    <tr>
                      <td>
                        <code>{m.memberId}</code>
                      </td>
                      <td class="num">{m.memberEpoch}</td>
                      <td>{m.topics.join(', ')}</td>
                      <td>{m.assignment.map((a) => `${a.topic} [${a.partitions.join(', ')}]`).join('; ') || '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h2>Offsets and lag</h2>
          <LagTable rows={data.lag} />
          <ResetOffsets group={group} rows={data.lag} members={data.description?.members.length ?? 0} onReset={state.reload} />
        </>
      )}
    </section>
  );
}

function LagTable({ rows }: { rows: readonly PartitionLag[] }) {
  if (rows.length === 0) return <Empty>The group has committed no offsets and subscribes to no topic.</Empty>;
  return (
    <div class="scroll">
      <table class="grid" id="lag">
        <thead>
          <tr>
            <th scope="col">topic</th>
            <th scope="col" class="num">partition</th>
            <th scope="col" class="num">committed</th>
            <th scope="col" class="num">highWatermark</th>
            <th scope="col" class="num">lag</th>
            <th scope="col">member</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr data-topic={r.topic} data-partition={r.partition}>
              <td>
                <a href={href('topics', r.topic)}>{r.topic}</a>
              </td>
              <td class="num">{r.partition}</td>
              <td class="num" data-field="committed">{r.offset ?? '—'}</td>
              <td class="num" data-field="hwm">{r.highWatermark}</td>
              <td class="num" data-field="lag">{r.lag ?? '—'}</td>
              <td>{r.memberId ? <code>{r.memberId.slice(0, 12)}</code> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function LagChart({ samples }: { samples: { t: number[]; lag: number[] } }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  useEffect(() => {
    const el = box.current!;
    const dark = matchMedia('(prefers-color-scheme: dark)').matches;
    const ink = dark ? '#c9d1d9' : '#24292f';
    const axis = { stroke: ink, grid: { stroke: dark ? '#30363d' : '#e5e7eb' }, ticks: { stroke: dark ? '#30363d' : '#e5e7eb' } };
    const make = () =>
      new uPlot(
        {
          width: Math.max(240, el.clientWidth),
          height: 220,
          series: [{}, { label: 'total lag', stroke: '#2f81f7', width: 2, fill: 'rgba(47,129,247,0.12)' }],
          axes: [axis, axis],
          scales: { y: { range: (_u, min, max) => [0, Math.max(1, max, min)] } },
          legend: { show: true },
        },
        [[], []],
        el,
      );
    plot.current = make();
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(240, el.clientWidth), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData([samples.t, samples.lag]);
  }, [samples]);
  return (
    <figure class="chart" id="lag-chart" aria-label="total lag over time" data-samples={samples.t.length}>
      <div ref={box} />
      <figcaption>Sampled every {SAMPLE_MS / 1000} s while this page is open.</figcaption>
    </figure>
  );
}

type ResetKind = 'earliest' | 'latest' | 'timestamp' | 'offset';

function ResetOffsets({ group, rows, members, onReset }: { group: string; rows: readonly PartitionLag[]; members: number; onReset(): void }) {
  const sluice = useClient();
  const topics = [...new Set(rows.map((r) => r.topic))];
  const [topic, setTopic] = useState(topics[0] ?? '');
  const [kind, setKind] = useState<ResetKind>('earliest');
  const [arg, setArg] = useState('');
  const [preview, setPreview] = useState<{ key: string; offsets: OffsetCommit[] } | undefined>();
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>();
  if (topics.length === 0) return null;
  const target = (): ResetTo => {
    if (kind === 'earliest' || kind === 'latest') return kind;
    if (kind === 'offset') return { offset: Number(arg) || 0 };
    const ms = new Date(arg).getTime();
    if (!Number.isFinite(ms)) throw new Error('pick a date and time');
    return { timestamp: ms };
  };
  const key = `${topic}\u0000${kind}\u0000${arg}`;
  const current = new Map(rows.filter((r) => r.topic === topic).map((r) => [r.partition, r.offset]));
  return (
    <form
      class="card form"
      id="reset"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(undefined);
        setDone(undefined);
        try {
          const offsets = await sluice.admin.resetOffsets(group, topic, target(), { dryRun: true });
          setPreview({ key, offsets });
        } catch (err) {
          setError(err);
          setPreview(undefined);
        }
      }}
    >
      <h2>Reset offsets</h2>
      <p class="hint">Only for a group without live members (state Empty). Preview first: a dry run commits nothing.</p>
      {members > 0 ? <p class="invalid">This group has {members} live member(s): a reset would answer NON_EMPTY_GROUP.</p> : null}
      <div class="row">
        <label>
          Topic
          <select name="topic" aria-label="Topic" value={topic} onChange={(e) => setTopic(e.currentTarget.value)}>
            {topics.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          To
          <select name="to" aria-label="To" value={kind} onChange={(e) => setKind(e.currentTarget.value as ResetKind)}>
            <option value="earliest">earliest</option>
            <option value="latest">latest</option>
            <option value="timestamp">timestamp</option>
            <option value="offset">offset</option>
          </select>
        </label>
        {kind === 'offset' ? (
          <label>
            Offset
            <input name="offset" type="number" min="0" value={arg} onInput={(e) => setArg(e.currentTarget.value)} />
          </label>
        ) : null}
        {kind === 'timestamp' ? (
          <label>
            Time (local)
            <input name="timestamp" type="datetime-local" step="1" value={arg} onInput={(e) => setArg(e.currentTarget.value)} />
          </label>
        ) : null}
        <button type="submit" id="reset-preview">
          Preview (dry run)
        </button>
      </div>
      {preview && preview.key === key ? (
        <>
          <table class="grid" id="reset-plan">
            <caption>Dry run: what the reset would commit</caption>
            <thead>
              <tr>
                <th scope="col" class="num">partition</th>
                <th scope="col" class="num">committed now</th>
                <th scope="col" class="num">after reset</th>
              </tr>
            </thead>
            <tbody>
              {preview.offsets.map((o) => (
                <tr data-partition={o.partition}>
                  <td class="num">{o.partition}</td>
                  <td class="num">{current.get(o.partition) ?? '—'}</td>
                  <td class="num" data-field="new">{o.offset}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <button
            type="button"
            class="danger"
            id="reset-apply"
            onClick={async () => {
              setError(undefined);
              try {
                const offsets = await sluice.admin.resetOffsets(group, topic, target());
                setDone(`Reset ${offsets.length} partition(s) of ${topic}.`);
                setPreview(undefined);
                onReset();
              } catch (err) {
                setError(err);
              }
            }}
          >
            Reset {preview.offsets.length} partition(s)
          </button>
        </>
      ) : null}
      {done ? (
        <p class="ok" role="status" id="reset-done">
          {done}
        </p>
      ) : null}
      <ErrorBox error={error} what="reset offsets" />
    </form>
  );
}
