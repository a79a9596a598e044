/* SPDX-License-Identifier: Apache-2.0 */
/* The WireGuard key file and X25519 public key derivation. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/base64.h"
#include "lib/core/buf.h"
#include "lib/core/fileio.h"
#include "lib/core/macro.h"
#include "wg_key.h"

#define KEY_FILE_MAX 4096

const char *wg_key_file_path(void)
{
	const char *p = getenv("WIREGUARD_KEY_FILE");
	return p && *p ? p : WG_KEY_FILE_DEFAULT;
}

int wg_key_parse(const char *s, size_t len, uint8_t key[static WG_KEY_LEN])
{
	_cleanup_free_ char *raw = NULL;
	size_t n = 0;

	if (base64_decode(s, len, BASE64_LENIENT, &raw, &n) < 0 || n != WG_KEY_LEN)
		return -EINVAL;
	memcpy(key, raw, WG_KEY_LEN);
	explicit_bzero(raw, n);
	return 0;
}

int wg_key_public(const uint8_t priv[static WG_KEY_LEN], uint8_t pub[static WG_KEY_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, WG_KEY_LEN);
	size_t n = WG_KEY_LEN;
	int r = 0;

	if (!k)
		return -EINVAL;
	if (EVP_PKEY_get_raw_public_key(k, pub, &n) != 1 || n != WG_KEY_LEN)
		r = -EINVAL;
	EVP_PKEY_free(k);
	return r;
}

static int create_key(const char *path, uint8_t priv[static WG_KEY_LEN], struct errmsg *err)
{
	_cleanup_buf_ struct buf b64 = BUF_INIT;
	_cleanup_free_ char *dir = strdup(path);
	_cleanup_close_ int fd = -1;
	size_t off = 0;
	int r;

	if (!dir)
		return -ENOMEM;
	if (getrandom(priv, WG_KEY_LEN, 0) != WG_KEY_LEN)
		return errmsg_set(err, "could not generate a private key: %s", strerror(errno)),
		       -EIO;
	priv[0] &= 248;
	priv[31] = (uint8_t)((priv[31] & 127) | 64);
	r = base64_encode(priv, WG_KEY_LEN, &b64);
	if (r < 0)
		return r;
	r = mkdir_p(dirname(dir), 0755);
	if (r < 0)
		return errmsg_set(err, "could not create the directory of %s: %s", path,
				  strerror(-r)),
		       r;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
	if (fd < 0)
		return errmsg_set(err, "could not create %s: %s", path, strerror(errno)), -errno;
	if (fchmod(fd, 0400) < 0)
		return errmsg_set(err, "could not chmod %s: %s", path, strerror(errno)), -errno;
	while (off < b64.len) {
		ssize_t n = write(fd, b64.data + off, b64.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			(void)unlink(path);
			return errmsg_set(err, "could not write %s: %s", path, strerror(-r)), r;
		}
		off += (size_t)n;
	}
	explicit_bzero(b64.data, b64.len);
	return 0;
}

int wg_key_load_or_create(const char *path, uint8_t priv[static WG_KEY_LEN], bool *ret_created,
			  struct errmsg *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r;

	r = read_file_bounded(path, KEY_FILE_MAX, &text, &len);
	if (r == -ENOENT) {
		r = create_key(path, priv, err);
		if (r >= 0)
			*ret_created = true;
		return r;
	}
	if (r < 0)
		return errmsg_set(err, "could not read private key file %s: %s", path,
				  strerror(-r)),
		       r;
	r = wg_key_parse(text, len, priv);
	explicit_bzero(text, len);
	if (r < 0)
		return errmsg_set(err, "could not parse private key from file %s", path), r;
	*ret_created = false;
	return 0;
}
