// The sequence language of SCION path policies: hop predicates joined by juxtaposition,
// with postfix ?, + and *, alternation | and parentheses. Like pathpol, a sequence compiles
// to one regular expression over the path written as "ISD-AS#in,out " per AS, so the two
// agree on every path. Precedence follows pathpol's grammar: postfix operators bind
// tightest, then |, then concatenation ("a b|c d" is a, then b or c, then d).
import { formatIA } from '../isdas';
import { PathPolicyError } from './errors';
import type { PolicyPath } from './path';

const ISD_ANY = '([0-9]+)';
const AS_ANY = '(([0-9]+)|([0-9a-fA-F]+:[0-9a-fA-F]+:[0-9a-fA-F]+))';
const IF_ANY = '([0-9]+)';

type TokenKind = 'ZERO' | 'NUM' | 'AS' | '#' | ',' | '?' | '+' | '*' | '|' | '(' | ')';
interface Token {
  kind: TokenKind;
  /** Regular-expression text the token stands for (AS tokens without their dash). */
  text: string;
  at: number;
}

const HEXA = '(?:[1-9a-fA-F][0-9a-fA-F]*|0)';
const AS_HEX = new RegExp(`^-(${HEXA}:${HEXA}:${HEXA})`);
const AS_DEC = /^-([1-9][0-9]*|0)/;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if ('#,?+*|()'.includes(ch)) {
      tokens.push({ kind: ch as TokenKind, text: ch, at: i });
      i++;
      continue;
    }
    if (ch === '-') {
      const m = AS_HEX.exec(src.slice(i)) ?? AS_DEC.exec(src.slice(i));
      if (m === null) throw new PathPolicyError('BAD_SEQUENCE', `bad AS at column ${i} of "${src}"`);
      tokens.push({ kind: 'AS', text: m[1] === '0' ? AS_ANY : m[1], at: i });
      i += m[0].length;
      continue;
    }
    const num = /^(0|[1-9][0-9]*)/.exec(src.slice(i));
    if (num === null) throw new PathPolicyError('BAD_SEQUENCE', `unexpected "${ch}" at column ${i} of "${src}"`);
    tokens.push({ kind: num[1] === '0' ? 'ZERO' : 'NUM', text: num[1], at: i });
    i += num[1].length;
  }
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(
    private readonly src: string,
    private readonly tokens: Token[],
  ) {}

  parse(): string {
    const re = this.concatenation();
    if (this.pos < this.tokens.length) this.fail(`unexpected "${this.tokens[this.pos].text}"`);
    return re;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private fail(msg: string): never {
    const at = this.peek()?.at ?? this.src.length;
    throw new PathPolicyError('BAD_SEQUENCE', `${msg} at column ${at} of "${this.src}"`);
  }

  private startsOperand(): boolean {
    const k = this.peek()?.kind;
    return k === '(' || k === 'ZERO' || k === 'NUM';
  }

  private concatenation(): string {
    let re = this.alternation();
    while (this.startsOperand()) re = `(${re}${this.alternation()})`;
    return re;
  }

  private alternation(): string {
    let re = this.postfix();
    while (this.peek()?.kind === '|') {
      this.pos++;
      re = `(${re}|${this.postfix()})`;
    }
    return re;
  }

  private postfix(): string {
    let re = this.operand();
    for (let k = this.peek()?.kind; k === '?' || k === '+' || k === '*'; k = this.peek()?.kind) {
      this.pos++;
      re = `(${re})${k}`;
    }
    return re;
  }

  private operand(): string {
    const t = this.peek();
    if (t?.kind === '(') {
      this.pos++;
      const re = this.concatenation();
      if (this.peek()?.kind !== ')') this.fail('missing ")"');
      this.pos++;
      return re;
    }
    if (t?.kind !== 'ZERO' && t?.kind !== 'NUM') this.fail(t ? `unexpected "${t.text}"` : 'unexpected end');
    return `(${this.hop()} +)`;
  }

  private hop(): string {
    const isd = this.next().kind === 'ZERO' ? ISD_ANY : this.tokens[this.pos - 1].text;
    if (this.peek()?.kind !== 'AS') return `(${isd}-${AS_ANY}#${IF_ANY},${IF_ANY})`;
    const as = this.next().text;
    if (this.peek()?.kind !== '#') return `(${isd}-${as}#${IF_ANY},${IF_ANY})`;
    this.pos++;
    const first = this.iface();
    if (this.peek()?.kind !== ',') return `(${isd}-${as}#((${IF_ANY},${first})|(${first},${IF_ANY})))`;
    this.pos++;
    return `(${isd}-${as}#${first},${this.iface()})`;
  }

  private iface(): string {
    const t = this.next();
    if (t.kind === 'ZERO') return IF_ANY;
    if (t.kind !== 'NUM') this.fail(`expected an interface number, found "${t.text}"`);
    return t.text;
  }

  private next(): Token {
    const t = this.peek();
    if (t === undefined) this.fail('unexpected end');
    this.pos++;
    return t;
  }
}

/** The path as the sequence sees it: "ISD-AS#in,out " per AS, 0 for the missing ends. */
export function sequenceString(path: PolicyPath): string {
  const ifs = path.interfaces;
  if (ifs.length === 0) return '';
  if (ifs.length % 2 !== 0) throw new PathPolicyError('BAD_SEQUENCE', `path has an odd number (${ifs.length}) of interfaces`);
  const hops = [`${formatIA(ifs[0].ia)}#0,${ifs[0].ifid}`];
  for (let i = 1; i < ifs.length - 1; i += 2) hops.push(`${formatIA(ifs[i].ia)}#${ifs[i].ifid},${ifs[i + 1].ifid}`);
  hops.push(`${formatIA(ifs[ifs.length - 1].ia)}#${ifs[ifs.length - 1].ifid},0`);
  return `${hops.join(' ')} `;
}

export class Sequence {
  private readonly re: RegExp | null;

  constructor(readonly source: string) {
    this.re = source.trim() === '' ? null : new RegExp(`^${new Parser(source, tokenize(source)).parse()}$`);
  }

  /** The compiled regular expression, for debugging policies. */
  get regex(): string {
    return this.re?.source ?? '';
  }

  matches(path: PolicyPath): boolean {
    if (this.re === null) return true;
    if (path.interfaces.length % 2 !== 0) return false;
    return this.re.test(sequenceString(path));
  }

  filter<P extends PolicyPath>(paths: readonly P[]): P[] {
    return paths.filter((p) => this.matches(p));
  }
}
