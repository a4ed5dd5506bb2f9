// The header: the stream's state (paused while the table is paused), its error with a way
// to start it again, and the certificate name and roles the relay mapped this browser to.
import type { StreamState } from '../api/flow_stream';
import type { Whoami } from '../api/http';
import type { FlowDeck } from '../state/flow_deck';
import { useFrameTick } from '../ticks';

interface Props {
  deck: FlowDeck;
  stream: { state: StreamState; error?: string };
  who: Whoami | null;
  whoError: string;
  /** Starts the stream again after it ended or failed; absent while the filters are bad. */
  onReconnect?: () => void;
}

export function Header({ deck, stream, who, whoError, onReconnect }: Props) {
  useFrameTick(deck);
  const state = stream.state === 'live' && deck.paused ? 'paused' : stream.state;
  return (
    <header class="header">
      <span class="brand">Cillion</span>
      {who && <span class="relay">{who.relay || 'relay'}{who.cluster ? ` · ${who.cluster}` : ''}</span>}
      <span data-testid="stream-state" data-state={state} class={`state state-${state}`}>
        {state}
      </span>
      {stream.state === 'error' && stream.error && (
        <span data-testid="stream-error" class="stream-error">
          {stream.error}
        </span>
      )}
      {(stream.state === 'error' || stream.state === 'ended') && onReconnect && (
        <button class="reconnect" onClick={onReconnect}>
          Reconnect
        </button>
      )}
      {deck.missed > 0 && (
        <span data-testid="stream-missed" data-missed={deck.missed} class="lost" title="the relay keeps a short queue for this page so that it stays near live; what did not fit is stored, not shown">
          {deck.missed.toLocaleString('en')} flows not shown: this page could not keep up; they are stored
        </span>
      )}
      {deck.lostEvents > 0 && <span class="lost" title="events the relay or the nodes reported lost">lost {deck.lostEvents}</span>}
      <span class="spacer" />
      <span data-testid="whoami" class="whoami" title={who?.tls ? 'TLS client certificate' : 'plaintext: every role'}>
        {who ? `${who.name || 'anonymous'} (${who.roles.join(', ') || 'no roles'})` : whoError ? `whoami: ${whoError}` : '…'}
      </span>
    </header>
  );
}
