// Compiles .proto files with protoc and flattens the result into comparable rows, so tests
// can hold our schema against field tables taken from the upstream projects.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createFileRegistry, fromBinary, ScalarType } from '@bufbuild/protobuf';
import type { DescEnum, DescField, DescFile, DescMessage, FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import type { FileDescriptorSet } from '@bufbuild/protobuf/wkt';

export const PROTO_ROOT = resolve(__dirname, '../../../proto');
const WKT_INCLUDE = '/usr/include';

/** [message full name, field name, number, rendered type] */
export type FieldRow = readonly [string, string, number, string];
/** [enum full name, value name, number] */
export type EnumRow = readonly [string, string, number];
/** [service full name, method, input type, output type, kind] */
export type MethodRow = readonly [string, string, string, string, string];

export interface Compiled {
  set: FileDescriptorSet;
  registry: FileRegistry;
}

/** Runs protoc on files (paths relative to root) and returns the descriptors, imports included. */
export function compile(files: readonly string[], root = PROTO_ROOT): Compiled {
  const dir = mkdtempSync(join(tmpdir(), 'cillion-proto-'));
  try {
    const out = join(dir, 'set.pb');
    const args = ['-I', root, '-I', WKT_INCLUDE, '--include_imports', `--descriptor_set_out=${out}`, ...files];
    try {
      execFileSync('protoc', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
      throw new Error(`protoc ${files.join(' ')} failed: ${stderr || String(err)}`);
    }
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(out));
    return { set, registry: createFileRegistry(set) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function typeName(field: DescField): string {
  switch (field.fieldKind) {
    case 'scalar':
      return ScalarType[field.scalar].toLowerCase();
    case 'enum':
      return field.enum.typeName;
    case 'message':
      return field.message.typeName;
    case 'list':
      return `repeated ${
        field.listKind === 'scalar' ? ScalarType[field.scalar].toLowerCase()
        : field.listKind === 'enum' ? field.enum.typeName
        : field.message.typeName}`;
    case 'map':
      return `map<${ScalarType[field.mapKey].toLowerCase()}, ${
        field.mapKind === 'scalar' ? ScalarType[field.scalar].toLowerCase()
        : field.mapKind === 'enum' ? field.enum.typeName
        : field.message.typeName}>`;
  }
}

/** The type as a row shows it: "string", "repeated flow.Policy", "flow.TCP oneof:protocol", ... */
export function renderType(field: DescField): string {
  let t = typeName(field);
  if (field.proto.proto3Optional) t = `optional ${t}`;
  if (field.oneof) t = `${t} oneof:${field.oneof.name}`;
  return t;
}

function allMessages(file: DescFile): DescMessage[] {
  const out: DescMessage[] = [];
  const walk = (m: DescMessage): void => {
    out.push(m);
    m.nestedMessages.forEach(walk);
  };
  file.messages.forEach(walk);
  return out;
}

function allEnums(file: DescFile): DescEnum[] {
  return [...file.enums, ...allMessages(file).flatMap((m) => m.nestedEnums)];
}

function filesOf(c: Compiled, packages: readonly string[]): DescFile[] {
  return [...c.registry.files].filter((f) => packages.includes(f.proto.package));
}

export function fieldRows(c: Compiled, packages: readonly string[]): FieldRow[] {
  return filesOf(c, packages).flatMap((f) =>
    allMessages(f).flatMap((m) => m.fields.map((fd): FieldRow => [m.typeName, fd.name, fd.number, renderType(fd)])),
  );
}

export function enumRows(c: Compiled, packages: readonly string[]): EnumRow[] {
  return filesOf(c, packages).flatMap((f) =>
    allEnums(f).flatMap((e) => e.values.map((v): EnumRow => [e.typeName, v.name, v.number])),
  );
}

export function methodRows(c: Compiled, packages: readonly string[]): MethodRow[] {
  return filesOf(c, packages).flatMap((f) =>
    f.services.flatMap((s) =>
      s.methods.map((m): MethodRow => [s.typeName, m.name, m.input.typeName, m.output.typeName, m.methodKind]),
    ),
  );
}

/** Names of every message in the given packages. */
export function messageNames(c: Compiled, packages: readonly string[]): string[] {
  return filesOf(c, packages).flatMap((f) => allMessages(f).map((m) => m.typeName));
}
