// Where two layouts disagree, one line per struct member, enum value or #define, so that a
// stale generated file (or a program built from another header) names what moved.
import type { AbiLayout } from './model';

export function layoutDrift(header: AbiLayout, generated: AbiLayout, generatedName: string): string[] {
  const out: string[] = [];
  const both = (a: object, b: object) => [...new Set([...Object.keys(a), ...Object.keys(b)])];
  const side = (inHeader: boolean) => (inHeader ? `in the header, not in ${generatedName}` : `in ${generatedName}, not in the header`);
  for (const name of both(header.structs, generated.structs)) {
    const h = header.structs[name];
    const g = generated.structs[name];
    if (!h || !g) {
      out.push(`struct ${name}: ${side(Boolean(h))}`);
      continue;
    }
    if (h.size !== g.size) out.push(`struct ${name}: size ${h.size} in the header, ${g.size} in ${generatedName}`);
    for (const field of both(h.fields, g.fields)) {
      const hf = h.fields[field];
      const gf = g.fields[field];
      if (!hf || !gf) out.push(`struct ${name}.${field}: ${side(Boolean(hf))}`);
      else if (hf.offset !== gf.offset || hf.size !== gf.size) {
        out.push(`struct ${name}.${field}: offset ${hf.offset} size ${hf.size} in the header, offset ${gf.offset} size ${gf.size} in ${generatedName}`);
      }
    }
  }
  for (const name of both(header.enums, generated.enums)) {
    const h = header.enums[name];
    const g = generated.enums[name];
    if (!h || !g) {
      out.push(`enum ${name}: ${side(Boolean(h))}`);
      continue;
    }
    for (const v of both(h, g)) {
      if (h[v] !== g[v]) out.push(`enum ${name}.${v}: ${h[v] ?? 'absent'} in the header, ${g[v] ?? 'absent'} in ${generatedName}`);
    }
  }
  for (const name of both(header.defines, generated.defines)) {
    const h = header.defines[name];
    const g = generated.defines[name];
    if (h !== g) out.push(`#define ${name}: ${h ?? 'absent'} in the header, ${g ?? 'absent'} in ${generatedName}`);
  }
  return out;
}
