import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { buildProgram } from '../../../cli/program';
import { renderCliReference } from '../../../cli/reference';

const FILE = join(__dirname, '..', '..', '..', 'docs', 'cli.md');
const REGENERATE = 'npx tsx scripts/gen-cli-docs.ts';

/** Undefined when the two agree; otherwise the first line that differs and what to run. */
function drift(committed: string, generated: string): string | undefined {
  if (committed === generated) return undefined;
  const a = committed.split('\n');
  const b = generated.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [
    `docs/cli.md is not what the command definitions give: run \`${REGENERATE}\` and commit the result.`,
    `first difference at line ${i + 1}:`,
    `  docs/cli.md: ${a[i] ?? '(end of file)'}`,
    `  generated:   ${b[i] ?? '(end of file)'}`,
  ].join('\n');
}

describe('docs/cli.md, the CLI reference', function () {
  this.timeout(60_000);
  let generated: string;
  before(() => {
    generated = renderCliReference(buildProgram());
  });

  it('is what the command definitions generate', () => {
    const problem = drift(readFileSync(FILE, 'utf8'), generated);
    if (problem) assert.fail(problem);
  });

  it('covers every command and subcommand, with options and defaults', () => {
    const names = (c: Command, prefix: string): string[] => c.commands.flatMap((s) => [`${prefix} ${s.name()}`, ...names(s, `${prefix} ${s.name()}`)]);
    const all = names(buildProgram(), 'cillion');
    assert.ok(all.includes('cillion scion decode') && all.length > 15, all.join(', '));
    for (const name of all) assert.match(generated, new RegExp(`^## ${name}$`, 'm'), name);
    assert.match(generated, /^\| `--server <address>` \| Observer API address .*\(env `CILLION_SERVER`\) \| `"127\.0\.0\.1:4245"` \|$/m);
  });

  it('depends on nothing of this host', () => {
    // The two defaults computed from the host are shown by what they are, not by this host's value.
    assert.match(generated, /^\| `--name <name>` \| this relay's name .* \| the host name \|$/m);
    assert.match(generated, /^\| `--identity <id>` \| with --kubernetes: this replica in the Lease \| host name and pid \|$/m);
    assert.ok(!generated.includes(hostname()) || hostname().length < 4, `the host name ${hostname()} appears`);
    assert.doesNotMatch(generated, /\x1b\[/, 'no terminal colours');
    assert.equal(renderCliReference(buildProgram()), generated);
  });

  it('notices a changed option, and says what to run', () => {
    const program = buildProgram();
    program.commands.find((c) => c.name() === 'status')!.addOption(new Option('--brand-new <n>', 'an option the file lacks').default(3));
    const problem = drift(generated, renderCliReference(program));
    assert.ok(problem, 'a new option must make the reference differ');
    assert.match(problem, /run `npx tsx scripts\/gen-cli-docs\.ts`/);
    assert.match(problem, /--brand-new <n>/);
  });
});
