// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Never loaded: one global of every record, map and enum type of cillion_abi.h, so that
 * clang emits their BTF and test/datapath/abi.test.ts (or `bpftool btf dump file
 * bpf/build/abi.bpf.o`) sees the layouts exactly as the programs are compiled with. */
#include "include/lib/common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct cil_packet_record cil_abi_packet_record;
struct cil_counter_value cil_abi_counter_value;
struct cil_endpoint_key cil_abi_endpoint_key;
struct cil_endpoint cil_abi_endpoint;
struct cil_egress_key cil_abi_egress_key;
struct cil_egress_value cil_abi_egress_value;
struct cil_path cil_abi_path;
struct cil_ifindex_key cil_abi_ifindex_key;
struct cil_ifid_key cil_abi_ifid_key;
struct cil_interface cil_abi_interface;
struct cil_config cil_abi_config;
struct cil_identity_key cil_abi_identity_key;
struct cil_ingress_allow_key cil_abi_ingress_allow_key;
struct cil_xpolicy_key cil_abi_xpolicy_key;
struct cil_srv6_seglist cil_abi_srv6_seglist;
struct cil_sid_key cil_abi_sid_key;
struct cil_local_sid cil_abi_local_sid;
struct cil_locator_key cil_abi_locator_key;
struct cil_tenant_key4 cil_abi_tenant_key4;
struct cil_tenant_key6 cil_abi_tenant_key6;
struct cil_tenant_route cil_abi_tenant_route;
enum cil_record_type cil_abi_record_type;
enum cil_direction cil_abi_direction;
enum cil_verdict cil_abi_verdict;
enum cil_counter cil_abi_counter;
enum cil_path_kind cil_abi_path_kind;
enum cil_srv6_behavior cil_abi_srv6_behavior;
