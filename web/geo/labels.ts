// Places AS labels beside their dots without overlapping: ASes of one city sit on top of
// each other, so each label moves down until it clears the labels placed before it.
export interface LabelBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

const LINE = 13;
const CHAR_W = 6.6;

/** Label boxes (text baseline at y + h - 3) for points given as [x, y, text], same order. */
export function placeLabels(points: readonly [number, number, string][]): LabelBox[] {
  const order = points.map((_, i) => i).sort((a, b) => points[a][1] - points[b][1] || points[a][0] - points[b][0]);
  const placed: LabelBox[] = [];
  const out: LabelBox[] = new Array(points.length);
  for (const i of order) {
    const [x, y, text] = points[i];
    const box = { x: x + 8, y: y - LINE - 2, w: text.length * CHAR_W, h: LINE };
    for (let tries = 0; tries < 12 && placed.some((p) => p.x < box.x + box.w && box.x < p.x + p.w && p.y < box.y + box.h && box.y < p.y + p.h); tries++) box.y += LINE;
    placed.push(box);
    out[i] = box;
  }
  return out;
}
