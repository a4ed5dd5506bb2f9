// The key and value codec of every edge, router and SRv6 map, shared by the kernel-backed
// TypedMaps (bpf/datapath.ts) and the in-memory maps the operator's tests reconcile into.
import * as m from './maps';
import type { Codec } from './typed_map';

const u32: Codec<number> = { encode: m.u32Value, decode: m.decodeU32 };

export interface MapCodecs<K, V> {
  key: Codec<K>;
  value: Codec<V>;
}

export const CODECS = {
  as_config: { key: { encode: () => Buffer.alloc(4), decode: () => 0 }, value: { encode: m.configValue, decode: m.decodeConfig } } as MapCodecs<0, m.AsConfig>,
  ifindex_to_ifid: { key: { encode: m.ifindexKey, decode: m.decodeU32 }, value: u32 } as MapCodecs<number, number>,
  interfaces: { key: { encode: m.ifidKey, decode: m.decodeU32 }, value: { encode: m.interfaceValue, decode: m.decodeInterface } } as MapCodecs<number, m.InterfaceEntry>,
  endpoints: { key: { encode: m.endpointKey, decode: m.decodeEndpointKey }, value: { encode: m.endpointValue, decode: m.decodeEndpoint } } as MapCodecs<string, m.Endpoint>,
  egress_policy: { key: { encode: m.egressKey, decode: m.decodeEgressKey }, value: { encode: m.egressValue, decode: m.decodeEgressValue } } as MapCodecs<m.EgressKey, number[]>,
  paths: { key: { encode: m.pathKey, decode: m.decodePathKey }, value: { encode: m.pathValue, decode: m.decodePath } } as MapCodecs<number, m.PathEntry>,
  ingress_enforced: { key: { encode: m.identityKey, decode: m.decodeU32 }, value: u32 } as MapCodecs<number, number>,
  ingress_allow: { key: { encode: m.ingressAllowKey, decode: m.decodeIngressAllowKey }, value: u32 } as MapCodecs<m.IngressAllowKey, number>,
  xpolicy_selected: { key: { encode: m.identityKey, decode: m.decodeU32 }, value: u32 } as MapCodecs<number, number>,
  xpolicy_allow: { key: { encode: m.xpolicyKey, decode: m.decodeXPolicyKey }, value: u32 } as MapCodecs<m.XPolicyKey, number>,
  xpolicy_egress_selected: { key: { encode: m.identityKey, decode: m.decodeU32 }, value: u32 } as MapCodecs<number, number>,
  xpolicy_egress_allow: { key: { encode: m.xpolicyKey, decode: m.decodeXPolicyKey }, value: u32 } as MapCodecs<m.XPolicyKey, number>,
  xpolicy_peers: { key: { encode: m.endpointKey, decode: m.decodeEndpointKey }, value: u32 } as MapCodecs<string, number>,
};

export type MapName = keyof typeof CODECS;

/** The SRv6 maps (bpf/srv6.bpf.c), apart from CODECS so that MapName stays the SCION edge's. */
export const SRV6_CODECS = {
  srv6_egress: CODECS.egress_policy,
  srv6_seglists: { key: { encode: m.pathKey, decode: m.decodePathKey }, value: { encode: m.srv6SeglistValue, decode: m.decodeSrv6Seglist } } as MapCodecs<number, m.Srv6Seglist>,
  srv6_local_sids: { key: { encode: m.sidKey, decode: m.decodeSidKey }, value: { encode: m.localSidValue, decode: m.decodeLocalSid } } as MapCodecs<string, m.LocalSid>,
  srv6_locators: { key: { encode: m.locatorKey, decode: m.decodeLocatorKey }, value: u32 } as MapCodecs<string, number>,
  srv6_tenant_routes4: { key: { encode: m.tenantKey4, decode: m.decodeTenantKey4 }, value: { encode: m.tenantRouteValue, decode: m.decodeTenantRoute } } as MapCodecs<m.TenantKey, m.TenantRoute>,
  srv6_tenant_routes6: { key: { encode: m.tenantKey6, decode: m.decodeTenantKey6 }, value: { encode: m.tenantRouteValue, decode: m.decodeTenantRoute } } as MapCodecs<m.TenantKey, m.TenantRoute>,
};

export type Srv6MapName = keyof typeof SRV6_CODECS;
