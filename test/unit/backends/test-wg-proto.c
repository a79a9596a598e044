/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the WireGuard control encoders and decoders: the UAPI text
 * protocol (backends/wg_uapi.c) against wireguard-go's wire format, the
 * generic-netlink messages (backends/wg_genl.c) byte for byte against the
 * attribute layout of <linux/wireguard.h>, the Backend options
 * (backends/wg_config.c) and the key derivation (backends/wg_key.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>
#include <stdlib.h>
#include <string.h>

#include "backends/wg_config.h"
#include "backends/wg_genl.h"
#include "backends/wg_key.h"
#include "backends/wg_uapi.h"

/* wg genkey / wg pubkey of RFC 7748 §6.1 (Alice): the public key is known. */
static const uint8_t ALICE_PRIV[32] = {0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d,
				       0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
				       0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a,
				       0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a};
static const uint8_t ALICE_PUB[32] = {0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54,
				      0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a,
				      0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4,
				      0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a};

static const uint8_t PSK01[32] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
				  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

static struct wg_peer peer4(void)
{
	struct wg_peer p = {.port = 51820, .keepalive = 25, .n_allowed = 1};

	memset(p.key, 0xab, sizeof(p.key));
	p.psk_tag = wg_psk_tag(PSK01);
	assert_int_equal(ip_addr_parse("203.0.113.2", &p.endpoint), 0);
	assert_int_equal(ip_net_parse("198.18.2.0/24", &p.allowed[0]), 0);
	return p;
}

#define HEX_AB "abababababababababababababababababababababababababababababababab"
#define HEX_01 "0101010101010101010101010101010101010101010101010101010101010101"

static void test_uapi_render(void **state)
{
	struct wg_peer p = peer4();
	struct wg_change c = {.peer = &p, .psk = PSK01};
	struct buf out = BUF_INIT;

	assert_int_equal(wg_uapi_render_set(&c, &out), 0);
	assert_string_equal(out.data, "set=1\n"
				      "public_key=" HEX_AB "\n"
				      "preshared_key=" HEX_01 "\n"
				      "endpoint=203.0.113.2:51820\n"
				      "persistent_keepalive_interval=25\n"
				      "replace_allowed_ips=true\n"
				      "allowed_ip=198.18.2.0/24\n"
				      "\n");
	buf_reset(&out);

	assert_int_equal(ip_addr_parse("2001:db8:1::2", &p.endpoint), 0);
	p.port = 51821;
	c.remove = false;
	assert_int_equal(wg_uapi_render_set(&c, &out), 0);
	assert_non_null(strstr(out.data, "\nendpoint=[2001:db8:1::2]:51821\n"));
	buf_reset(&out);

	c.remove = true;
	assert_int_equal(wg_uapi_render_set(&c, &out), 0);
	assert_string_equal(out.data, "set=1\npublic_key=" HEX_AB "\nremove=true\n\n");
	buf_reset(&out);

	c = (struct wg_change){
		.set_private_key = true, .set_listen_port = true, .listen_port = 51820};
	memcpy(c.private_key, ALICE_PRIV, 32);
	assert_int_equal(wg_uapi_render_set(&c, &out), 0);
	assert_string_equal(out.data,
			    "set=1\nprivate_key="
			    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a\n"
			    "listen_port=51820\n\n");
	buf_free(&out);
}

/* What wireguard-go 0.0.20220316 answers to get=1 (device/uapi.go). */
static const char GET_REPLY[] =
	"private_key=77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a\n"
	"listen_port=51820\n"
	"public_key=" HEX_AB "\n"
	"preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
	"protocol_version=1\n"
	"endpoint=203.0.113.2:51820\n"
	"last_handshake_time_sec=1700000000\n"
	"last_handshake_time_nsec=5\n"
	"tx_bytes=1184\n"
	"rx_bytes=1092\n"
	"persistent_keepalive_interval=0\n"
	"allowed_ip=198.18.2.0/24\n"
	"public_key=" HEX_01 "\n"
	"preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
	"protocol_version=1\n"
	"endpoint=[2001:db8:1::3]:51821\n"
	"persistent_keepalive_interval=25\n"
	"allowed_ip=2001:db8:42:3::/64\n"
	"allowed_ip=10.0.0.0/8\n"
	"allowed_ip=10.1.0.0/16\n"
	"errno=0\n"
	"\n";

static void test_uapi_parse_get(void **state)
{
	struct wg_device d = {0};
	struct errmsg err = {0};
	struct wg_peer want = peer4();
	char s[IP_NET_STRLEN];

	assert_int_equal(wg_uapi_parse_get(GET_REPLY, strlen(GET_REPLY), &d, &err), 0);
	assert_true(d.has_private_key);
	assert_memory_equal(d.private_key, ALICE_PRIV, 32);
	assert_int_equal(d.listen_port, 51820);
	assert_int_equal(d.n_peers, 2);
	/* The first peer is what peer4() wants, but for the PSK and keepalive. */
	assert_false(wg_peer_equal(&d.peers[0], &want));
	want.psk_tag = 0;
	want.keepalive = 0;
	assert_true(wg_peer_equal(&d.peers[0], &want));
	assert_int_equal(d.peers[1].port, 51821);
	assert_string_equal(ip_addr_fmt(&d.peers[1].endpoint, s), "2001:db8:1::3");
	assert_int_equal(d.peers[1].keepalive, 25);
	/* Three allowed IPs: one kept, flagged, never equal to what we want. */
	assert_int_equal(d.peers[1].n_allowed, 1);
	assert_true(d.peers[1].more_allowed);
	wg_device_done(&d);

	assert_int_equal(wg_uapi_parse_errno("errno=0\n\n", 9), 0);
	assert_int_equal(wg_uapi_parse_errno("errno=-22\n\n", 11), -EINVAL);
	assert_int_equal(wg_uapi_parse_errno("errno=98\n\n", 10), -98);
}

static void expect_bad(const char *reply)
{
	struct wg_device d = {0};
	struct errmsg err = {0};

	assert_int_equal(wg_uapi_parse_get(reply, strlen(reply), &d, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "malformed reply at line"));
	assert_null(d.peers);
}

static void test_uapi_parse_errors(void **state)
{
	expect_bad("");
	expect_bad("listen_port=51820\n");		/* no errno line */
	expect_bad("listen_port=51820\n\nerrno=0\n\n"); /* empty line before errno */
	expect_bad("listen_port\nerrno=0\n\n");		/* no '=' */
	expect_bad("listen_port=65536\nerrno=0\n\n");	/* out of range */
	expect_bad("private_key=abc\nerrno=0\n\n");	/* short key */
	expect_bad("public_key=" HEX_AB "\nendpoint=1.2.3.4\nerrno=0\n\n"); /* no port */
	expect_bad("public_key=" HEX_AB "\nendpoint=[::1:51820\nerrno=0\n\n");
	expect_bad("public_key=" HEX_AB "\nallowed_ip=10.0.0.0/33\nerrno=0\n\n");
	expect_bad("errno=x\n\n");
	/* Unknown keys (a newer wireguard-go) are skipped. */
	{
		const char *r = "fwmark=3\npublic_key=" HEX_AB "\nfuture_key=1\nerrno=0\n\n";
		struct wg_device d = {0};
		assert_int_equal(wg_uapi_parse_get(r, strlen(r), &d, NULL), 0);
		assert_int_equal(d.n_peers, 1);
		wg_device_done(&d);
	}
}

/* ---- generic netlink ---- */

static void test_genl_family_request(void **state)
{
	struct buf out = BUF_INIT;
	static const uint8_t want[] = {
		36,
		0,
		0,
		0, /* nlmsg_len */
		GENL_ID_CTRL,
		0, /* nlmsg_type */
		NLM_F_REQUEST,
		0, /* nlmsg_flags */
		7,
		0,
		0,
		0,
		0,
		0,
		0,
		0, /* seq, pid */
		CTRL_CMD_GETFAMILY,
		1,
		0,
		0, /* genlmsghdr */
		14,
		0,
		CTRL_ATTR_FAMILY_NAME,
		0,
		'w',
		'i',
		'r',
		'e',
		'g',
		'u',
		'a',
		'r',
		'd',
		0,
		0,
		0, /* padding to 4 */
	};

	assert_int_equal(wg_genl_family_request(7, &out), 0);
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.data, want, sizeof(want));
	buf_free(&out);
}

