/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flannel's data in etcd, as upstream lays it out, and the subnet
 * allocation planner. Pure: no I/O, randomness supplied by the caller.
 *
 *   <prefix>/config                         net-conf.json
 *   <prefix>/subnets/10.5.52.0-24           one lease per node
 *   <prefix>/subnets/10.12.13.0-24&fd00:12:13::-56   (dual stack)
 *
 * A lease's value is upstream's LeaseAttrs JSON:
 *   {"PublicIP":"192.168.64.3","PublicIPv6":null,"BackendType":"vxlan",
 *    "BackendData":{"VNI":1,"VtepMAC":"c6:d2:32:6f:8f:44"}}
 * (BackendV6Data only when set; BackendData omitted for host-gw).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/buf.h"
#include "lib/core/errmsg.h"
#include "lib/core/ipnet.h"
#include "lib/json/lease.h"
#include "lib/json/netconf.h"

#define ETCD_DEFAULT_PREFIX "/coreos.com/network"
/* "255.255.255.255-32&" + an IPv6 address + "-128", with room to spare */
#define ETCD_SUBNET_KEY_MAX  (2 * INET6_ADDRSTRLEN + 12)
#define ETCD_LEASE_VALUE_MAX (64 * 1024)
/* upstream allocates among at most this many free subnets */
#define ETCD_ALLOC_CANDIDATES 100

/*
 * "10.5.52.0-24" or "10.5.52.0-24&fd00:12:13::-56". sn6 NULL or family 0:
 * IPv4 only. -EINVAL when the subnets are not masked networks.
 */
int etcd_subnet_key_format(const struct ip_net *sn, const struct ip_net *sn6,
			   char buf[static ETCD_SUBNET_KEY_MAX]);

/*
 * Parse a subnet key name (the part after "<prefix>/subnets/") with
 * upstream's rules: a dotted-quad IPv4 address, '-', a prefix length below
 * 32; optionally '&', a lower-case IPv6 address (hex digits and ':'), '-', a
 * prefix length below 128; nothing else. Unlike upstream the whole string
 * must match (upstream's regular expression is unanchored at the start) and
 * host bits must be zero. ret_sn6->addr.family is 0 when there is no IPv6
 * part. -EINVAL on anything else.
 */
int etcd_subnet_key_parse(const char *s, size_t len, struct ip_net *ret_sn, struct ip_net *ret_sn6);

/*
 * "<prefix>/subnets/<name>" -> the name, borrowed from key. -ENOENT when
 * the key is not directly under <prefix>/subnets/.
 */
int etcd_key_subnet_name(const char *prefix, const char *key, size_t key_len, const char **ret_name,
			 size_t *ret_len);

/* Render a lease value. public_ip6 NULL or family 0: "PublicIPv6":null. */
int etcd_lease_value_render(const struct lease_attrs *attrs, const struct ip_addr *public_ip,
			    const struct ip_addr *public_ip6, struct buf *out);

/*
 * Parse a lease value (keys case-insensitive, as Go's encoding/json) into
 * ret->public_ip, ret->public_ip6 and ret->attrs; other fields untouched.
 * Errors name the field in err. An extension lease's BackendData (a JSON
 * string) is kept as JSON text in *ret_ext_data (malloc'd, NULL for other
 * types), which ret->attrs.ext_data borrows: the caller frees it once done
 * with ret.
 */
int etcd_lease_value_parse(const char *json, size_t len, struct lease *ret, char **ret_ext_data,
			   struct errmsg *err);

/*
 * A key + value of <prefix>/subnets/ turned into a lease named after the key:
 * the name is copied into name_buf, which ret->name borrows.
 */
int etcd_lease_from_kv(const char *name, size_t name_len, const char *value, size_t value_len,
		       char name_buf[static ETCD_SUBNET_KEY_MAX], struct lease *ret,
		       char **ret_ext_data, struct errmsg *err);

/* An existing lease as the allocator sees it. */
struct etcd_alloc_lease {
	struct ip_net subnet;
	struct ip_net subnet6; /* family 0: none */
	struct ip_addr public_ip;
	bool has_ttl; /* attached to an etcd lease (false: a reservation) */
};

enum etcd_alloc_action {
	ETCD_ALLOC_REUSE_BY_IP, /* overwrite the key holding our public IP (upstream "Found lease ... reusing") */
	ETCD_ALLOC_PREVIOUS, /* create the subnet recorded in subnet.env */
	ETCD_ALLOC_RANDOM,   /* create a random free subnet */
};

struct etcd_alloc_plan {
	enum etcd_alloc_action action;
	struct ip_net subnet;
	struct ip_net subnet6; /* family 0: none */
	bool with_ttl;	       /* false only when reusing a reservation */
	/* A lease held by our public IP that no longer fits the config: delete it first. */
	bool delete_stale;
	struct ip_net stale_subnet, stale_subnet6;
	/* The previous subnet was set but did not fit the config (upstream logs it). */
	bool previous_incompatible;
};

/*
 * Upstream's tryAcquireLease decision. conf has passed netconf_check().
 * prev/prev6: the subnets from the old subnet.env (NULL or family 0: none).
 * random4/random6 pick among the free candidates. -ENOSPC: "out of subnets".
 */
int etcd_alloc_plan(const struct netconf *conf, const struct etcd_alloc_lease *leases, size_t n,
		    const struct ip_addr *public_ip, const struct ip_net *prev,
		    const struct ip_net *prev6, uint32_t random4, uint32_t random6,
		    struct etcd_alloc_plan *ret);

/* Upstream's isSubnetConfigCompat / isIPv6SubnetConfigCompat. */
bool etcd_subnet_compatible(const struct netconf *conf, const struct ip_net *sn,
			    const struct ip_net *sn6);
