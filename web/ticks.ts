// How often the views redraw at any input rate: the table at most once per animation frame,
// the maps and the compliance view at most every MAP_INTERVAL_MS, and only when the deck
// changed since their last draw.
import { useEffect, useState } from 'preact/hooks';
import type { FlowDeck } from './state/flow_deck';

export const MAP_INTERVAL_MS = 500;

/** A number that changes at most once per frame while the deck changes. */
export function useFrameTick(deck: FlowDeck): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let seen = -1;
    let raf = 0;
    const loop = () => {
      if (deck.version !== seen) {
        seen = deck.version;
        setTick(seen);
      }
      raf = requestAnimationFrame(loop);
    };
    raf = requestAnimationFrame(loop);
    return () => cancelAnimationFrame(raf);
  }, [deck]);
  return tick;
}

/** A number that changes at most every MAP_INTERVAL_MS while the deck changes. */
export function useSlowTick(deck: FlowDeck): number {
  const [tick, setTick] = useState(deck.version);
  useEffect(() => {
    setTick(deck.version);
    const t = setInterval(() => setTick(deck.version), MAP_INTERVAL_MS);
    return () => clearInterval(t);
  }, [deck]);
  return tick;
}
