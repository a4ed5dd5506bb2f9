// The filter bar: one field per observe flag the page offers, applied together (the hash
// changes, the stream restarts). A value observe would refuse is shown, not applied.
import { useEffect, useState } from 'preact/hooks';
import { FlagError, GEOFENCE_VERDICT_WORDS } from '../../observer/filters/flags';
import { flowsRequest } from '../api/flows_request';
import { FILTER_KEYS, filterValue, type FilterKey, type HashRoute } from '../route';

const TEXT: { key: FilterKey; label: string; placeholder: string }[] = [
  { key: 'namespace', label: 'namespace', placeholder: 'shop' },
  { key: 'pod', label: 'pod', placeholder: '[ns/]pod' },
  { key: 'label', label: 'label', placeholder: 'app=billing' },
  { key: 'through-ia', label: 'through AS', placeholder: '64-2:0:10' },
  { key: 'through-country', label: 'through country', placeholder: 'US' },
  { key: 'through-sid', label: 'through SID', placeholder: 'fc00:0:3::/48' },
  { key: 'geofence', label: 'geofence', placeholder: '[ns/]name' },
  { key: 'since', label: 'since', placeholder: '15m or RFC 3339' },
  { key: 'until', label: 'until', placeholder: '(live)' },
];
const VERDICTS = ['FORWARDED', 'DROPPED', 'ERROR', 'AUDIT', 'REDIRECTED', 'TRACED', 'TRANSLATED'];
const FENCE_VERDICTS = Object.keys(GEOFENCE_VERDICT_WORDS);
/** observe's --path-type words. */
const PATH_TYPES = ['scion', 'srv6'];

interface Props {
  route: HashRoute;
  error: string;
  onApply(filters: [string, string][]): void;
  onError(message: string): void;
}

const formOf = (route: HashRoute): Record<FilterKey, string> =>
  Object.fromEntries(FILTER_KEYS.map((k) => [k, filterValue(route, k)])) as Record<FilterKey, string>;

export function FilterBar({ route, error, onApply, onError }: Props) {
  const [form, setForm] = useState(() => formOf(route));
  const routeKey = JSON.stringify(route.filters);
  useEffect(() => setForm(formOf(route)), [routeKey]);

  const set = (k: FilterKey) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value.trim() });
  const apply = (e: Event) => {
    e.preventDefault();
    // Keys the bar does not edit (typed into the hash by hand) stay as they are.
    const others = route.filters.filter(([k]) => !(FILTER_KEYS as readonly string[]).includes(k));
    const mine = FILTER_KEYS.filter((k) => form[k] !== '').map((k): [string, string] => [k, form[k]]);
    const filters = [...mine, ...others];
    try {
      flowsRequest(filters, 1, new Date());
    } catch (err) {
      if (err instanceof FlagError) return onError(err.message);
      throw err;
    }
    onError('');
    onApply(filters);
  };

  return (
    <form class="filters" onSubmit={apply}>
      {TEXT.map(({ key, label, placeholder }) => (
        <label key={key}>
          <span>{label}</span>
          <input data-testid={`filter-${key}`} value={form[key]} placeholder={placeholder} onInput={set(key)} />
        </label>
      ))}
      <label>
        <span>verdict</span>
        <select data-testid="filter-verdict" value={form.verdict} onChange={set('verdict')}>
          <option value="">any</option>
          {VERDICTS.map((v) => <option key={v} value={v}>{v}</option>)}
        </select>
      </label>
      <label>
        <span>geofence verdict</span>
        <select data-testid="filter-geofence-verdict" value={form['geofence-verdict']} onChange={set('geofence-verdict')}>
          <option value="">any</option>
          {FENCE_VERDICTS.map((v) => <option key={v} value={v}>{v}</option>)}
        </select>
      </label>
      <label>
        <span>path type</span>
        <select data-testid="filter-path-type" value={form['path-type']} onChange={set('path-type')}>
          <option value="">any</option>
          {PATH_TYPES.map((v) => <option key={v} value={v}>{v}</option>)}
        </select>
      </label>
      <button type="submit" data-testid="filter-apply">Apply</button>
      {error && <span data-testid="filter-error" class="filter-error">{error}</span>}
    </form>
  );
}
