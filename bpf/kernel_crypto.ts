// Which implementation the kernel's crypto kfuncs run: the highest-priority lskcipher of a
// name in /proc/crypto is what bpf_crypto_ctx_create allocates, and what status reports.
import { readFileSync } from 'node:fs';

export function kernelLskcipherDriver(name: string, procCrypto = '/proc/crypto'): string | undefined {
  let best: { driver: string; priority: number } | undefined;
  for (const block of readFileSync(procCrypto, 'utf8').split(/\n\s*\n/)) {
    const field = (k: string): string | undefined => new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(block)?.[1].trim();
    if (field('name') !== name || field('type') !== 'lskcipher') continue;
    const priority = Number(field('priority') ?? 0);
    if (!best || priority > best.priority) best = { driver: field('driver') ?? 'unknown', priority };
  }
  return best?.driver;
}
