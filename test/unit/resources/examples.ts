// The documents of examples/policies/<cluster>/*.yaml, for the validator and CRD tests.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const EXAMPLES = join(__dirname, '../../../examples/policies');

export function exampleDocs(cluster: string): unknown[] {
  const dir = join(EXAMPLES, cluster);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as unknown));
}
