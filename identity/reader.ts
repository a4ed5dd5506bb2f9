// The allocation as agents (and the catalogue exchange) see it: the operator's state file,
// read only. It never allocates and never writes; refresh() rereads the file when it changed,
// and a file that cannot be read keeps the last good allocation, so a half-broken volume
// does not unprogram every pod.
import { statSync, unwatchFile, watchFile } from 'node:fs';
import type { Identity, IdentityView } from './allocator';
import { IdentityIndex } from './identity_index';
import { readIdentityState } from './state_file';

export type RefreshResult = { changed: boolean; error?: Error };

export class IdentityReader implements IdentityView {
  private index = new IdentityIndex();
  private seen = '';

  constructor(
    readonly file: string,
    readonly clusterId: number,
  ) {}

  /** Rereads the file if it changed since the last read; missing means nothing allocated yet. */
  refresh(): RefreshResult {
    let stamp: string;
    try {
      const st = statSync(this.file);
      stamp = `${st.ino} ${st.size} ${st.mtimeMs}`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return { changed: false, error: e as Error };
      stamp = 'none';
    }
    if (stamp === this.seen) return { changed: false };
    try {
      const read = readIdentityState(this.file, this.clusterId);
      // An agent never upgrades a version 1 file: that is the operator's write to make.
      if (read?.upgraded) return { changed: false, error: new Error(`${this.file} is from before cluster ids: the operator upgrades it when it starts`) };
      const identities = read?.state.identities ?? [];
      const index = new IdentityIndex();
      for (const s of identities) index.add({ id: s.id, labels: s.labels });
      this.index = index;
      this.seen = stamp;
      return { changed: true };
    } catch (e) {
      return { changed: false, error: e as Error };
    }
  }

  /** Polls the file (it is replaced by rename, which a stat sees) and calls `onChange` after each reread. */
  watch(onChange: () => void, onError: (e: Error) => void, intervalMs = 1000): () => void {
    let lastError = '';
    const check = (): void => {
      const r = this.refresh();
      if (r.error && r.error.message !== lastError) onError(r.error);
      lastError = r.error?.message ?? '';
      if (r.changed) onChange();
    };
    watchFile(this.file, { interval: intervalMs, persistent: false }, check);
    return () => unwatchFile(this.file, check);
  }

  lookupByLabels(namespace: string, podLabels: Readonly<Record<string, string>>): Identity | undefined {
    return this.index.lookupByLabels(namespace, podLabels);
  }

  lookupById(id: number): Identity | undefined {
    return this.index.lookupById(id);
  }

  all(): Identity[] {
    return this.index.all();
  }
}
