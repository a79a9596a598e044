/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host-local-compatible address store; see ipam.h for the format and the
 * allocation order.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "ipam.h"
#include "lib/core/fileio.h"

#define LINE_BREAK "\r\n"
#define TMP_PREFIX ".flannel-tmp-"
#define LOCK_FILE  "lock"

int ipam_range_init(const struct ip_net *subnet, struct ipam_range *ret)
{
	unsigned bits = ip_family_bits(subnet->addr.family);
	struct ipam_range r = {.subnet = *subnet};
	if (bits == 0 || subnet->prefixlen > bits - 2)
		return -EINVAL;
	ip_net_mask(&r.subnet);
	(void)ip_addr_add(&r.subnet.addr, 1, &r.start);
	r.gateway = r.start;
	ip_net_last_addr(&r.subnet, &r.end);
	if (subnet->addr.family == AF_INET)
		(void)ip_addr_add(&r.end, -1, &r.end);
	*ret = r;
	return 0;
}

bool ipam_range_contains(const struct ipam_range *r, const struct ip_addr *a)
{
	return a->family == r->start.family && ip_addr_cmp(a, &r->start) >= 0 &&
	       ip_addr_cmp(a, &r->end) <= 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static void trim(const char **data, size_t *len)
{
	while (*len > 0 && is_space(**data)) {
		(*data)++;
		(*len)--;
	}
	while (*len > 0 && is_space((*data)[*len - 1]))
		(*len)--;
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > IPAM_IFNAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || is_space(*s))
			return false;
	return true;
}

int ipam_entry_parse(const char *data, size_t len, struct ipam_entry *ret)
{
	struct ipam_entry e = {};
	trim(&data, &len);
	if (memchr(data, '\0', len))
		return -EINVAL;
	const char *brk = memmem(data, len, LINE_BREAK, 2);
	size_t id_len = brk ? (size_t)(brk - data) : len;
	if (id_len == 0 || id_len > IPAM_ID_MAX)
		return -EINVAL;
	memcpy(e.id, data, id_len);
	if (brk) {
		size_t if_len = len - id_len - 2;
		if (if_len > IPAM_IFNAME_MAX)
			return -EINVAL;
		memcpy(e.ifname, brk + 2, if_len);
		if (!valid_ifname(e.ifname))
			return -EINVAL;
	}
	if (!cni_conf_valid_id(e.id))
		return -EINVAL;
	*ret = e;
	return 0;
}

int ipam_entry_format(const char *id, const char *ifname, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s" LINE_BREAK "%s", id, ifname);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : n;
}

bool ipam_entry_matches(const struct ipam_entry *e, const char *id, const char *ifname)
{
	return strcmp(e->id, id) == 0 && (e->ifname[0] == '\0' || strcmp(e->ifname, ifname) == 0);
}

int ipam_last_parse(const char *data, size_t len, struct ip_addr *ret)
{
	char text[IP_ADDR_STRLEN];
	trim(&data, &len);
	if (len == 0 || len >= sizeof(text) || memchr(data, '\0', len))
		return -EINVAL;
	memcpy(text, data, len);
	text[len] = '\0';
	return ip_addr_parse(text, ret);
}

static void advance(const struct ipam_range *r, struct ip_addr *a)
{
	if (ip_addr_cmp(a, &r->end) >= 0)
		*a = r->start;
	else
		(void)ip_addr_add(a, 1, a);
}

void ipam_iter_init(struct ipam_iter *it, const struct ipam_range *r, const struct ip_addr *last)
{
	*it = (struct ipam_iter){.range = *r, .first = r->start};
	if (last && ip_addr_is_set(last) && ipam_range_contains(r, last)) {
		it->first = *last;
		advance(r, &it->first);
	}
	it->cur = it->first;
}

bool ipam_iter_next(struct ipam_iter *it, struct ip_addr *ret)
{
	while (!it->done) {
		if (it->started) {
			advance(&it->range, &it->cur);
			if (ip_addr_equal(&it->cur, &it->first)) {
				it->done = true;
				break;
			}
		}
		it->started = true;
		if (!ip_addr_equal(&it->cur, &it->range.gateway)) {
			*ret = it->cur;
			return true;
		}
	}
	return false;
}