static void test_genl_family_parse(void **state)
{
	uint8_t reply[] = {
		28,
		0,
		0,
		0,
		GENL_ID_CTRL,
		0,
		0,
		0,
		1,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		CTRL_CMD_NEWFAMILY,
		2,
		0,
		0,
		6,
		0,
		CTRL_ATTR_FAMILY_ID,
		0,
		0x21,
		0,
		0,
		0, /* id 33, padded */
	};
	uint8_t err[] = {36, 0, 0, 0, NLMSG_ERROR, 0, 0,    0,	  1,	0,
			 0,  0, 0, 0, 0,	   0, 0xfe, 0xff, 0xff, 0xff, /* -2: ENOENT */
			 0};
	uint16_t id = 0;

	assert_int_equal(wg_genl_family_parse(reply, sizeof(reply), &id), 0);
	assert_int_equal(id, 33);
	err[0] = sizeof(err);
	assert_int_equal(wg_genl_family_parse(err, sizeof(err), &id), -ENOENT);
	reply[20] = 5; /* family id attribute of the wrong size */
	assert_int_equal(wg_genl_family_parse(reply, sizeof(reply), &id), -EBADMSG);
	reply[0] = 200; /* longer than the buffer */
	assert_int_equal(wg_genl_family_parse(reply, sizeof(reply), &id), -EBADMSG);
}

