// What a validator reports instead of throwing: every problem found, each with the dotted
// field path Kubernetes itself would print ("spec.destinations[1].isdAS"), so one bad field
// never hides the next and a Valid=False condition can name them all.

export interface Problem {
  /** Field path from the resource root; '' for the document as a whole. */
  path: string;
  message: string;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

export function fieldPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  // Keys that are not plain identifiers (label keys, "a.b/c") are quoted so the path stays unambiguous.
  const part = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  return parent === '' ? part : part.startsWith('[') ? `${parent}${part}` : `${parent}.${part}`;
}

export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
}

/** Collects problems while a validator walks an untrusted object. */
export class Problems {
  readonly list: Problem[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  get count(): number {
    return this.list.length;
  }

  /** The typed value when no problem was recorded, else the problems. */
  result<T>(value: T | undefined): Validation<T> {
    if (this.list.length === 0 && value !== undefined) return { ok: true, value };
    return { ok: false, problems: this.list.length ? this.list : [{ path: '', message: 'invalid' }] };
  }
}
