// Datapath tests need root and a BPF-capable kernel. Without them they skip with the
// reason, unless CILLION_REQUIRE_BPF=1 (as in CI), where a missing capability fails.
import { existsSync } from 'node:fs';

export function missingCapability(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'kernel has no BTF at /sys/kernel/btf/vmlinux';
  return null;
}

/** Call at the top of a describe(): skips (or fails under CILLION_REQUIRE_BPF=1) its tests. */
export function requireDatapath(ctx: Mocha.Suite): void {
  ctx.beforeAll(function () {
    const missing = missingCapability();
    if (missing === null) return;
    if (process.env.CILLION_REQUIRE_BPF === '1') {
      throw new Error(`CILLION_REQUIRE_BPF=1 but the datapath cannot be tested: ${missing}`);
    }
    this.skip();
  });
}