/* A remove: device name, one peer with its key and WGPEER_F_REMOVE_ME, nothing else. */
static void test_genl_set_remove(void **state)
{
	struct wg_peer p = peer4();
	struct wg_change c = {.peer = &p, .remove = true};
	struct buf out = BUF_INIT;
	uint8_t want[88] = {
		88,
		0,
		0,
		0,
		33,
		0,
		NLM_F_REQUEST | NLM_F_ACK,
		0,
		9,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		WG_CMD_SET_DEVICE,
		WG_GENL_VERSION,
		0,
		0,
		/* 20: WGDEVICE_A_IFNAME "flannel-wg\0", 4 + 11 bytes padded to 16 */
		15,
		0,
		WGDEVICE_A_IFNAME,
		0,
		'f',
		'l',
		'a',
		'n',
		'n',
		'e',
		'l',
		'-',
		'w',
		'g',
		0,
		0,
		/* 36: WGDEVICE_A_PEERS { 40: peer 0 { 44: PUBLIC_KEY, 80: FLAGS } } */
		52,
		0,
		WGDEVICE_A_PEERS,
		NLA_F_NESTED >> 8,
		48,
		0,
		0,
		NLA_F_NESTED >> 8,
		36,
		0,
		WGPEER_A_PUBLIC_KEY,
		0,
	};

	memset(want + 48, 0xab, 32);
	memcpy(want + 80, ((uint8_t[]){8, 0, WGPEER_A_FLAGS, 0, WGPEER_F_REMOVE_ME, 0, 0, 0}), 8);
	assert_int_equal(wg_genl_set_request(33, 9, "flannel-wg", &c, &out), 0);
	assert_int_equal(out.len, 88);
	assert_memory_equal(out.data, want, 88);
	buf_free(&out);
}

