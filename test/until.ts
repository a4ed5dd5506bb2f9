// Waiting in tests: on a condition with a deadline, never for a fixed time, so a busy machine
// makes a test slower but not wrong, and a wait that fails says what it waited for.

/** Resolves once `cond` holds, checked every `stepMs`; rejects after `ms` naming `what`. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000, stepMs = 10): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
