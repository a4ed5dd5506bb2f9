// The datapath tests build their hosts with the demo's namespace builder.
export { NetnsHosts as Topology, type NetnsEndpoint, type LinkInfo } from '../../../cli/demo/netns';
