// Node-name globs, as Hubble's: "*" is any run of characters within one name part (never
// "/"), every other character stands for itself. Matched part by part with two pointers,
// never through a regex, so a pattern of many stars costs at most pattern × name steps.
export class Glob {
  private readonly parts: string[];

  constructor(pattern: string) {
    this.parts = pattern.replace(/\*+/g, '*').split('/');
  }

  test(name: string): boolean {
    const parts = name.split('/');
    return parts.length === this.parts.length && this.parts.every((p, i) => matchPart(p, parts[i]));
  }
}

/** One part against one pattern part: on a mismatch the last star takes one character more. */
function matchPart(p: string, s: string): boolean {
  let i = 0;
  let j = 0;
  let star = -1;
  let mark = 0;
  while (j < s.length) {
    if (i < p.length && p[i] === '*') {
      star = i++;
      mark = j;
    } else if (i < p.length && p[i] === s[j]) {
      i++;
      j++;
    } else if (star >= 0) {
      i = star + 1;
      j = ++mark;
    } else return false;
  }
  while (i < p.length && p[i] === '*') i++;
  return i === p.length;
}
