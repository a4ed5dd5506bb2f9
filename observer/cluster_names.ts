// A relay serving one cluster names its flows and nodes "cluster/node", Hubble's absolute
// node names, so that the flows of federated clusters stay apart in one view. The store and
// the live path keep plain node names (a relay's store holds one cluster): names are made
// absolute on the way out, and a request's node_name patterns are turned into this relay's
// plain names on the way in (a pattern of another cluster can match none of its flows).
import { FlowFilter } from '../proto/gen/flow/flow';
import { GetFlowsRequest, GetFlowsResponse } from '../proto/gen/observer/observer';
import type { ResponseSink } from './get_flows';
import { Glob } from './glob';
import { renameNodes } from './wire_names';

/** A node_name pattern no plain (relay-local) node name matches: its cluster part is no cluster's. */
const NO_NODE = '-/-';

export class ClusterNames {
  constructor(readonly cluster: string) {}

  /** "cluster/node"; a name already absolute, or empty, stays as it is. */
  node(name: string): string {
    return name === '' || name.includes('/') ? name : `${this.cluster}/${name}`;
  }

  /** The request as this relay's store and hub read it: node_name patterns in plain names. */
  request(req: GetFlowsRequest): GetFlowsRequest {
    const plain = (f: FlowFilter): FlowFilter => {
      if (f.nodeName.length === 0) return f;
      const names = f.nodeName.map((p) => {
        const slash = p.indexOf('/');
        if (slash < 0) return p;
        return new Glob(p.slice(0, slash)).test(this.cluster) ? p.slice(slash + 1) : NO_NODE;
      });
      return { ...f, nodeName: names };
    };
    return { ...req, whitelist: req.whitelist.map(plain), blacklist: req.blacklist.map(plain) };
  }

  /** A response with every node name absolute; an encoded one is decoded for it. */
  response(r: GetFlowsResponse | Buffer): GetFlowsResponse {
    const res = Buffer.isBuffer(r) ? GetFlowsResponse.decode(r) : r;
    const t = res.responseTypes;
    let types = t;
    if (t?.$case === 'flow') types = { $case: 'flow', value: { ...t.value, nodeName: this.node(t.value.nodeName) } };
    else if (t?.$case === 'nodeStatus') types = { $case: 'nodeStatus', value: { ...t.value, nodeNames: t.value.nodeNames.map((n) => this.node(n)) } };
    return { ...res, responseTypes: types, nodeName: this.node(res.nodeName) };
  }

  /** `out` with every response renamed on its way in; encoded flows stay encoded (wire_names.ts). */
  sink(out: ResponseSink): ResponseSink {
    const node = (n: string) => this.node(n);
    return {
      get closed() {
        return out.closed;
      },
      onGone: (fn) => out.onGone(fn),
      writeNow: (r) => out.writeNow((Buffer.isBuffer(r) && renameNodes(r, node)) || this.response(r)),
      drained: () => out.drained(),
      flush: () => out.flush(),
    };
  }
}
