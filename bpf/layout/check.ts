// The drift check: a fresh layout from the header against the generated file on disk.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { layoutDrift } from './drift';
import { extractLayout, type ExtractOptions } from './extract';
import type { AbiLayout } from './model';
import { GENERATED_PATH, renderLayout } from './render';

export const HEADER_PATH = 'bpf/include/cillion_abi.h';

/** The generated module's layout, loaded as the decoders load it. */
function loadGenerated(file: string): AbiLayout {
  const m = require(resolve(file)) as { STRUCTS: AbiLayout['structs']; ENUMS: AbiLayout['enums']; DEFINES: AbiLayout['defines'] };
  return { structs: m.STRUCTS, enums: m.ENUMS, defines: m.DEFINES };
}

/**
 * What differs between the header and the generated file, one line each naming the struct
 * and field (or enum value, or #define); empty when they agree to the byte.
 */
export function checkLayout(opts: ExtractOptions & { generated?: string }): string[] {
  const generated = opts.generated ?? GENERATED_PATH;
  const fresh = extractLayout(opts);
  const drift = layoutDrift(fresh, loadGenerated(generated), generated);
  if (drift.length > 0) return drift;
  if (renderLayout(fresh, HEADER_PATH) !== readFileSync(generated, 'utf8')) {
    return [`${generated} has the header's layout but not its generated text (edited by hand?)`];
  }
  return [];
}
