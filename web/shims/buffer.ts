// The little of node's Buffer that the generated proto code calls for `bytes` fields
// (Buffer.from, Buffer.alloc, base64 in and out), so a flow's raw path header survives
// fromJSON/toJSON in the browser. Injected by build.mjs for the free identifier Buffer.
export class BrowserBuffer extends Uint8Array {
  static override from(data: unknown, encoding?: unknown): BrowserBuffer {
    if (typeof data === 'string') {
      if (encoding !== 'base64') throw new Error('BrowserBuffer: only base64 strings');
      const bin = atob(data.replace(/-/g, '+').replace(/_/g, '/'));
      const out = new BrowserBuffer(bin.length);
      for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
      return out;
    }
    const src = data as ArrayLike<number>;
    const out = new BrowserBuffer(src.length);
    out.set(src);
    return out;
  }

  static alloc(size: number): BrowserBuffer {
    return new BrowserBuffer(size);
  }

  override toString(encoding?: string): string {
    if (encoding !== 'base64') return super.toString();
    let bin = '';
    for (let i = 0; i < this.length; i++) bin += String.fromCharCode(this[i]);
    return btoa(bin);
  }
}

export { BrowserBuffer as Buffer };
