// Independent child processes of a CLI test, run a few at a time: each spends most of its
// life starting Node and tsx, so two at once use both cores of a small machine.

/** Runs the jobs at most `width` at a time; the results in the jobs' order. */
export async function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}
