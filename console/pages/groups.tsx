import { Empty, ErrorBox, Loading } from '../components.tsx';
import { href, useAsync, useClient } from '../hooks.ts';

export function GroupsPage() {
  const sluice = useClient();
  const groups = useAsync(
    async () => {
      const list = await sluice.admin.listGroups();
      return Promise.all(
        list.map(async (g) => {
          const lag = await sluice.admin.groupLag(g.group).catch(() => undefined);
          return { ...g, lag: lag?.reduce((s, r) => s + (r.lag ?? 0), 0) };
        }),
      );
    },
    [sluice],
    5_000,
  );
  return (
    <section>
      <h1>Consumer groups</h1>
      <ErrorBox error={groups.error} what="listing groups" />
      {groups.data === undefined ? (
        groups.error ? null : <Loading what="groups" />
      ) : groups.data.length === 0 ? (
        <Empty>
          No consumer groups yet. A group appears when a consumer joins or commits, e.g.{' '}
          <code>npx sluice consume TOPIC --group NAME --from-beginning</code>.
        </Empty>
      ) : (
        <div class="scroll">
          <table class="grid" id="groups-table">
            <thead>
              <tr>
                <th scope="col">group</th>
                <th scope="col">state</th>
                <th scope="col" class="num">members</th>
                <th scope="col" class="num">total lag</th>
              </tr>
            </thead>
            <tbody>
              {groups.data.map((g) => (
                <tr data-group={g.group}>
                  <td>
                    <a href={href('groups', g.group)}>{g.group}</a>
                  </td>
                  <td>{g.state}</td>
                  <td class="num">{g.members}</td>
                  <td class="num" data-field="lag">{g.lag ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
