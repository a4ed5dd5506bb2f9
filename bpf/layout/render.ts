// The generated TypeScript: the layout as `as const` literals, so that a field the header
// drops or renames is a type error wherever the decoders still use it.
import type { AbiLayout } from './model';

export const GENERATED_PATH = 'bpf/abi_layout.gen.ts';

export function renderLayout(layout: AbiLayout, header: string): string {
  const lines = [
    `// Generated from ${header} by bpf/layout/main.ts (make ${GENERATED_PATH}): do not edit.`,
    '// docs/record-layout.md says how the layout is generated and checked, and how to add a field.',
    '',
    '/** Every struct of the header: its size, and each member\'s byte offset and size. */',
    'export const STRUCTS = {',
  ];
  for (const [name, s] of Object.entries(layout.structs)) {
    lines.push(`  ${name}: {`, `    size: ${s.size},`, '    fields: {');
    for (const [field, f] of Object.entries(s.fields)) lines.push(`      ${field}: { offset: ${f.offset}, size: ${f.size} },`);
    lines.push('    },', '  },');
  }
  lines.push('} as const;', '', '/** Every enum of the header, by its C names. */', 'export const ENUMS = {');
  for (const [name, values] of Object.entries(layout.enums)) {
    lines.push(`  ${name}: {`);
    for (const [v, n] of Object.entries(values)) lines.push(`    ${v}: ${n},`);
    lines.push('  },');
  }
  lines.push('} as const;', '', '/** Every integer #define of the header. */', 'export const DEFINES = {');
  for (const [name, v] of Object.entries(layout.defines)) lines.push(`  ${name}: ${v},`);
  lines.push('} as const;', '');
  return lines.join('\n');
}
