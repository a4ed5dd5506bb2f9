// The ring record layout has one source, bpf/include/cillion_abi.h: the drift check must
// pass on the header as it is and fail, naming the struct and field, on a changed copy.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFINES } from '../../../bpf/abi_layout.gen';
import { checkLayout, HEADER_PATH } from '../../../bpf/layout/check';
import { PROTO_CILLION_SHIM, SHIM_INNER_IPV4, SHIM_LEN, SHIM_VERSION } from '../../../scion/shim';

const ROOT = join(__dirname, '..', '..', '..');

function missingTool(): string | null {
  for (const tool of [process.env.CLANG ?? 'clang', process.env.BPFTOOL ?? 'bpftool']) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed`;
    }
  }
  return null;
}

describe('ring record layout: generated from the C header, drift checked', function () {
  let dir: string;
  const header = readFileSync(join(ROOT, HEADER_PATH), 'utf8');

  before(function () {
    const missing = missingTool();
    if (missing !== null) {
      if (process.env.CILLION_REQUIRE_BPF === '1') throw new Error(`CILLION_REQUIRE_BPF=1 but the layout cannot be generated: ${missing}`);
      process.stdout.write(`      skipped: ${missing}\n`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'cillion-layout-'));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  /** A copy of the header with `from` replaced by `to` (which must occur exactly once). */
  function changed(name: string, from: string, to: string): string {
    assert.equal(header.split(from).length, 2, `the header has "${from}" once`);
    const file = join(dir, name);
    writeFileSync(file, header.replace(from, to));
    return file;
  }

  const generated = join(ROOT, 'bpf', 'abi_layout.gen.ts');

  it('passes on the header as it is: bpf/abi_layout.gen.ts is its fresh generation', () => {
    assert.deepEqual(checkLayout({ header: join(ROOT, HEADER_PATH), generated }), []);
  });

  it('fails on a field of another size, naming struct and field', () => {
    const drift = checkLayout({ header: changed('wider.h', '__u16 src_port;', '__u32 src_port;'), generated });
    assert.ok(drift.some((d) => d.startsWith('struct cil_packet_meta.src_port: offset 44 size 4 in the header, offset 44 size 2')), drift.join('\n'));
    assert.ok(drift.some((d) => d.startsWith('struct cil_packet_meta: size')), 'the struct size moved too');
  });

  it('fails on reordered fields, naming each one that moved', () => {
    const drift = checkLayout({ header: changed('reordered.h', '__u8 direction;    /* enum cil_direction */\n\t__u8 verdict;', '__u8 verdict;\n\t__u8 direction;'), generated });
    assert.deepEqual(drift.filter((d) => d.startsWith('struct cil_packet_meta.')).map((d) => d.split(':')[0]).sort(), [
      'struct cil_packet_meta.direction',
      'struct cil_packet_meta.verdict',
    ]);
  });

  it('fails on a changed constant, naming the #define', () => {
    const drift = checkLayout({ header: changed('longer.h', '#define CIL_REC_PATH_MAX 316', '#define CIL_REC_PATH_MAX 320'), generated });
    assert.ok(drift.includes('#define CIL_REC_PATH_MAX: 320 in the header, 316 in ' + generated), drift.join('\n'));
    assert.ok(drift.some((d) => d.startsWith('struct cil_packet_record.path:')), drift.join('\n'));
  });

  it('the make rule\'s check exits non-zero and says what drifted', () => {
    const file = changed('cli.h', '__u32 policy_id;', '__u16 policy_id;');
    const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', 'bpf/layout/main.ts', 'check', '--header', file], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /struct cil_packet_meta\.policy_id: offset 100 size 2 in the header, offset 100 size 4 in bpf\/abi_layout\.gen\.ts/);
    assert.match(r.stderr, /make bpf\/abi_layout\.gen\.ts/);
  });

  it('the shim constants scion/ restates are the header\'s', () => {
    assert.deepEqual(
      { PROTO_CILLION_SHIM, SHIM_LEN, SHIM_VERSION, SHIM_INNER_IPV4 },
      { PROTO_CILLION_SHIM: DEFINES.CIL_PROTO_SHIM, SHIM_LEN: DEFINES.CIL_SHIM_LEN, SHIM_VERSION: DEFINES.CIL_SHIM_VERSION, SHIM_INNER_IPV4: DEFINES.CIL_SHIM_INNER_IPV4 },
    );
  });
});