/*
 * A replace: encoded, then read back by the get parser (a get reply nests
 * peers exactly as a set does), and the attribute layout checked.
 */
static void test_genl_set_round_trip(void **state)
{
	struct wg_peer p = peer4();
	struct wg_change c = {
		.peer = &p, .psk = PSK01, .set_listen_port = true, .listen_port = 51820};
	struct wg_device d = {0};
	struct buf out = BUF_INIT;
	struct nlmsghdr *h;
	uint8_t done[20] = {20, 0, 0, 0, NLMSG_DONE, 0, 0, 0, 9};

	assert_int_equal(wg_genl_set_request(33, 9, "flannel-wg", &c, &out), 0);
	h = (struct nlmsghdr *)out.data;
	assert_int_equal(h->nlmsg_len, out.len);
	assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(((struct genlmsghdr *)NLMSG_DATA(h))->cmd, WG_CMD_SET_DEVICE);
	/* The parser takes any type >= NLMSG_MIN_TYPE as a device message. */
	assert_int_equal(wg_genl_parse_reply(out.data, out.len, 9, &d), 0);
	assert_int_equal(d.listen_port, 51820);
	assert_int_equal(d.n_peers, 1);
	assert_true(wg_peer_equal(&d.peers[0], &p));
	/* Endpoint as a raw sockaddr_in with the port in network order. */
	assert_non_null(memmem(
		out.data, out.len,
		((uint8_t[]){20, 0, WGPEER_A_ENDPOINT, 0, AF_INET, 0, 0xca, 0x6c, 203, 0, 113, 2}),
		12));
	/* Allowed IP: family u16, address, mask u8 in a nest of type 0. */
	assert_non_null(memmem(out.data, out.len,
			       ((uint8_t[]){6, 0, WGALLOWEDIP_A_FAMILY,	   0, AF_INET, 0,  0, 0,
					    8, 0, WGALLOWEDIP_A_IPADDR,	   0, 198,     18, 2, 0,
					    5, 0, WGALLOWEDIP_A_CIDR_MASK, 0, 24}),
			       21));
	/* A reply to another request is ignored; NLMSG_DONE ends the dump. */
	assert_int_equal(wg_genl_parse_reply(out.data, out.len, 10, &d), 0);
	assert_int_equal(d.n_peers, 1);
	assert_int_equal(wg_genl_parse_reply(done, sizeof(done), 9, &d), 1);
	wg_device_done(&d);
	buf_free(&out);
}

/* A dump split over two messages: the peer continues with more allowed IPs. */
static void test_genl_multipart(void **state)
{
	struct wg_peer p = peer4();
	struct wg_change c = {.peer = &p};
	struct wg_device d = {0};
	struct buf a = BUF_INIT, b = BUF_INIT, both = BUF_INIT;
	uint8_t err[36] = {36, 0, 0, 0, NLMSG_ERROR, 0, 0,    0,    9,	  0,
			   0,  0, 0, 0, 0,	     0, 0xed, 0xff, 0xff, 0xff}; /* -19: ENODEV */

	assert_int_equal(wg_genl_set_request(33, 9, "flannel-wg", &c, &a), 0);
	assert_int_equal(ip_net_parse("2001:db8:42:2::/64", &p.allowed[0]), 0);
	assert_int_equal(wg_genl_set_request(33, 9, "flannel-wg", &c, &b), 0);
	buf_append(&both, a.data, a.len);
	buf_append(&both, b.data, b.len);
	assert_int_equal(wg_genl_parse_reply(both.data, both.len, 9, &d), 0);
	assert_int_equal(d.n_peers, 1);
	/* Two allowed IPs where we want one: kept as one and flagged. */
	assert_int_equal(d.peers[0].n_allowed, 1);
	assert_true(d.peers[0].more_allowed);
	wg_device_done(&d);
	assert_int_equal(wg_genl_parse_reply(err, sizeof(err), 9, &d), -ENODEV);
	/* Truncated: a message longer than the datagram. */
	assert_int_equal(wg_genl_parse_reply(a.data, a.len - 4, 9, &d), -EBADMSG);
	wg_device_done(&d);
	buf_free(&a);
	buf_free(&b);
	buf_free(&both);
}

