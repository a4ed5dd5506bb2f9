// What the browser build supplies that TypeScript does not know: the bundled country shapes
// (build.mjs). The generated proto code's Buffer is typed by node's types, which its gRPC
// imports bring in; the bundle replaces it with shims/buffer.ts.
declare module 'virtual:world-shapes' {
  import type { Topology } from 'topojson-specification';
  const shapes: Topology;
  export default shapes;
}
