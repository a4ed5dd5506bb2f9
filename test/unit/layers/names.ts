// One meaning per name: the type and class names that two folders both declare. Exported
// interfaces, type aliases, classes and enums count, and so do error classes a file keeps
// to itself (two private UsageErrors with different rules are two meanings of one name).
import * as ts from 'typescript';
import type { SourceFile } from './imports';

export interface Declaration {
  name: string;
  file: string;
}

/** Generated code mirrors the wire; tests and benchmarks are not the model a reader learns. */
export const NAMED_FOLDERS_SKIP: readonly string[] = ['proto/gen/', 'test/', 'bench/'];

const exported = (n: ts.Node): boolean => (ts.canHaveModifiers(n) ? (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword) : false);

export function declarations(f: SourceFile): Declaration[] {
  const src = ts.createSourceFile(f.path, f.text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const out: Declaration[] = [];
  for (const s of src.statements) {
    if (ts.isClassDeclaration(s) && s.name && (exported(s) || s.name.text.endsWith('Error'))) out.push({ name: s.name.text, file: f.path });
    else if ((ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) || ts.isEnumDeclaration(s)) && exported(s)) out.push({ name: s.name.text, file: f.path });
  }
  return out;
}

const folderOf = (file: string): string => file.slice(0, file.lastIndexOf('/'));

/** Names declared in more than one folder: name -> the files declaring it. */
export function sharedNames(files: readonly SourceFile[]): Map<string, string[]> {
  const byName = new Map<string, Declaration[]>();
  for (const f of files) {
    if (NAMED_FOLDERS_SKIP.some((p) => f.path.startsWith(p))) continue;
    for (const d of declarations(f)) byName.set(d.name, [...(byName.get(d.name) ?? []), d]);
  }
  const out = new Map<string, string[]>();
  for (const [name, ds] of byName) {
    if (new Set(ds.map((d) => folderOf(d.file))).size < 2) continue;
    out.set(name, ds.map((d) => d.file).sort());
  }
  return out;
}
