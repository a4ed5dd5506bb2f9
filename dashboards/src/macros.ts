// What Grafana and the ClickHouse plugin do to a panel's SQL before ClickHouse sees it, so
// tests can run the dashboards' queries for a given time range and variable selection:
//   1. the plugin's frontend replaces $__conditionalAll(cond, $var) with 1=1 when $var is
//      All (or empty), else with cond;
//   2. Grafana interpolates ${var} and $var; the plugin formats a multi-value (and All
//      without a custom all value, which becomes every option) as 'a','b';
//   3. the plugin's backend expands its time macros ($__timeFilter(col), $__fromTime, ...).
// An unknown variable or macro is an error here, where Grafana would leave it in the SQL.

export const ALL = Symbol('All');

export interface Variable {
  /** The selection: one value, several, or All. */
  current: string | string[] | typeof ALL;
  /** What All stands for: every option the variable's own query returned. */
  options?: string[];
}

export interface ExpandContext {
  from: Date;
  to: Date;
  /** Grafana's $__interval for the panel, in milliseconds. */
  intervalMs: number;
  variables: Record<string, Variable>;
}

/** The index just past the ")" that closes the "(" at `open`, skipping quoted text. */
function closing(sql: string, open: number): number {
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    const ch = sql[i];
    if (ch === "'" || ch === '`' || ch === '"') {
      for (i++; i < sql.length && sql[i] !== ch; i++) if (sql[i] === '\\') i++;
    } else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced parentheses after: ${sql.slice(open, open + 60)}`);
}

/** The top-level, comma-separated arguments between the parentheses at [open, end). */
function splitArgs(sql: string, open: number, end: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open + 1; i < end - 1; i++) {
    const ch = sql[i];
    if (ch === "'" || ch === '`' || ch === '"') {
      for (i++; i < end && sql[i] !== ch; i++) if (sql[i] === '\\') i++;
    } else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      args.push(sql.slice(start, i).trim());
      start = i + 1;
    }
  }
  args.push(sql.slice(start, end - 1).trim());
  return args;
}

function variable(ctx: ExpandContext, name: string): Variable {
  const v = ctx.variables[name];
  if (!v) throw new Error(`the SQL uses $${name}, which is no variable of the dashboard`);
  return v;
}

function isAllOrEmpty(v: Variable): boolean {
  return v.current === ALL || v.current === '' || (Array.isArray(v.current) && v.current.length === 0);
}

function conditionalAll(sql: string, ctx: ExpandContext): string {
  const macro = '$__conditionalAll';
  for (let at = sql.lastIndexOf(`${macro}(`); at >= 0; at = sql.lastIndexOf(`${macro}(`)) {
    const open = at + macro.length;
    const end = closing(sql, open);
    const args = splitArgs(sql, open, end);
    if (args.length !== 2) throw new Error(`$__conditionalAll takes 2 arguments, got ${args.length}`);
    const ref = /^\$\{?(\w+)\}?$/.exec(args[1]);
    if (!ref) throw new Error(`$__conditionalAll's second argument must be a plain variable, not ${args[1]}`);
    const phrase = isAllOrEmpty(variable(ctx, ref[1])) ? '1=1' : args[0];
    sql = sql.slice(0, at) + phrase + sql.slice(end);
  }
  return sql;
}

function format(v: Variable): string {
  const values = v.current === ALL ? (v.options ?? []) : v.current;
  return Array.isArray(values) ? `'${values.join("','")}'` : values;
}

function templateVariables(sql: string, ctx: ExpandContext): string {
  return sql.replace(/\$\{(\w+)(:\w+)?\}|\$(\w+)/g, (whole, braced: string | undefined, spec: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    if (name.startsWith('__')) return whole;
    if (spec) throw new Error(`\${${name}${spec}}: format specifiers are not used by these dashboards`);
    return format(variable(ctx, name));
  });
}

const dateTime = (d: Date) => `toDateTime(${Math.floor(d.getTime() / 1000)})`;
const dateTime64 = (d: Date) => `fromUnixTimestamp64Milli(${d.getTime()})`;
const date = (d: Date) => `toDate('${d.toISOString().slice(0, 10)}')`;

type Macro = (ctx: ExpandContext, args: string[]) => string;

function oneArg(name: string, f: (ctx: ExpandContext, col: string) => string): Macro {
  return (ctx, args) => {
    if (args.length !== 1) throw new Error(`$__${name} takes 1 argument, got ${args.length}`);
    return f(ctx, args[0]);
  };
}

const seconds = (ctx: ExpandContext) => Math.max(Math.floor(ctx.intervalMs / 1000), 1);

/** The plugin backend's macros (pkg/macros), as it expands them. */
const MACROS: Record<string, Macro> = {
  fromTime: (ctx) => dateTime(ctx.from),
  toTime: (ctx) => dateTime(ctx.to),
  fromTime_ms: (ctx) => dateTime64(ctx.from),
  toTime_ms: (ctx) => dateTime64(ctx.to),
  timeFilter: oneArg('timeFilter', (ctx, c) => `${c} >= ${dateTime(ctx.from)} AND ${c} <= ${dateTime(ctx.to)}`),
  timeFilter_ms: oneArg('timeFilter_ms', (ctx, c) => `${c} >= ${dateTime64(ctx.from)} AND ${c} <= ${dateTime64(ctx.to)}`),
  dateFilter: oneArg('dateFilter', (ctx, c) => `${c} >= ${date(ctx.from)} AND ${c} <= ${date(ctx.to)}`),
  timeFrom: oneArg('timeFrom', (ctx, c) => `${c} >= ${dateTime(ctx.from)}`),
  timeTo: oneArg('timeTo', (ctx, c) => `${c} <= ${dateTime(ctx.to)}`),
  timeInterval: oneArg('timeInterval', (ctx, c) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${seconds(ctx)} second)`),
  timeInterval_ms: oneArg('timeInterval_ms', (ctx, c) => `toStartOfInterval(toDateTime64(${c}, 3), INTERVAL ${Math.max(ctx.intervalMs, 1)} millisecond)`),
  interval_s: (ctx) => String(seconds(ctx)),
};

function backendMacros(sql: string, ctx: ExpandContext): string {
  let out = '';
  let last = 0;
  const re = /\$__(\w+)/g;
  for (let m = re.exec(sql); m; m = re.exec(sql)) {
    const macro = MACROS[m[1]];
    if (!macro) throw new Error(`$__${m[1]} is no macro of the ClickHouse plugin`);
    let end = m.index + m[0].length;
    let args: string[] = [];
    if (sql[end] === '(') {
      const close = closing(sql, end);
      args = splitArgs(sql, end, close);
      end = close;
    }
    out += sql.slice(last, m.index) + macro(ctx, args);
    last = end;
    re.lastIndex = end;
  }
  return out + sql.slice(last);
}

/** The SQL ClickHouse receives for this panel query, time range and variable selection. */
export function expandSql(sql: string, ctx: ExpandContext): string {
  return backendMacros(templateVariables(conditionalAll(sql, ctx), ctx), ctx);
}

/** Names of the template variables the SQL refers to (macros excluded). */
export function variablesUsed(sql: string): string[] {
  const names = new Set<string>();
  for (const m of sql.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g)) {
    const name = m[1] ?? m[2];
    if (!name.startsWith('__')) names.add(name);
  }
  return [...names].sort();
}
