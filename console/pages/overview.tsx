import { ErrorBox, Loading, Stat } from '../components.tsx';
import { bytes } from '../format.ts';
import { href, useAsync, useClient } from '../hooks.ts';

export function OverviewPage() {
  const sluice = useClient();
  const cluster = useAsync(() => sluice.admin.cluster(), [sluice]);
  const totals = useAsync(
    async () => {
      const [topics, groups] = await Promise.all([sluice.admin.listTopics(), sluice.admin.listGroups()]);
      const described = await Promise.all(topics.map((t) => sluice.admin.describeTopic(t.name).catch(() => undefined)));
      const size = described.reduce((s, d) => s + (d?.partitions.reduce((a, p) => a + p.sizeBytes, 0) ?? 0), 0);
      const lags = await Promise.all(groups.map((g) => sluice.admin.groupLag(g.group).catch(() => [])));
      const lag = lags.flat().reduce((s, r) => s + (r.lag ?? 0), 0);
      return { topics: topics.length, partitions: topics.reduce((s, t) => s + t.partitions, 0), size, groups: groups.length, lag };
    },
    [sluice],
    10_000,
  );
  return (
    <section>
      <h1>Overview</h1>
      <ErrorBox error={cluster.error ?? totals.error} />
      {totals.data ? (
        <div class="stats">
          <Stat id="topics" label="topics" value={<a href={href('topics')}>{totals.data.topics}</a>} />
          <Stat id="partitions" label="partitions" value={totals.data.partitions} />
          <Stat id="size" label="total size" value={bytes(totals.data.size)} />
          <Stat id="groups" label="groups" value={<a href={href('groups')}>{totals.data.groups}</a>} />
          <Stat id="lag" label="total lag (records)" value={totals.data.lag} />
        </div>
      ) : totals.error ? null : (
        <Loading what="totals" />
      )}
      {totals.data && totals.data.topics === 0 ? (
        <p class="empty">
          No topics yet. <a href={href('topics')}>Create one</a> on the Topics page.
        </p>
      ) : null}
      <h2>Cluster</h2>
      {cluster.data ? (
        <table class="kv">
          <tbody>
            <tr>
              <th scope="row">version</th>
              <td data-field="version">{cluster.data.version}</td>
            </tr>
            <tr>
              <th scope="row">backend</th>
              <td>{cluster.data.backend}</td>
            </tr>
            {Object.entries(cluster.data.limits).map(([k, v]) => (
              <tr>
                <th scope="row">{k}</th>
                <td>{/Bytes$/.test(k) ? `${bytes(v)} (${v})` : v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : cluster.error ? null : (
        <Loading what="cluster" />
      )}
    </section>
  );
}
