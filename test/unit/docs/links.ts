// Relative links in Markdown, checked as GitHub renders them: the file must exist and, for
// a `#anchor` into a Markdown file, some heading of it must produce that anchor.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface BrokenLink {
  file: string;
  line: number;
  target: string;
  problem: string;
}

/** A heading's anchor as GitHub makes it: lower case, punctuation gone, each space a '-'. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/[`*]/g, '');
  return text.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** Markdown lines outside fenced code blocks, with inline code spans blanked out. */
function proseLines(markdown: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((raw, i) => {
    const opener = /^\s*(```+|~~~+)/.exec(raw);
    if (opener) {
      if (fence === undefined) fence = opener[1][0];
      else if (opener[1][0] === fence) fence = undefined;
      return;
    }
    if (fence === undefined) out.push({ text: raw.replace(/(`+)[^`]*?\1/g, ''), line: i + 1 });
  });
  return out;
}

/** Every anchor a Markdown file offers: its headings (repeats get -1, -2, ...) and HTML ids. */
export function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const opener = /^\s*(```+|~~~+)/.exec(line);
    if (opener) {
      if (fence === undefined) fence = opener[1][0];
      else if (opener[1][0] === fence) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const base = slug(heading[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      found.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) found.add(m[1]);
  }
  return found;
}

/** The targets of inline links, images and reference definitions in one file. */
function targets(markdown: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  for (const { text, line } of proseLines(markdown)) {
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1], line });
    const definition = /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(text);
    if (definition) out.push({ target: definition[1], line });
  }
  return out;
}

/** Every broken relative link in `files` (paths relative to `root`). */
export function checkLinks(root: string, files: string[]): BrokenLink[] {
  const broken: BrokenLink[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsOf = (path: string): Set<string> => {
    let a = anchorCache.get(path);
    if (!a) anchorCache.set(path, (a = anchors(readFileSync(path, 'utf8'))));
    return a;
  };
  for (const file of files) {
    const source = join(root, file);
    for (const { target, line } of targets(readFileSync(source, 'utf8'))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const hash = target.indexOf('#');
      const pathPart = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
      const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
      const resolved = pathPart === '' ? source : resolve(dirname(source), pathPart);
      const report = (problem: string) => broken.push({ file, line, target, problem });
      if (relative(root, resolved).startsWith('..')) {
        report('points outside the repository');
        continue;
      }
      if (!existsSync(resolved)) {
        report(`${relative(root, resolved)} does not exist`);
        continue;
      }
      if (anchor === undefined || !resolved.endsWith('.md') || statSync(resolved).isDirectory()) continue;
      if (!anchorsOf(resolved).has(anchor)) report(`no heading of ${relative(root, resolved)} gives #${anchor}`);
    }
  }
  return broken;
}

/** README.md and every Markdown file under docs/, relative to `root`. */
export function documentationFiles(root: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
    );
  return ['README.md', ...(existsSync(join(root, 'docs')) ? walk('docs') : [])].sort();
}
