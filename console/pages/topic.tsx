import { useEffect, useRef, useState } from 'preact/hooks';
import { SluiceClientError, type ConsumedRecord, type TopicDescription } from '../../lib/client/index.ts';
import { fetchMany, fetchRecords, produce } from '../api.ts';
import { Empty, ErrorBox, Loading } from '../components.tsx';
import { bytes, configValue, keyText, localTime, parsePairs, show, type View } from '../format.ts';
import { href, useAsync, useClient } from '../hooks.ts';

const TABS = [
  ['messages', 'Messages'],
  ['tail', 'Live tail'],
  ['produce', 'Produce'],
  ['settings', 'Settings'],
] as const;

export function TopicPage({ topic, tab }: { topic: string; tab: string }) {
  const sluice = useClient();
  const described = useAsync(() => sluice.admin.describeTopic(topic), [sluice, topic], 5_000);
  const d = described.data;
  return (
    <section>
      <p class="crumbs">
        <a href={href('topics')}>Topics</a> /
      </p>
      <h1>{topic}</h1>
      <ErrorBox error={described.error} what="describe" />
      {d ? <Partitions d={d} /> : described.error ? null : <Loading what="partitions" />}
      <nav class="tabs" aria-label="Topic">
        {TABS.map(([id, label]) => (
          <a href={href('topics', topic, id)} aria-current={tab === id ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {d ? (
        tab === 'tail' ? (
          <LiveTail d={d} />
        ) : tab === 'produce' ? (
          <ProduceForm d={d} onProduced={described.reload} />
        ) : tab === 'settings' ? (
          <Settings d={d} onChanged={described.reload} />
        ) : (
          <Browser d={d} />
        )
      ) : null}
    </section>
  );
}

function Partitions({ d }: { d: TopicDescription }) {
  return (
    <div class="scroll">
      <table class="grid" id="partitions">
        <caption>
          {d.partitions.length} partitions, {bytes(d.partitions.reduce((s, p) => s + p.sizeBytes, 0))}
        </caption>
        <thead>
          <tr>
            <th scope="col" class="num">partition</th>
            <th scope="col" class="num">logStartOffset</th>
            <th scope="col" class="num">highWatermark</th>
            <th scope="col" class="num">size</th>
            <th scope="col" class="num">segments</th>
          </tr>
        </thead>
        <tbody>
          {d.partitions.map((p) => (
            <tr data-partition={p.partition}>
              <td class="num">{p.partition}</td>
              <td class="num">{p.logStartOffset}</td>
              <td class="num" data-field="hwm">{p.highWatermark}</td>
              <td class="num">{bytes(p.sizeBytes)}</td>
              <td class="num">{p.segments}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ViewToggle({ view, onView }: { view: View; onView(v: View): void }) {
  return (
    <fieldset class="toggle">
      <legend>Value as</legend>
      {(['json', 'text', 'hex', 'base64'] as const).map((v) => (
        <label>
          <input type="radio" name="view" value={v} checked={view === v} onChange={() => onView(v)} />
          {v === 'json' ? 'JSON' : v}
        </label>
      ))}
    </fieldset>
  );
}

function Records({ records, view, id }: { records: readonly ConsumedRecord[]; view: View; id: string }) {
  return (
    <ol class="records" id={id}>
      {records.map((r) => {
        const v = show(r.value as string | null, view);
        return (
          <li class="record" data-partition={r.partition} data-offset={r.offset}>
            <div class="meta">
              <span>
                p<b>{r.partition}</b>
              </span>
              <span>
                offset <b class="offset">{r.offset}</b>
              </span>
              <time dateTime={new Date(r.timestamp).toISOString()} title={`${r.timestamp} ms`}>
                {localTime(r.timestamp)}
              </time>
              <span>
                key <code class="key">{keyText(r.key)}</code>
              </span>
            </div>
            {r.headers.length > 0 ? (
              <ul class="headers" aria-label="headers">
                {r.headers.map((h) => (
                  <li>
                    <code>{h.key}</code>: <code>{keyText(h.value)}</code>
                  </li>
                ))}
              </ul>
            ) : null}
            <pre class={`value as-${v.as}`}>{v.text}</pre>
          </li>
        );
      })}
    </ol>
  );
}

type From = 'offset' | 'timestamp' | 'latest';

function Browser({ d }: { d: TopicDescription }) {
  const sluice = useClient();
  const [partition, setPartition] = useState(0);
  const [from, setFrom] = useState<From>('latest');
  const [offset, setOffset] = useState('0');
  const [when, setWhen] = useState('');
  const [count, setCount] = useState('20');
  const [view, setView] = useState<View>('json');
  const [page, setPage] = useState<{ start: number; records: readonly ConsumedRecord[]; next: number; hwm: number; lso: number } | undefined>();
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const size = Math.max(1, Math.min(500, Number(count) || 20));

  const load = async (start: number) => {
    setBusy(true);
    setError(undefined);
    try {
      const p = d.partitions.find((x) => x.partition === partition);
      const lso = p?.logStartOffset ?? 0;
      const at = Math.max(start, lso);
      const answer = await fetchRecords(sluice, d.name, partition, at, { maxRecords: size });
      setPage({ start: at, records: answer.records, next: answer.nextOffset, hwm: answer.highWatermark, lso: answer.logStartOffset });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const go = async () => {
    setError(undefined);
    try {
      if (from === 'offset') return await load(Number(offset) || 0);
      if (from === 'timestamp') {
        const ms = new Date(when).getTime();
        if (!Number.isFinite(ms)) throw new Error('pick a date and time');
        return await load((await sluice.admin.offsetAt(d.name, partition, ms)).offset);
      }
      const [latest, earliest] = await Promise.all([sluice.admin.offsetAt(d.name, partition, 'latest'), sluice.admin.offsetAt(d.name, partition, 'earliest')]);
      return await load(Math.max(earliest.offset, latest.offset - size));
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void go();
  }, [partition]);

  return (
    <div class="card">
      <h2>Messages</h2>
      <form
        class="row browse"
        id="browse"
        onSubmit={(e) => {
          e.preventDefault();
          void go();
        }}
      >
        <label>
          Partition
          <select name="partition" aria-label="Partition" value={partition} onChange={(e) => setPartition(Number(e.currentTarget.value))}>
            {d.partitions.map((p) => (
              <option value={p.partition}>{p.partition}</option>
            ))}
          </select>
        </label>
        <label>
          From
          <select name="from" aria-label="From" value={from} onChange={(e) => setFrom(e.currentTarget.value as From)}>
            <option value="latest">latest N</option>
            <option value="offset">offset</option>
            <option value="timestamp">timestamp</option>
          </select>
        </label>
        {from === 'offset' ? (
          <label>
            Offset
            <input name="offset" type="number" min="0" value={offset} onInput={(e) => setOffset(e.currentTarget.value)} />
          </label>
        ) : null}
        {from === 'timestamp' ? (
          <label>
            Time (local)
            <input name="timestamp" type="datetime-local" step="1" value={when} onInput={(e) => setWhen(e.currentTarget.value)} />
          </label>
        ) : null}
        <label>
          N
          <input name="count" type="number" min="1" max="500" value={count} onInput={(e) => setCount(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={busy}>
          Show
        </button>
      </form>
      <ViewToggle view={view} onView={setView} />
      <ErrorBox error={error} what="fetch" />
      {page ? (
        <>
          <div class="pager">
            <button type="button" id="page-back" disabled={busy || page.start <= page.lso} onClick={() => void load(Math.max(page.lso, page.start - size))}>
              ← Older
            </button>
            <span class="range" id="page-range">
              {page.records.length === 0 ? `no records from offset ${page.start}` : `offsets ${page.records[0]!.offset}–${page.records[page.records.length - 1]!.offset}`} (log {page.lso}–{page.hwm})
            </span>
            <button type="button" id="page-forward" disabled={busy || page.next >= page.hwm} onClick={() => void load(page.next)}>
              Newer →
            </button>
          </div>
          {page.records.length === 0 ? (
            <Empty>Nothing here yet: produce a record (Produce tab) or pick another partition or offset.</Empty>
          ) : (
            <Records records={page.records} view={view} id="messages" />
          )}
        </>
      ) : null}
    </div>
  );
}

const TAIL_KEEP = 200;

function LiveTail({ d }: { d: TopicDescription }) {
  const sluice = useClient();
  const [paused, setPaused] = useState(false);
  const [records, setRecords] = useState<readonly ConsumedRecord[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const [view, setView] = useState<View>('json');
  const [following, setFollowing] = useState(false);
  const positions = useRef<Map<number, number> | undefined>(undefined);
  const partitionCount = d.partitions.length;

  useEffect(() => {
    if (paused) return;
    const abort = new AbortController();
    void (async () => {
      try {
        const { limits } = await sluice.cluster();
        const waitMs = Math.min(10_000, limits.maxWaitMs);
        if (positions.current === undefined || positions.current.size !== partitionCount) {
          const latest = await Promise.all(d.partitions.map((p) => sluice.admin.offsetAt(d.name, p.partition, 'latest')));
          positions.current = new Map(d.partitions.map((p, i) => [p.partition, latest[i]!.offset]));
        }
        setFollowing(true);
        setError(undefined);
        while (!abort.signal.aborted) {
          const pos = positions.current;
          const answer = await fetchMany(sluice, [...pos].map(([partition, offset]) => ({ topic: d.name, partition, offset })), { waitMs, signal: abort.signal });
          const got: ConsumedRecord[] = [];
          for (const p of answer) {
            if ('error' in p) throw new SluiceClientError(p.error.code, p.error.message);
            pos.set(p.partition, p.nextOffset);
            got.push(...p.records);
          }
          if (got.length > 0) {
            got.sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset);
            setRecords((old) => [...got.reverse(), ...old].slice(0, TAIL_KEEP));
          }
        }
      } catch (err) {
        if (!abort.signal.aborted) setError(err);
      } finally {
        setFollowing(false);
      }
    })();
    return () => abort.abort();
  }, [paused, sluice, d.name, partitionCount]);

  return (
    <div class="card">
      <h2>Live tail</h2>
      <p class="hint">
        Follows every partition from the end with long polls; newest first, the last {TAIL_KEEP} kept.
      </p>
      <div class="row">
        <button type="button" id="tail-toggle" aria-pressed={paused} onClick={() => setPaused((p) => !p)}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <span class="status" id="tail-status" role="status">
          {paused ? 'paused' : following ? 'following' : 'starting…'}
        </span>
        <button type="button" class="secondary" onClick={() => setRecords([])}>
          Clear
        </button>
      </div>
      <ViewToggle view={view} onView={setView} />
      <ErrorBox error={error} what="tail" />
      {records.length === 0 ? <Empty>Waiting for new records: produce one (Produce tab, the CLI or the API).</Empty> : <Records records={records} view={view} id="tail" />}
    </div>
  );
}

function ProduceForm({ d, onProduced }: { d: TopicDescription; onProduced(): void }) {
  const sluice = useClient();
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [encoding, setEncoding] = useState<'json' | 'string'>('json');
  const [headers, setHeaders] = useState('');
  const [partition, setPartition] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [result, setResult] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  let jsonError: string | undefined;
  if (encoding === 'json' && value.trim() !== '') {
    try {
      JSON.parse(value);
    } catch (err) {
      jsonError = (err as Error).message;
    }
  }
  const parsedHeaders = parsePairs(headers);
  const invalid = jsonError !== undefined || parsedHeaders.error !== undefined;
  return (
    <form
      class="card form"
      id="produce"
      onSubmit={async (e) => {
        e.preventDefault();
        if (invalid) return;
        setBusy(true);
        setError(undefined);
        setResult(undefined);
        try {
          const v = value.trim() === '' ? null : encoding === 'json' ? (JSON.parse(value) as unknown) : value;
          const at = await produce(sluice, d.name, encoding, {
            key: key === '' ? null : key,
            value: v,
            ...(parsedHeaders.pairs.length > 0 ? { headers: parsedHeaders.pairs.map(([k, hv]) => ({ key: k, value: hv })) } : {}),
            ...(partition === '' ? {} : { partition: Number(partition) }),
          });
          setResult(`Produced to partition ${at.partition} at offset ${at.offset}.`);
          onProduced();
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2>Produce a record</h2>
      <div class="row">
        <label>
          Key
          <input name="key" value={key} placeholder="(none)" onInput={(e) => setKey(e.currentTarget.value)} />
        </label>
        <label>
          Partition
          <select name="partition" aria-label="Partition" value={partition} onChange={(e) => setPartition(e.currentTarget.value)}>
            <option value="">by key (murmur2) / sticky</option>
            {d.partitions.map((p) => (
              <option value={String(p.partition)}>{p.partition}</option>
            ))}
          </select>
        </label>
        <label>
          Value is
          <select name="encoding" aria-label="Value is" value={encoding} onChange={(e) => setEncoding(e.currentTarget.value as 'json' | 'string')}>
            <option value="json">JSON</option>
            <option value="string">text</option>
          </select>
        </label>
      </div>
      <label>
        Value
        <textarea
          name="value"
          rows={5}
          spellcheck={false}
          aria-invalid={jsonError !== undefined}
          aria-describedby="value-check"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
      </label>
      <p id="value-check" class={jsonError ? 'invalid' : 'hint'} aria-live="polite">
        {encoding === 'json' ? (jsonError ? `Not JSON: ${jsonError}` : value.trim() === '' ? 'Empty: the value is null.' : 'Valid JSON.') : 'Sent as UTF-8 text.'}
      </p>
      <label>
        <span>Headers (one <code>key=value</code> a line)</span>
        <textarea name="headers" rows={2} spellcheck={false} value={headers} onInput={(e) => setHeaders(e.currentTarget.value)} />
      </label>
      {parsedHeaders.error ? <p class="invalid">{parsedHeaders.error}</p> : null}
      <button type="submit" disabled={busy || invalid}>
        Produce
      </button>
      {result ? (
        <p class="ok" role="status" id="produce-result">
          {result}
        </p>
      ) : null}
      <ErrorBox error={error} what="produce" />
    </form>
  );
}

function Settings({ d, onChanged }: { d: TopicDescription; onChanged(): void }) {
  const sluice = useClient();
  const [partitions, setPartitions] = useState(String(d.partitions.length));
  const [config, setConfig] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>();
  const [confirming, setConfirming] = useState(false);
  const [deleted, setDeleted] = useState(false);
  const parsed = parsePairs(config);
  const run = async (what: string, fn: () => Promise<unknown>) => {
    setError(undefined);
    setDone(undefined);
    try {
      await fn();
      setDone(what);
      onChanged();
    } catch (err) {
      setError(err);
    }
  };
  if (deleted) {
    return (
      <div class="card">
        <p class="ok" role="status">
          Deleted {d.name}. <a href={href('topics')}>Back to topics</a>
        </p>
      </div>
    );
  }
  return (
    <div class="card">
      <h2>Configuration</h2>
      <table class="kv" id="config">
        <tbody>
          {Object.entries(d.config).map(([k, v]) => (
            <tr>
              <th scope="row">{k}</th>
              <td>{String(v)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          if (parsed.error || parsed.pairs.length === 0) return;
          void run('Config changed.', () =>
            sluice.admin.alterTopic(d.name, { config: Object.fromEntries(parsed.pairs.map(([k, v]) => [k, v === '' ? null : configValue(v)])) }),
          );
        }}
      >
        <label>
          <span>Change config (<code>key=value</code> a line; <code>key=</code> resets it to the default)</span>
          <textarea name="config" rows={2} value={config} onInput={(e) => setConfig(e.currentTarget.value)} />
        </label>
        {parsed.error ? <p class="invalid">{parsed.error}</p> : null}
        <button type="submit">Apply config</button>
      </form>
      <form
        class="form row"
        onSubmit={(e) => {
          e.preventDefault();
          void run(`Partitions: ${partitions}.`, () => sluice.admin.createPartitions(d.name, Number(partitions)));
        }}
      >
        <label>
          Partitions (may only grow)
          <input name="partitions" type="number" min={d.partitions.length} value={partitions} onInput={(e) => setPartitions(e.currentTarget.value)} />
        </label>
        <button type="submit">Set partitions</button>
      </form>
      {done ? (
        <p class="ok" role="status">
          {done}
        </p>
      ) : null}
      <ErrorBox error={error} />
      <h2>Danger zone</h2>
      {confirming ? (
        <div class="confirm" role="alertdialog" aria-label="Confirm deletion">
          <p>
            Delete topic <b>{d.name}</b> and all its records? This cannot be undone.
          </p>
          <button
            type="button"
            class="danger"
            id="confirm-delete"
            onClick={() =>
              void run('Deleted.', async () => {
                await sluice.admin.deleteTopic(d.name);
                setDeleted(true);
              })
            }
          >
            Yes, delete {d.name}
          </button>
          <button type="button" class="secondary" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" class="danger" id="delete-topic" onClick={() => setConfirming(true)}>
          Delete topic…
        </button>
      )}
    </div>
  );
}