int ipam_store_open(const char *data_dir, const char *network, struct ipam_store *ret)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int dir_fd = -1, lock_fd = -1;
	if (!cni_conf_valid_id(network))
		return -EINVAL;
	if (asprintf(&path, "%s/%s", data_dir, network) < 0)
		return -ENOMEM;
	int r = mkdir_p(path, 0755);
	if (r < 0)
		return r;
	dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return negative_errno();
	lock_fd = openat(dir_fd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lock_fd < 0)
		return negative_errno();
	while (flock(lock_fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return negative_errno();
	*ret = (struct ipam_store){.dir_fd = TAKE_FD(dir_fd), .lock_fd = TAKE_FD(lock_fd)};
	return 0;
}

void ipam_store_close(struct ipam_store *s)
{
	/* Closing the last descriptor of the lock file releases the lock. */
	closep(&s->lock_fd);
	closep(&s->dir_fd);
	s->lock_fd = s->dir_fd = -1;
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* Reads a small file of the store; -EFBIG beyond max. */
static int read_at(int dir_fd, const char *name, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return negative_errno();
	return read_fd_bounded(fd, max, ret, ret_len);
}

/*
 * Calls cb for every reservation (a regular file named by an address) with
 * its address and parsed entry (r < 0 when unreadable or malformed);
 * removes temporary files a crash left behind. A negative cb return stops.
 */
static int scan(struct ipam_store *s,
		int (*cb)(struct ipam_store *s, const char *name, const struct ip_addr *a,
			  const struct ipam_entry *e, int r, void *userdata),
		void *userdata)
{
	int fd = openat(s->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	_cleanup_(closedirp) DIR *dir = fdopendir(fd);
	if (!dir) {
		int r = negative_errno();
		close(fd);
		return r;
	}
	struct dirent *de;
	while ((errno = 0, de = readdir(dir))) {
		struct ip_addr a;
		struct ipam_entry e = {};
		_cleanup_free_ char *data = NULL;
		size_t len;
		if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
			(void)unlinkat(s->dir_fd, de->d_name, 0);
			continue;
		}
		if (ip_addr_parse(de->d_name, &a) < 0)
			continue;
		int r = read_at(s->dir_fd, de->d_name, IPAM_ENTRY_MAX_SIZE, &data, &len);
		if (r == -ENOENT)
			continue;
		if (r >= 0)
			r = ipam_entry_parse(data, len, &e);
		r = cb(s, de->d_name, &a, &e, r, userdata);
		if (r < 0)
			return r;
	}
	return errno ? negative_errno() : 0;
}

struct find_ctx {
	const char *id, *ifname;
	const struct ipam_range *range;
	struct ip_addr found;
};

static int find_cb(struct ipam_store *s, const char *name, const struct ip_addr *a,
		   const struct ipam_entry *e, int r, void *userdata)
{
	struct find_ctx *c = userdata;
	if (r >= 0 && !ip_addr_is_set(&c->found) && ipam_range_contains(c->range, a) &&
	    ipam_entry_matches(e, c->id, c->ifname))
		c->found = *a;
	return 0;
}

int ipam_find(struct ipam_store *s, const char *id, const char *ifname,
	      const struct ipam_range *range, struct ip_addr *ret)
{
	struct find_ctx c = {.id = id, .ifname = ifname, .range = range};
	int r = scan(s, find_cb, &c);
	if (r < 0)
		return r;
	if (!ip_addr_is_set(&c.found))
		return -ENOENT;
	*ret = c.found;
	return 0;
}

static int write_tmp(struct ipam_store *s, const char *tmp, const void *data, size_t len)
{
	_cleanup_close_ int fd =
		openat(s->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return negative_errno();
	/* The umask does not apply: host-local's files are 0644. */
	if (fchmod(fd, 0644) < 0)
		return negative_errno();
	for (const char *p = data; len > 0;) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Rewrites the hint in place, as host-local does (it is only a hint: a torn
 * write garbles it, and a garbled hint is ignored). Not renamed over nor
 * truncated to zero: ext4 then writes the new file out at once
 * (auto_da_alloc) and frees, so discards, the old one's block, which took
 * 0.5-4 ms of every ADD on a discard-mounted disk.
 */
static int write_hint(struct ipam_store *s, const char *name, const char *text)
{
	size_t len = strlen(text);
	_cleanup_close_ int fd =
		openat(s->dir_fd, name, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return negative_errno();
	if (fchmod(fd, 0644) < 0)
		return negative_errno();
	ssize_t n = pwrite(fd, text, len, 0);
	if (n < 0)
		return negative_errno();
	if ((size_t)n != len)
		return -EIO;
	return ftruncate(fd, (off_t)len) < 0 ? negative_errno() : 0;
}

int ipam_allocate(struct ipam_store *s, unsigned set_index, const struct ipam_range *range,
		  const char *id, const char *ifname, struct ip_addr *ret)
{
	char entry[IPAM_ENTRY_MAX_SIZE], tmp[64], last_name[64], text[IP_ADDR_STRLEN];
	_cleanup_free_ char *last_data = NULL;
	struct ip_addr last = {}, a, existing;
	struct ipam_iter it;
	size_t len;
	int n = ipam_entry_format(id, ifname, entry, sizeof(entry));
	if (n < 0)
		return n;
	int r = ipam_find(s, id, ifname, range, &existing);
	if (r >= 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;

	snprintf(last_name, sizeof(last_name), "last_reserved_ip.%u", set_index);
	if (read_at(s->dir_fd, last_name, 256, &last_data, &len) >= 0)
		(void)ipam_last_parse(last_data, len, &last);
	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%d", (int)getpid());
	r = write_tmp(s, tmp, entry, (size_t)n);
	if (r < 0)
		return r;
	r = -ENOSPC;
	ipam_iter_init(&it, range, &last);
	while (ipam_iter_next(&it, &a)) {
		if (linkat(s->dir_fd, tmp, s->dir_fd, ip_addr_fmt(&a, text), 0) == 0) {
			r = 0;
			break;
		}
		if (errno != EEXIST) {
			r = negative_errno();
			break;
		}
	}
	(void)unlinkat(s->dir_fd, tmp, 0);
	if (r < 0)
		return r;
	/* The hint for the next allocation; losing it only changes where that one starts. */
	(void)write_hint(s, last_name, text);
	*ret = a;
	return 0;
}

struct release_ctx {
	const char *id, *ifname;
	bool (*keep)(const struct ipam_entry *e, void *userdata);
	void (*gone)(const struct ipam_entry *e, void *userdata);
	void *userdata;
	int count;
};

static int release_cb(struct ipam_store *s, const char *name, const struct ip_addr *a,
		      const struct ipam_entry *e, int r, void *userdata)
{
	struct release_ctx *c = userdata;
	bool drop = c->keep ? r < 0 || !c->keep(e, c->userdata)
			    : r >= 0 && ipam_entry_matches(e, c->id, c->ifname);
	if (!drop)
		return 0;
	if (unlinkat(s->dir_fd, name, 0) < 0)
		return errno == ENOENT ? 0 : negative_errno();
	c->count++;
	if (r >= 0 && c->gone)
		c->gone(e, c->userdata);
	return 0;
}

int ipam_release(struct ipam_store *s, const char *id, const char *ifname)
{
	struct release_ctx c = {.id = id, .ifname = ifname};
	int r = scan(s, release_cb, &c);
	return r < 0 ? r : c.count;
}

int ipam_gc(struct ipam_store *s, bool (*keep)(const struct ipam_entry *e, void *userdata),
	    void (*gone)(const struct ipam_entry *e, void *userdata), void *userdata)
{
	struct release_ctx c = {.keep = keep, .gone = gone, .userdata = userdata};
	int r = scan(s, release_cb, &c);
	return r < 0 ? r : c.count;
}
