// Our compiled descriptors cut down to exactly what Hubble defines, for decoding with
// protobuf-es as a client that knows only Hubble's schema would.
import assert from 'node:assert/strict';
import { clone, createFileRegistry } from '@bufbuild/protobuf';
import type { DescMessage, FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import type { DescriptorProto } from '@bufbuild/protobuf/wkt';
import type { Compiled } from './descriptor';
import { HUBBLE_ENUMS, HUBBLE_FIELDS } from './hubble-schema';

/** Hubble's messages, fields and enums only; everything Cillion adds is removed. */
export function hubbleOnly(c: Compiled): FileRegistry {
  const set = clone(FileDescriptorSetSchema, c.set);
  const fields = new Set(HUBBLE_FIELDS.map(([m, f, n]) => `${m}.${f}=${n}`));
  const messages = new Set(HUBBLE_FIELDS.map(([m]) => m));
  const enums = new Set(HUBBLE_ENUMS.map(([e]) => e));
  const strip = (scope: string, types: DescriptorProto[]): DescriptorProto[] =>
    types
      .filter((t) => messages.has(`${scope}.${t.name}`) || t.field.length === 0)
      .map((t) => {
        const name = `${scope}.${t.name}`;
        t.field = t.field.filter((f) => fields.has(`${name}.${f.name}=${f.number}`));
        t.nestedType = strip(name, t.nestedType);
        t.enumType = t.enumType.filter((e) => enums.has(`${name}.${e.name}`));
        return t;
      });
  for (const file of set.file) {
    if (!['flow', 'observer', 'relay'].includes(file.package)) continue;
    file.messageType = strip(file.package, file.messageType);
    file.enumType = file.enumType.filter((e) => enums.has(`${file.package}.${e.name}`));
  }
  return createFileRegistry(set);
}

export function message(reg: FileRegistry, name: string): DescMessage {
  const desc = reg.getMessage(name);
  assert.ok(desc, `${name} missing`);
  return desc;
}
