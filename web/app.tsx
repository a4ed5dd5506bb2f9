// The page: header (stream state, who the relay thinks we are), navigation, the filter bar,
// and the view the hash names. One GetFlows stream feeds every view; it restarts (the old
// one aborted) whenever the filters change.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { FlagError } from '../observer/filters/flags';
import { flowsRequest } from './api/flows_request';
import { openFlowStream, type StreamState } from './api/flow_stream';
import { fetchWhoami, type Whoami } from './api/http';
import { formatHash, parseHash, VIEWS, type HashRoute, type ViewName } from './route';
import { DEFAULT_LIMITS, FlowDeck } from './state/flow_deck';
import { FilterBar } from './views/filter_bar';
import { Header } from './views/header';
import { ServiceMapView } from './views/service_map';
import { WorldMapView } from './views/world_map';
import { FlowsView } from './views/flows';
import { ComplianceView } from './views/compliance';

const TITLES: Record<ViewName, string> = { map: 'Service map', world: 'World map', flows: 'Flows', compliance: 'Compliance' };

function useRoute(): HashRoute {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function App() {
  const route = useRoute();
  const [who, setWho] = useState<Whoami | null>(null);
  const [whoError, setWhoError] = useState('');
  const [stream, setStream] = useState<{ state: StreamState; error?: string }>({ state: 'connecting' });
  const [filterError, setFilterError] = useState('');
  const filterKey = JSON.stringify(route.filters);
  // Bumped by the header's Reconnect: a new stream (and deck) with the same filters.
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    fetchWhoami().then(setWho, (e: Error) => setWhoError(e.message));
  }, []);

  // A new deck per filter set: what the page holds always matches the filters shown.
  const deck = useMemo(() => new FlowDeck(who?.cluster ?? '', DEFAULT_LIMITS), [filterKey, who?.cluster, attempt]);

  useEffect(() => {
    if (!who && !whoError) return;
    let request;
    try {
      request = flowsRequest(route.filters, DEFAULT_LIMITS.ring, new Date());
      setFilterError('');
    } catch (e) {
      if (!(e instanceof FlagError)) throw e;
      setFilterError(e.message);
      setStream({ state: 'error', error: e.message });
      return;
    }
    return openFlowStream(request, {
      flows: (batch, lost, missed) => {
        deck.lostEvents += lost;
        deck.missed += missed;
        deck.add(batch);
      },
      state: (state, error) => setStream({ state, error }),
    });
  }, [deck, who, whoError]);

  const applyFilters = (filters: [string, string][]) => {
    location.hash = formatHash({ view: route.view, filters });
  };

  return (
    <div class="app">
      <Header deck={deck} stream={stream} who={who} whoError={whoError} onReconnect={filterError ? undefined : () => setAttempt(attempt + 1)} />
      <nav class="nav">
        {VIEWS.map((v) => (
          <a key={v} data-testid={`nav-${v}`} class={v === route.view ? 'active' : ''} href={formatHash({ view: v, filters: route.filters })}>
            {TITLES[v]}
          </a>
        ))}
      </nav>
      <FilterBar route={route} error={filterError} onApply={applyFilters} onError={setFilterError} />
      <main class="main">
        {route.view === 'map' && <ServiceMapView deck={deck} />}
        {route.view === 'world' && <WorldMapView deck={deck} />}
        {route.view === 'flows' && <FlowsView deck={deck} />}
        {route.view === 'compliance' && <ComplianceView deck={deck} who={who} />}
      </main>
    </div>
  );
}