/* ---- options and keys ---- */

static int parse(const char *json, struct wg_config *c, struct errmsg *err)
{
	memset(err, 0, sizeof(*err));
	return wg_config_parse(json, strlen(json), c, err);
}

static void test_config(void **state)
{
	struct wg_config c;
	struct errmsg err;

	assert_int_equal(parse("{\"Type\":\"wireguard\"}", &c, &err), 0);
	assert_int_equal(c.listen_port, 51820);
	assert_int_equal(c.listen_port6, 51821);
	assert_int_equal(c.mode, WG_MODE_SEPARATE);
	assert_false(c.has_psk);
	assert_int_equal(parse("{\"listenport\":4000,\"ListenPortV6\":4001,\"MTU\":1400,"
			       "\"PSK\":\""
			       "HiAJeSc9ea9nT3LgByq0FRQZ8tB+g4+vqMNhbvH6rQ0=\","
			       "\"PersistentKeepaliveInterval\":25,\"Mode\":\"auto\"}",
			       &c, &err),
			 0);
	assert_int_equal(c.listen_port, 4000);
	assert_int_equal(c.listen_port6, 4001);
	assert_int_equal(c.mtu, 1400);
	assert_true(c.has_psk);
	assert_int_equal(c.psk[0], 0x1e);
	assert_int_equal(c.keepalive, 25);
	assert_int_equal(c.mode, WG_MODE_AUTO);

	assert_int_equal(parse("{\"Mode\":\"both\"}", &c, &err), -EINVAL);
	assert_string_equal(err.text, "Backend: Mode: no valid Mode configured: \"both\"");
	assert_int_equal(parse("{\"PSK\":\"nope\"}", &c, &err), -EINVAL);
	assert_string_equal(err.text,
			    "Backend: PSK: could not parse psk: not a base64 32-byte key");
	assert_int_equal(parse("{\"PersistentKeepaliveInterval\":\"25s\"}", &c, &err), -EINVAL);
	assert_string_equal(
		err.text, "Backend: PersistentKeepaliveInterval: expected an integer, got string");
	assert_int_equal(parse("{\"ListenPort\":0}", &c, &err), -ERANGE);
	assert_int_equal(parse("{\"MTU\":100}", &c, &err), -ERANGE);
	assert_int_equal(parse("[]", &c, &err), -EINVAL);
}

static void test_keys(void **state)
{
	uint8_t pub[32], k[32];

	assert_int_equal(wg_key_public(ALICE_PRIV, pub), 0);
	assert_memory_equal(pub, ALICE_PUB, 32);
	assert_int_equal(wg_key_parse("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n", 45, k), 0);
	assert_memory_equal(k, ALICE_PRIV, 32);
	assert_int_equal(wg_key_parse("dwdt", 4, k), -EINVAL);
	/* No key and an all-zero key (what the device reports for none) share tag 0. */
	memset(k, 0, sizeof(k));
	assert_true(wg_psk_tag(NULL) == 0 && wg_psk_tag(k) == 0);
	assert_true(wg_psk_tag(PSK01) != 0 && wg_psk_tag(PSK01) != wg_psk_tag(ALICE_PRIV));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uapi_render),
		cmocka_unit_test(test_uapi_parse_get),
		cmocka_unit_test(test_uapi_parse_errors),
		cmocka_unit_test(test_genl_family_request),
		cmocka_unit_test(test_genl_family_parse),
		cmocka_unit_test(test_genl_set_remove),
		cmocka_unit_test(test_genl_set_round_trip),
		cmocka_unit_test(test_genl_multipart),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
