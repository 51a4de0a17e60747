import { useRef, useState } from 'preact/hooks';
import { Empty, ErrorBox, Loading } from '../components.tsx';
import { bytes, configValue, parsePairs } from '../format.ts';
import { href, useAsync, useClient } from '../hooks.ts';

/** High watermark sums seen at the previous refresh, for records/s (kept across visits). */
const lastSeen = new Map<string, { at: number; hwm: number }>();

export function TopicsPage() {
  const sluice = useClient();
  const topics = useAsync(
    async () => {
      const list = await sluice.admin.listTopics();
      const now = performance.now();
      return Promise.all(
        list.map(async (t) => {
          const d = await sluice.admin.describeTopic(t.name).catch(() => undefined);
          const hwm = d?.partitions.reduce((s, p) => s + p.highWatermark, 0) ?? 0;
          const size = d?.partitions.reduce((s, p) => s + p.sizeBytes, 0) ?? 0;
          const records = d?.partitions.reduce((s, p) => s + (p.highWatermark - p.logStartOffset), 0) ?? 0;
          const prev = lastSeen.get(t.name);
          lastSeen.set(t.name, { at: now, hwm });
          const rate = prev && now > prev.at ? ((hwm - prev.hwm) * 1000) / (now - prev.at) : undefined;
          return { ...t, size, records, rate };
        }),
      );
    },
    [sluice],
    5_000,
  );
  return (
    <section>
      <h1>Topics</h1>
      <CreateTopic onCreated={topics.reload} />
      <ErrorBox error={topics.error} what="listing topics" />
      {topics.data === undefined ? (
        topics.error ? null : <Loading what="topics" />
      ) : topics.data.length === 0 ? (
        <Empty>No topics yet: create one with the form above, or `npx sluice topics create NAME`.</Empty>
      ) : (
        <div class="scroll">
          <table class="grid" id="topics-table">
            <thead>
              <tr>
                <th scope="col">name</th>
                <th scope="col" class="num">partitions</th>
                <th scope="col" class="num">records</th>
                <th scope="col" class="num">size</th>
                <th scope="col" class="num" title="from high watermark deltas between refreshes (every 5 s)">records/s</th>
              </tr>
            </thead>
            <tbody>
              {topics.data.map((t) => (
                <tr data-topic={t.name}>
                  <td>
                    <a href={href('topics', t.name)}>{t.name}</a>
                  </td>
                  <td class="num">{t.partitions}</td>
                  <td class="num">{t.records}</td>
                  <td class="num">{bytes(t.size)}</td>
                  <td class="num">{t.rate === undefined ? '…' : t.rate.toFixed(1)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function CreateTopic({ onCreated }: { onCreated(): void }) {
  const sluice = useClient();
  const [name, setName] = useState('');
  const [partitions, setPartitions] = useState('3');
  const [config, setConfig] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const nameRef = useRef<HTMLInputElement>(null);
  const parsed = parsePairs(config);
  return (
    <form
      class="card form"
      id="create-topic"
      onSubmit={async (e) => {
        e.preventDefault();
        if (parsed.error) return;
        setBusy(true);
        setError(undefined);
        setDone(undefined);
        try {
          const created = await sluice.admin.createTopic({
            name: name.trim(),
            partitions: Number(partitions),
            ...(parsed.pairs.length > 0 ? { config: Object.fromEntries(parsed.pairs.map(([k, v]) => [k, configValue(v)])) } : {}),
          });
          setDone(`Created ${created.name} with ${created.partitions} partitions.`);
          setName('');
          onCreated();
          nameRef.current?.focus();
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2>Create a topic</h2>
      <div class="row">
        <label>
          Name
          <input name="name" ref={nameRef} required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Partitions
          <input name="partitions" type="number" min="1" required value={partitions} onInput={(e) => setPartitions(e.currentTarget.value)} />
        </label>
      </div>
      <label>
        <span>Config (one <code>key=value</code> a line, e.g. <code>retention.ms=86400000</code>)</span>
        <textarea name="config" rows={2} value={config} onInput={(e) => setConfig(e.currentTarget.value)} />
      </label>
      {parsed.error ? <p class="invalid">{parsed.error}</p> : null}
      <button type="submit" disabled={busy || name.trim() === ''}>
        Create topic
      </button>
      {done ? (
        <p class="ok" role="status">
          {done}
        </p>
      ) : null}
      <ErrorBox error={error} what="create topic" />
    </form>
  );
}
