// Reads the layout out of the C header the way the compiler sees it: clang compiles the
// header alone for the BPF target with one global of every struct and enum it defines, and
// bpftool dumps the BTF clang emitted; integer #defines come from clang's preprocessor.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LayoutError, type AbiLayout, type StructLayout } from './model';

export interface ExtractOptions {
  /** The C header; its structs, enums and #defines named cil_* / CIL_* are the layout. */
  header: string;
  clang?: string;
  bpftool?: string;
}

interface BtfType {
  id: number;
  kind: string;
  name?: string;
  size?: number;
  type_id?: number;
  nr_elems?: number;
  members?: Array<{ name: string; type_id: number; bits_offset: number; bitfield_size?: number }>;
  values?: Array<{ name: string; val: number }>;
}

// The header takes its fixed-width types from vmlinux.h in the programs and from
// <linux/types.h> in user space; the same fundamental types here keep it self-contained.
const PRELUDE = `#define __VMLINUX_H__
typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
`;

function run(tool: string, args: string[], what: string): string {
  try {
    return execFileSync(tool, args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new LayoutError('TOOL_MISSING', `${tool} is not installed (needed to ${what})`);
    throw new LayoutError('COMPILE_FAILED', `${tool} failed to ${what}: ${(err.stderr ?? err.message).trim()}`);
  }
}

/** The names of the structs and enums the header defines (not merely mentions). */
function definedTypes(source: string): { structs: string[]; enums: string[] } {
  const names = (kind: string) => [...source.matchAll(new RegExp(`^${kind}\\s+(cil_\\w+)\\s*\\{`, 'gm'))].map((m) => m[1]);
  return { structs: names('struct'), enums: names('enum') };
}

function integer(text: string): number | null {
  const t = text.trim().replace(/^\((.*)\)$/, '$1').replace(/[uUlL]+$/, '');
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t, 16);
  if (/^-?\d+$/.test(t)) return parseInt(t, 10);
  return null;
}

export function extractLayout(opts: ExtractOptions): AbiLayout {
  const clang = opts.clang ?? process.env.CLANG ?? 'clang';
  const bpftool = opts.bpftool ?? process.env.BPFTOOL ?? 'bpftool';
  const header = resolve(opts.header);
  const { structs, enums } = definedTypes(readFileSync(header, 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'cillion-abi-'));
  try {
    const unit = join(dir, 'layout.c');
    const object = join(dir, 'layout.o');
    writeFileSync(
      unit,
      `${PRELUDE}#include "${header}"\n` +
        structs.map((s, i) => `struct ${s} cil_layout_s${i};\n`).join('') +
        enums.map((e, i) => `enum ${e} cil_layout_e${i};\n`).join(''),
    );
    run(clang, ['-target', 'bpf', '-g', '-O2', '-c', unit, '-o', object], `compile ${opts.header}`);
    const macros = run(clang, ['-target', 'bpf', '-dM', '-E', '-D__VMLINUX_H__', header], `preprocess ${opts.header}`);
    return { ...objectLayout(object, { structs, enums }, bpftool), defines: definesOf(macros) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The named structs and enums as a compiled BPF object's BTF lays them out. */
export function objectLayout(object: string, names: { structs: string[]; enums: string[] }, bpftool = process.env.BPFTOOL ?? 'bpftool'): Omit<AbiLayout, 'defines'> {
  const btf = JSON.parse(run(bpftool, ['btf', 'dump', 'file', object, '-j'], `read the BTF of ${object}`)) as { types: BtfType[] };
  return { structs: structsOf(btf.types, names.structs), enums: enumsOf(btf.types, names.enums) };
}

function structsOf(types: BtfType[], names: string[]): Record<string, StructLayout> {
  const byId = new Map(types.map((t) => [t.id, t]));
  const sizeOf = (id: number): number => {
    const t = byId.get(id);
    if (!t) throw new LayoutError('BAD_BTF', `BTF type ${id} is missing`);
    switch (t.kind) {
      case 'ARRAY':
        return sizeOf(t.type_id as number) * (t.nr_elems as number);
      case 'TYPEDEF':
      case 'VOLATILE':
      case 'CONST':
        return sizeOf(t.type_id as number);
      default:
        return t.size as number;
    }
  };
  const out: Record<string, StructLayout> = {};
  for (const name of names) {
    const t = types.find((x) => x.kind === 'STRUCT' && x.name === name);
    if (!t) throw new LayoutError('BAD_BTF', `struct ${name} is not in the BTF clang emitted`);
    const fields: StructLayout['fields'] = {};
    for (const m of t.members ?? []) {
      if (m.bitfield_size) throw new LayoutError('BAD_BTF', `struct ${name}: bit field ${m.name} has no byte layout`);
      fields[m.name] = { offset: m.bits_offset / 8, size: sizeOf(m.type_id) };
    }
    out[name] = { size: t.size as number, fields };
  }
  return out;
}

function enumsOf(types: BtfType[], names: string[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const name of names) {
    const t = types.find((x) => x.kind === 'ENUM' && x.name === name);
    if (!t) throw new LayoutError('BAD_BTF', `enum ${name} is not in the BTF clang emitted`);
    out[name] = Object.fromEntries((t.values ?? []).map((v) => [v.name, v.val]));
  }
  return out;
}

function definesOf(macros: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of macros.matchAll(/^#define (CIL_\w+) (.+)$/gm)) {
    const v = integer(m[2]);
    if (v !== null) out[m[1]] = v;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
