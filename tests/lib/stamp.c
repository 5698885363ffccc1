// SPDX-License-Identifier: GPL-2.0
/*
 * Sector stamps for data tests; see stamp.h for the format's purpose.
 *
 * Layout of one 512-byte sector (little-endian host order):
 *   0   u64 magic
 *   8   u64 device-relative sector number
 *   16  u32 generation
 *   20  u32 seed of the run
 *   24  60 x u64 payload, a function of (seed, sector, generation, index)
 *   504 u64 checksum of bytes 0..503
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stamp.h"
#include "vstest.h"

#define WORDS		(STAMP_SECTOR / 8)
#define PAYLOAD_FIRST	3
#define SUM_WORD	(WORDS - 1)
#define MAX_REPORTS	8

static u64 mix64(u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static u64 checksum(const u64 *w)
{
	u64 h = 0x6a09e667f3bcc908ULL;
	int i;

	for (i = 0; i < SUM_WORD; i++) {
		h = (h ^ w[i]) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h;
}

static bool all_zero(const void *buf)
{
	const u64 *w = buf;
	int i;

	for (i = 0; i < WORDS; i++)
		if (w[i])
			return false;
	return true;
}

void stamp_sector(void *buf, u64 sector, u32 gen, u32 seed)
{
	u64 *w = buf;
	u64 key;
	int i;

	if (gen == STAMP_GEN_ZERO) {
		memset(buf, 0, STAMP_SECTOR);
		return;
	}
	key = sector * 0x9e3779b97f4a7c15ULL ^ (u64)gen << 32 ^ seed;
	w[0] = STAMP_MAGIC;
	w[1] = sector;
	w[2] = (u64)seed << 32 | gen;
	for (i = PAYLOAD_FIRST; i < SUM_WORD; i++)
		w[i] = mix64(key + i);
	w[SUM_WORD] = checksum(w);
}

void stamp_buf(void *buf, u64 sector, u64 nsect, u32 gen,
	       u32 seed)
{
	u64 i;

	for (i = 0; i < nsect; i++)
		stamp_sector((char *)buf + i * STAMP_SECTOR, sector + i, gen,
			     seed);
}

void stamp_decode(const void *buf, u32 seed, struct stamp_found *f)
{
	const u64 *w = buf;

	memset(f, 0, sizeof(*f));
	if (w[0] != STAMP_MAGIC) {
		f->kind = all_zero(buf) ? STAMP_ZERO : STAMP_GARBAGE;
		return;
	}
	f->sector = w[1];
	f->gen = (u32)w[2];
	f->seed = (u32)(w[2] >> 32);
	if (w[SUM_WORD] != checksum(w))
		f->kind = STAMP_TORN;
	else if (f->seed != seed)
		f->kind = STAMP_FOREIGN;
	else
		f->kind = STAMP_OK;
}

bool stamp_match(const void *buf, u64 sector, u32 expect,
		 u32 seed)
{
	const u64 *w = buf;
	u32 gen = expect & STAMP_GEN_MASK;

	if (w[0] != STAMP_MAGIC) {
		if (gen != STAMP_GEN_ZERO && !(expect & STAMP_OR_ZERO))
			return false;
		return all_zero(buf);
	}
	if (gen == STAMP_GEN_ZERO)
		return false;
	return w[1] == sector && w[2] == ((u64)seed << 32 | gen) &&
	       w[SUM_WORD] == checksum(w);
}

void stamp_describe(const void *buf, u32 seed, char *out, size_t len)
{
	struct stamp_found f;

	stamp_decode(buf, seed, &f);
	switch (f.kind) {
	case STAMP_ZERO:
		snprintf(out, len, "zeros");
		break;
	case STAMP_GARBAGE:
		snprintf(out, len, "no stamp (first word %016llx)",
			 (unsigned long long)*(const u64 *)buf);
		break;
	case STAMP_TORN:
		snprintf(out, len, "torn/corrupt stamp (bad checksum), says gen %u of sector %llu",
			 f.gen, (unsigned long long)f.sector);
		break;
	case STAMP_FOREIGN:
		snprintf(out, len, "stamp of another run (seed %08x), gen %u of sector %llu",
			 f.seed, f.gen, (unsigned long long)f.sector);
		break;
	case STAMP_OK:
		snprintf(out, len, "gen %u of sector %llu", f.gen,
			 (unsigned long long)f.sector);
		break;
	}
}

static void describe_expect(u32 expect, char *out, size_t len)
{
	u32 gen = expect & STAMP_GEN_MASK;

	if (gen == STAMP_GEN_ZERO)
		snprintf(out, len, "zeros");
	else if (expect & STAMP_OR_ZERO)
		snprintf(out, len, "gen %u or zeros", gen);
	else
		snprintf(out, len, "gen %u", gen);
}

void *stamp_alloc(size_t len)
{
	void *p;

	if (posix_memalign(&p, 4096, len ? len : 4096))
		return NULL;
	return p;
}

int stamp_write(int fd, u64 sector, u64 nsect, u32 gen,
		u32 seed)
{
	u64 max = STAMP_IO_MAX / STAMP_SECTOR;
	size_t bufsz = (nsect < max ? nsect : max) * STAMP_SECTOR;
	void *buf = stamp_alloc(bufsz);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (nsect) {
		u64 n = nsect < max ? nsect : max;
		size_t bytes = n * STAMP_SECTOR;
		ssize_t done;

		stamp_buf(buf, sector, n, gen, seed);
		done = pwrite(fd, buf, bytes, (off_t)(sector << STAMP_SHIFT));
		if (done < 0) {
			ret = -errno;
			break;
		}
		if ((size_t)done != bytes) {
			ret = -EIO;
			break;
		}
		sector += n;
		nsect -= n;
	}
	free(buf);
	return ret;
}

void stamp_map_set(u32 *map, u64 first, u64 n, u32 v)
{
	u64 i;

	for (i = 0; i < n; i++)
		map[first + i] = v;
}

void stamp_log(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Read exactly bytes at off; 0 or -errno (-EIO for a short read). */
static int read_full(int fd, void *buf, size_t bytes, off_t off)
{
	ssize_t done = pread(fd, buf, bytes, off);

	if (done < 0)
		return -errno;
	return (size_t)done == bytes ? 0 : -EIO;
}

