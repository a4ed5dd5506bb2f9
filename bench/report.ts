// What every bench part hands back, and the one table npm run bench prints and writes into
// docs/benchmarks.md between <!-- bench:begin --> and <!-- bench:end -->.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';

export interface Result {
  what: string;
  figures: string;
  ratio: string;
  target: string;
  met: boolean;
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;

export function printTable(results: Result[]): void {
  // Colour only on a terminal: a piped or logged bench run gets plain text.
  const plain = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };
  const table = new Table({ head: ['benchmark', 'figures', 'ratio', 'target'], wordWrap: true, colWidths: [34, 46, 22, 14], ...plain });
  for (const r of results) table.push([r.what, r.figures, r.ratio, r.met ? r.target : `${r.target} (missed)`]);
  process.stdout.write(`${table.toString()}\n`);
}

export function writeBenchmarks(results: Result[], when: string): void {
  const file = join(__dirname, '..', 'docs', 'benchmarks.md');
  const text = readFileSync(file, 'utf8');
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${file} has no ${begin} ... ${end} block for the table`);
  const rows = results.map((r) => `| ${r.what} | ${r.figures} | **${r.ratio}** | ${r.target}${r.met ? '' : ' (missed)'} |`);
  const table = [
    `Measured by \`npm run bench\` on ${when} (${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}, ${cpus().length} cores):`,
    '',
    '| benchmark | figures | ratio | target |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
  writeFileSync(file, `${text.slice(0, i + begin.length)}\n${table}\n${text.slice(j)}`);
}
