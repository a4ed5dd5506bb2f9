// The dashboards type-check against @grafana/schema: their typed sources (each panel's
// options against that visualisation's own Options), and the committed JSON itself as an
// object literal of the Dashboard type, with excess-property checks. The JSON must also be
// exactly what the sources generate.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { DASHBOARDS, dashboardJson } from '../../../dashboards/src/generate';

const repo = join(__dirname, '..', '..', '..');
const dir = join(repo, 'dashboards');
const src = join(dir, 'src');

/** The JSON view of a type: string enums become their values, as they are spelled in JSON. */
const JSON_OF = `type Json<T> = T extends string ? \`\${T}\` : T extends number | boolean | null | undefined ? T
  : T extends readonly (infer E)[] ? Json<E>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;`;

function jsonCheck(json: string): string {
  return `import type { Dashboard } from '@grafana/schema';\n${JSON_OF}\nexport const dashboard: Json<Dashboard> = ${json};\n`;
}

/** Type-checks real files plus in-memory ones (name -> text) with the repository's compiler options; diagnostics per file. */
function typeCheck(files: string[], virtual: Record<string, string>): Map<string, string[]> {
  const config = ts.readConfigFile(join(repo, 'tsconfig.json'), (p) => ts.sys.readFile(p));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, repo);
  const host = ts.createCompilerHost({ ...options, noEmit: true });
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError) =>
    name in virtual ? ts.createSourceFile(name, virtual[name], lang) : getSourceFile(name, lang, onError);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name in virtual || fileExists(name);
  const program = ts.createProgram([...files, ...Object.keys(virtual)], { ...options, noEmit: true }, host);
  const out = new Map<string, string[]>();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const file = d.file?.fileName ?? '';
    const where = d.file && d.start !== undefined ? `:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : '';
    out.set(file, [...(out.get(file) ?? []), `${file}${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`]);
  }
  return out;
}

describe('dashboards: JSON and @grafana/schema', function () {
  this.timeout(120_000);
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

  it('commits exactly the JSON the typed sources generate, one file per dashboard', () => {
    assert.deepEqual(files, Object.keys(DASHBOARDS).sort());
    for (const [file, d] of Object.entries(DASHBOARDS)) {
      assert.equal(readFileSync(join(dir, file), 'utf8'), dashboardJson(d), `regenerate: npx tsx dashboards/src/generate.ts (${file})`);
    }
  });

  it('type-checks the sources and every JSON file, and fails a JSON file with a wrong field type or an unknown field', () => {
    const sources = readdirSync(src).filter((f) => f.endsWith('.ts')).map((f) => join(src, f));
    const virtual: Record<string, string> = {};
    for (const f of files) virtual[join(src, `check-${f}.ts`)] = jsonCheck(readFileSync(join(dir, f), 'utf8'));

    const broken = JSON.parse(readFileSync(join(dir, files[0]), 'utf8')) as { panels: Array<Record<string, unknown>> };
    broken.panels[0].gridPos = { x: 0, y: 0, w: '24', h: 8 };
    const wrongType = join(src, 'check-wrong-type.ts');
    virtual[wrongType] = jsonCheck(JSON.stringify(broken));
    const misspelt = JSON.parse(readFileSync(join(dir, files[0]), 'utf8')) as Record<string, unknown>;
    misspelt.refersh = '30s';
    const unknownField = join(src, 'check-unknown-field.ts');
    virtual[unknownField] = jsonCheck(JSON.stringify(misspelt));
    const badEnum = JSON.parse(readFileSync(join(dir, files[0]), 'utf8')) as { panels: Array<{ fieldConfig: { defaults: Record<string, unknown> } }> };
    badEnum.panels[0].fieldConfig.defaults.color = { mode: 'rainbow' };
    const wrongEnum = join(src, 'check-wrong-enum.ts');
    virtual[wrongEnum] = jsonCheck(JSON.stringify(badEnum));

    const diagnostics = typeCheck(sources, virtual);
    const expectedBroken = [wrongType, unknownField, wrongEnum];
    const unexpected = [...diagnostics.entries()].filter(([f]) => !expectedBroken.includes(f)).flatMap(([, d]) => d);
    assert.deepEqual(unexpected, []);
    assert.match((diagnostics.get(wrongType) ?? []).join('\n'), /Type 'string' is not assignable to type 'number'/);
    assert.match((diagnostics.get(unknownField) ?? []).join('\n'), /refersh\W+ does not exist in type/);
    assert.match((diagnostics.get(wrongEnum) ?? []).join('\n'), /"rainbow"/);
  });
});