static const char *const kind_names[] = {
	[STAMP_OK] = "stale or misplaced stamps",
	[STAMP_ZERO] = "zeros",
	[STAMP_GARBAGE] = "no stamp",
	[STAMP_TORN] = "torn/corrupt",
	[STAMP_FOREIGN] = "another run's stamps",
};

long stamp_verify(int fd, u64 sector, u64 nsect,
		  const u32 *map, u32 gen, u32 seed,
		  const char *label)
{
	u64 max = STAMP_IO_MAX / STAMP_SECTOR;
	u64 kinds[STAMP_FOREIGN + 1] = { 0 };
	u64 first_bad = 0, last_bad = 0, done = 0;
	size_t bufsz = (nsect < max ? nsect : max) * STAMP_SECTOR;
	char want[48], got[128];
	void *buf = stamp_alloc(bufsz);
	long bad = 0;
	unsigned int k;
	int ret;

	if (!buf)
		return -ENOMEM;
	while (done < nsect) {
		u64 n = nsect - done < max ? nsect - done : max;
		u64 i;

		ret = read_full(fd, buf, n * STAMP_SECTOR,
				(off_t)((sector + done) << STAMP_SHIFT));
		if (ret) {
			stamp_log("%s: read of %llu sectors at sector %llu failed: %s",
				  label, (unsigned long long)n,
				  (unsigned long long)(sector + done),
				  strerror(-ret));
			free(buf);
			return ret;
		}
		for (i = 0; i < n; i++) {
			const char *s = (const char *)buf + i * STAMP_SECTOR;
			u64 at = sector + done + i;
			u32 exp = map ? map[done + i] : gen;
			struct stamp_found f;

			if (stamp_match(s, at, exp, seed))
				continue;
			stamp_decode(s, seed, &f);
			kinds[f.kind]++;
			if (!bad)
				first_bad = at;
			last_bad = at;
			if (bad++ < MAX_REPORTS) {
				describe_expect(exp, want, sizeof(want));
				stamp_describe(s, seed, got, sizeof(got));
				stamp_log("%s: sector %llu (byte %llu): expected %s, found %s",
					  label, (unsigned long long)at,
					  (unsigned long long)at << STAMP_SHIFT,
					  want, got);
			}
		}
		done += n;
	}
	free(buf);
	if (bad) {
		stamp_log("%s: %ld of %llu sectors wrong, sectors %llu..%llu",
			  label, bad, (unsigned long long)nsect,
			  (unsigned long long)first_bad,
			  (unsigned long long)last_bad);
		for (k = 0; k < ARRAY_SIZE(kinds); k++)
			if (kinds[k])
				stamp_log("%s:   %llu sectors hold %s", label,
					  (unsigned long long)kinds[k],
					  kind_names[k]);
	}
	return bad;
}

int stamp_scan(int fd, u64 sector, u64 nsect, u32 *gens,
	       u32 seed)
{
	u64 max = STAMP_IO_MAX / STAMP_SECTOR;
	size_t bufsz = (nsect < max ? nsect : max) * STAMP_SECTOR;
	void *buf = stamp_alloc(bufsz);
	u64 done = 0;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (done < nsect) {
		u64 n = nsect - done < max ? nsect - done : max;
		u64 i;

		ret = read_full(fd, buf, n * STAMP_SECTOR,
				(off_t)((sector + done) << STAMP_SHIFT));
		if (ret)
			break;
		for (i = 0; i < n; i++) {
			const char *s = (const char *)buf + i * STAMP_SECTOR;
			struct stamp_found f;

			stamp_decode(s, seed, &f);
			if (f.kind == STAMP_ZERO)
				gens[done + i] = STAMP_GEN_ZERO;
			else if (f.kind == STAMP_OK && f.sector == sector + done + i)
				gens[done + i] = f.gen;
			else
				gens[done + i] = STAMP_SCAN_BAD;
		}
		done += n;
	}
	free(buf);
	return ret;
}

u32 stamp_seed(void)
{
	const char *env = getenv("VS_SEED");
	struct timespec ts;

	if (env && *env)
		return (u32)strtoul(env, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (u32)mix64((u64)ts.tv_nsec ^ (u64)ts.tv_sec << 32 ^
			       (u64)getpid() << 16) | 1;
}

void stamp_rng_init(struct stamp_rng *r, u64 seed)
{
	r->s = mix64(seed + 0x9e3779b97f4a7c15ULL) | 1;
}

u64 stamp_rng_next(struct stamp_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

u64 stamp_rng_range(struct stamp_rng *r, u64 lo, u64 hi)
{
	return lo + stamp_rng_next(r) % (hi - lo + 1);
}
