/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's WireGuard key pair, as upstream keeps it: the private key in
 * /run/flannel/wgkey (or $WIREGUARD_KEY_FILE), base64, mode 0400, made
 * once and reused by both devices and across restarts. The public key is
 * derived with X25519 (OpenSSL's EVP_PKEY).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lib/core/errmsg.h"
#include "lib/json/lease.h"

#define WG_KEY_FILE_DEFAULT "/run/flannel/wgkey"

/* $WIREGUARD_KEY_FILE when set and not empty, else the default. */
const char *wg_key_file_path(void);
/*
 * Read the private key from path, or when the file does not exist, make
 * one (getrandom, clamped for Curve25519) and store it (parent directory
 * 0755, file 0400). *ret_created says which.
 */
int wg_key_load_or_create(const char *path, uint8_t priv[static WG_KEY_LEN], bool *ret_created,
			  struct errmsg *err);
/* The Curve25519 public key of priv. */
int wg_key_public(const uint8_t priv[static WG_KEY_LEN], uint8_t pub[static WG_KEY_LEN]);
/* Parse a base64 key (44 characters; surrounding whitespace ignored). */
int wg_key_parse(const char *s, size_t len, uint8_t key[static WG_KEY_LEN]);
