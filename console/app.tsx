import { useEffect, useMemo, useState } from 'preact/hooks';
import { makeClient, storedToken, storeToken } from './api.ts';
import { ClientContext, href } from './hooks.ts';
import { GroupPage } from './pages/group.tsx';
import { GroupsPage } from './pages/groups.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { TopicPage } from './pages/topic.tsx';
import { TopicsPage } from './pages/topics.tsx';

/** `#/topics/orders/messages` → ['topics', 'orders', 'messages'] (names decoded). */
function routeOf(hash: string): string[] {
  return hash.replace(/^#\/?/, '').split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
}

export function useRoute(): string[] {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return routeOf(hash);
}


function TokenBox({ token, onChange }: { token: string; onChange(t: string): void }) {
  const [draft, setDraft] = useState(token);
  return (
    <form
      class="token"
      onSubmit={(e) => {
        e.preventDefault();
        onChange(draft.trim());
      }}
    >
      <label for="token-input">Token</label>
      <input
        id="token-input"
        type="password"
        autocomplete="off"
        placeholder={token === '' ? 'none (open server)' : 'saved'}
        value={draft}
        onInput={(e) => setDraft(e.currentTarget.value)}
      />
      <button type="submit">Save</button>
      {token !== '' ? (
        <button
          type="button"
          class="secondary"
          onClick={() => {
            setDraft('');
            onChange('');
          }}
        >
          Forget
        </button>
      ) : null}
    </form>
  );
}

export function App() {
  const [token, setToken] = useState(storedToken());
  const client = useMemo(() => makeClient(token), [token]);
  const route = useRoute();
  const [page = 'overview', name, tab] = route;
  const nav = [
    ['overview', 'Overview'],
    ['topics', 'Topics'],
    ['groups', 'Groups'],
  ] as const;
  let body;
  if (page === 'topics' && name !== undefined) body = <TopicPage key={name} topic={name} tab={tab ?? 'messages'} />;
  else if (page === 'topics') body = <TopicsPage />;
  else if (page === 'groups' && name !== undefined) body = <GroupPage key={name} group={name} />;
  else if (page === 'groups') body = <GroupsPage />;
  else body = <OverviewPage />;
  return (
    <ClientContext.Provider value={client}>
      <header class="top">
        <a class="brand" href="#/">
          Sluice
        </a>
        <nav aria-label="Main">
          {nav.map(([id, label]) => (
            <a href={href(id)} aria-current={page === id ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <TokenBox
          token={token}
          onChange={(t) => {
            storeToken(t);
            setToken(t);
          }}
        />
      </header>
      <main key={token}>{body}</main>
    </ClientContext.Provider>
  );
}
