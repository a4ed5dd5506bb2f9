// The CLI reference (docs/cli.md) rendered from the commander tree itself: every command and
// subcommand, its arguments and its options with their defaults. Plain text in, Markdown out:
// no terminal width, no colour, so the same tree always gives the same bytes.
import { Help, type Argument, type Command, type Option } from 'commander';

const help = new Help();

/** `cillion scion decode`: a command's name with those of its parents. */
function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** GitHub's heading anchor for a heading made of lower-case words and spaces. */
const anchor = (heading: string): string => heading.toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-');

/** Help text as Markdown that shows it literally: no emphasis, links or HTML tags out of it. */
const prose = (text: string): string =>
  text.replace(/[\\`*_[\]]/g, '\\$&').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const cell = (text: string): string => prose(text).replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const code = (text: string): string => `\`${text}\``;

function defaultOf(o: Option): string {
  if (o.defaultValueDescription) return cell(o.defaultValueDescription);
  if (o.defaultValue === undefined) return '';
  return code(JSON.stringify(o.defaultValue));
}

function optionRow(o: Option): string {
  const notes = [
    o.argChoices ? `one of ${o.argChoices.map(code).join(', ')}` : '',
    o.mandatory ? 'required' : '',
    o.envVar ? `env ${code(o.envVar)}` : '',
  ].filter(Boolean);
  const description = [cell(o.description), ...(notes.length > 0 ? [`(${notes.join('; ')})`] : [])].join(' ');
  return `| ${code(o.flags.replace(/\|/g, '\\|'))} | ${description} | ${defaultOf(o)} |`;
}

function argumentRow(a: Argument): string {
  const shown = a.required ? `<${a.name()}${a.variadic ? '...' : ''}>` : `[${a.name()}${a.variadic ? '...' : ''}]`;
  const notes = [
    a.argChoices ? `one of ${a.argChoices.map(code).join(', ')}` : '',
    a.defaultValue !== undefined ? `default ${a.defaultValueDescription ?? code(JSON.stringify(a.defaultValue))}` : '',
  ].filter(Boolean);
  return `| ${code(shown)} | ${[cell(a.description), ...(notes.length > 0 ? [`(${notes.join('; ')})`] : [])].join(' ')} |`;
}

/** Every visible command below `root`, depth first, in the order they were added. */
function walk(root: Command): Command[] {
  return help.visibleCommands(root).filter((c) => c.name() !== 'help').flatMap((c) => [c, ...walk(c)]);
}

function section(cmd: Command): string[] {
  const lines = [`## ${fullName(cmd)}`, ''];
  if (cmd.description()) lines.push(prose(cmd.description()), '');
  lines.push('```', help.commandUsage(cmd), '```', '');
  const args = help.visibleArguments(cmd);
  if (args.length > 0) lines.push('| argument | description |', '| --- | --- |', ...args.map(argumentRow), '');
  const subcommands = help.visibleCommands(cmd).filter((c) => c.name() !== 'help');
  if (subcommands.length > 0) {
    lines.push('| subcommand | description |', '| --- | --- |');
    for (const c of subcommands) lines.push(`| [${fullName(c)}](#${anchor(fullName(c))}) | ${cell(c.summary() || c.description())} |`);
    lines.push('');
  }
  const options = help.visibleOptions(cmd).filter((o) => o.long !== '--help');
  if (options.length > 0) lines.push('| option | description | default |', '| --- | --- | --- |', ...options.map(optionRow), '');
  return lines;
}

/** docs/cli.md for the program `root`. */
export function renderCliReference(root: Command): string {
  const commands = walk(root);
  const lines = [
    '# CLI reference',
    '',
    '<!-- Generated from the command definitions by `npx tsx scripts/gen-cli-docs.ts`; do not edit by hand. -->',
    '',
    `${prose(root.description())}.`,
    '',
    'Every command also takes `-h, --help`. A bad invocation exits with code 2 and prints the usage.',
    '',
    ...commands.map((c) => `${'  '.repeat(fullName(c).split(' ').length - 2)}- [${fullName(c)}](#${anchor(fullName(c))})`),
    '',
    ...section(root),
    ...commands.flatMap(section),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}
