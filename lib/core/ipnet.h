/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IPv4/IPv6 addresses and CIDR networks: parse, format, compare, contain,
 * and the arithmetic flannel needs (nth subnet of a network, first host).
 * Pure functions, no allocation. Parsers are strict and return -EINVAL on
 * anything that is not exactly an address or CIDR (no whitespace, no zone).
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define IP_ADDR_STRLEN INET6_ADDRSTRLEN	      /* 46, includes NUL */
#define IP_NET_STRLEN  (INET6_ADDRSTRLEN + 4) /* addr + "/128" */

struct ip_addr {
	int family; /* AF_INET, AF_INET6, or 0 when unset */
	union {
		struct in_addr in;
		struct in6_addr in6;
		uint8_t bytes[16];
	};
};

struct ip_net {
	struct ip_addr addr;
	uint8_t prefixlen;
};

int ip_addr_parse(const char *s, struct ip_addr *ret);
/* Same, but the result must be of this family (else -EAFNOSUPPORT). */
int ip_addr_parse_family(int family, const char *s, struct ip_addr *ret);
/* "a.b.c.d/n" or "x::/n"; host bits are kept (see ip_net_mask). */
int ip_net_parse(const char *s, struct ip_net *ret);
int ip_net_parse_family(int family, const char *s, struct ip_net *ret);

const char *ip_addr_fmt(const struct ip_addr *a, char buf[static IP_ADDR_STRLEN]);
const char *ip_net_fmt(const struct ip_net *n, char buf[static IP_NET_STRLEN]);

void ip_addr_from_in(struct ip_addr *ret, struct in_addr a);
void ip_addr_from_in6(struct ip_addr *ret, const struct in6_addr *a);
unsigned ip_family_bits(int family); /* 32 or 128, 0 for unknown */
bool ip_addr_is_set(const struct ip_addr *a);
bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b);
int ip_addr_cmp(const struct ip_addr *a, const struct ip_addr *b); /* family first */
bool ip_net_equal(const struct ip_net *a, const struct ip_net *b);
int ip_net_cmp(const struct ip_net *a, const struct ip_net *b);

/* Zero the host bits. */
void ip_net_mask(struct ip_net *n);
bool ip_net_is_masked(const struct ip_net *n);
bool ip_net_contains_addr(const struct ip_net *n, const struct ip_addr *a);
/* inner is inside outer: same family, inner prefix >= outer prefix, and inner's network in outer. */
bool ip_net_contains_net(const struct ip_net *outer, const struct ip_net *inner);
bool ip_net_overlaps(const struct ip_net *a, const struct ip_net *b);

/* a + delta (may be negative); -ERANGE on overflow out of the address space. */
int ip_addr_add(const struct ip_addr *a, int64_t delta, struct ip_addr *ret);
/* Network address + 1 with the same prefix, as in subnet.env's FLANNEL_SUBNET. */
void ip_net_first_host(const struct ip_net *n, struct ip_net *ret);
/* Last address of the network (broadcast for IPv4). */
void ip_net_last_addr(const struct ip_net *n, struct ip_addr *ret);
/* The idx-th subnet of length sublen inside n (idx from 0); -ERANGE if out of range. */
int ip_net_nth_subnet(const struct ip_net *n, unsigned sublen, uint64_t idx, struct ip_net *ret);
/* Number of subnets of length sublen in n, saturated at UINT64_MAX. */
uint64_t ip_net_subnet_count(const struct ip_net *n, unsigned sublen);
/* Index of subnet s (length sublen) inside n; -ERANGE if not inside. */
int ip_net_subnet_index(const struct ip_net *n, const struct ip_net *s, uint64_t *ret);
