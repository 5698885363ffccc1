// SPDX-License-Identifier: GPL-2.0
/*
 * _benchtool - small helpers for the benchmark rig (tests/bench/_bench.sh).
 * The leading underscore keeps the test runner from taking it for a test.
 *
 *   _benchtool now
 *	CLOCK_MONOTONIC in nanoseconds (busybox date has no %N).
 *
 *   _benchtool sums DEV OFFSET LENGTH STEP
 *	Print "INDEX HASH" for every STEP-th MiB of the range (INDEX: the MiB's
 *	number on DEV; a 64-bit hash of the MiB, read with O_DIRECT), for a
 *	later check. Sizes take K, M, G, T suffixes; OFFSET and LENGTH must be
 *	whole MiB.
 *
 *   _benchtool check DEV SUMS_FILE
 *	Hash the MiBs listed in SUMS_FILE on DEV and compare. Prints
 *	"checked N bad M first F" (F: the first bad MiB, -1 when none).
 *	Exit 0 when all match, 1 otherwise.
 *
 *   _benchtool zero DEV OFFSET STRIDE COUNT LENGTH
 *	Write LENGTH bytes of zeros at OFFSET + i * STRIDE, i < COUNT
 *	(O_DIRECT, then fsync): wipes stale exception-store headers.
 *
 *   _benchtool latprobe DEV OFFSET LENGTH BEFORE_MS AFTER_MS CMD [ARG]...
 *	A 4 KiB writer (O_DIRECT, synchronous, random 4 KiB-aligned offsets
 *	in the range) runs in a thread and times every write. After BEFORE_MS
 *	it runs CMD, timing it; AFTER_MS after CMD exits the writer stops.
 *	Prints one JSON object: CMD's wall time, its exit status and standard
 *	output (one line, as a JSON string), the writer's median and p99
 *	latency before CMD, the longest write that overlapped CMD, the
 *	longest in the second after it, and "extra_ms": the longest overlap
 *	minus the median before. Also the largest gap between write
 *	completions inside the window. LENGTH 0: no writer, CMD timed alone.
 *
 * Exit: 0, 1 on I/O or other errors, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>

typedef __u64 u64;

#define BT_BUF		(1024U * 1024)
#define BT_BLK		4096U
#define BT_MAX_LAT	(1024U * 1024)

static u64 bt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int bt_size(const char *s, u64 *out)
{
	char *end;
	u64 v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K':
		v <<= 10; end++; break;
	case 'm': case 'M':
		v <<= 20; end++; break;
	case 'g': case 'G':
		v <<= 30; end++; break;
	case 't': case 'T':
		v <<= 40; end++; break;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

/* A fast 64-bit hash of whole 4 KiB blocks: four multiply-xor lanes. */
struct bt_hash {
	u64 h[4];
};

static void bt_hash_init(struct bt_hash *s)
{
	s->h[0] = 0x9e3779b97f4a7c15ULL;
	s->h[1] = 0xc2b2ae3d27d4eb4fULL;
	s->h[2] = 0x165667b19e3779f9ULL;
	s->h[3] = 0x27d4eb2f165667c5ULL;
}

static void bt_hash_update(struct bt_hash *s, const void *buf, size_t len)
{
	const u64 *p = buf;
	size_t i, n = len / 8;
	u64 a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
	const u64 m = 0x9fb21c651e98df25ULL;

	for (i = 0; i + 4 <= n; i += 4) {
		a = (a ^ p[i]) * m;
		b = (b ^ p[i + 1]) * m;
		c = (c ^ p[i + 2]) * m;
		d = (d ^ p[i + 3]) * m;
		a ^= a >> 29;
		b ^= b >> 29;
		c ^= c >> 29;
		d ^= d >> 29;
	}
	s->h[0] = a;
	s->h[1] = b;
	s->h[2] = c;
	s->h[3] = d;
}

static u64 bt_hash_final(const struct bt_hash *s)
{
	u64 x = s->h[0];

	x = (x ^ (s->h[1] + 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (s->h[2] >> 7)) * 0x94d049bb133111ebULL;
	x ^= s->h[3] + (x << 6);
	return x ^ (x >> 31);
}

/* Hash one MiB at MiB index @i of @fd into @out; 0 or -1. */
static int bt_hash_mib(int fd, void *buf, u64 i, u64 *out)
{
	struct bt_hash h;

	if (pread(fd, buf, BT_BUF, i * BT_BUF) != BT_BUF)
		return -1;
	bt_hash_init(&h);
	bt_hash_update(&h, buf, BT_BUF);
	*out = bt_hash_final(&h);
	return 0;
}

static int bt_cmd_sums(int argc, char **argv)
{
	u64 off, len, step, i, v;
	void *buf;
	int fd;

	if (argc != 4 || bt_size(argv[1], &off) || bt_size(argv[2], &len) ||
	    bt_size(argv[3], &step) || !step || off % BT_BUF || len % BT_BUF)
		return 2;
	fd = open(argv[0], O_RDONLY | O_DIRECT);
	if (fd < 0 || posix_memalign(&buf, BT_BLK, BT_BUF)) {
		perror(argv[0]);
		return 1;
	}
	for (i = off / BT_BUF; i < (off + len) / BT_BUF; i += step) {
		if (bt_hash_mib(fd, buf, i, &v)) {
			fprintf(stderr, "%s: cannot read MiB %llu\n", argv[0],
				(unsigned long long)i);
			return 1;
		}
		printf("%llu %016llx\n", (unsigned long long)i, (unsigned long long)v);
	}
	return 0;
}

static int bt_cmd_check(int argc, char **argv)
{
	unsigned long long i, want;
	long long first = -1;
	u64 n = 0, bad = 0, got;
	void *buf;
	FILE *f;
	int fd;

	if (argc != 2)
		return 2;
	fd = open(argv[0], O_RDONLY | O_DIRECT);
	f = fopen(argv[1], "r");
	if (fd < 0 || !f || posix_memalign(&buf, BT_BLK, BT_BUF)) {
		perror("check");
		return 1;
	}
	while (fscanf(f, "%llu %llx", &i, &want) == 2) {
		n++;
		if (bt_hash_mib(fd, buf, i, &got) || got != want) {
			bad++;
			if (first < 0)
				first = i;
		}
	}
	printf("checked %llu bad %llu first %lld\n", (unsigned long long)n,
	       (unsigned long long)bad, first);
	return bad || !n;
}

static int bt_cmd_zero(int argc, char **argv)
{
	u64 off, stride, count, len, i;
	void *buf;
	int fd;

	if (argc != 5 || bt_size(argv[1], &off) || bt_size(argv[2], &stride) ||
	    bt_size(argv[3], &count) || bt_size(argv[4], &len) || len % BT_BLK)
		return 2;
	fd = open(argv[0], O_WRONLY | O_DIRECT);
	if (fd < 0 || posix_memalign(&buf, BT_BLK, len)) {
		perror(argv[0]);
		return 1;
	}
	memset(buf, 0, len);
	for (i = 0; i < count; i++)
		if (pwrite(fd, buf, len, off + i * stride) != (ssize_t)len) {
			perror("zero");
			return 1;
		}
	return fsync(fd) ? 1 : 0;
}

/* latprobe: the writer thread and its log. */
struct bt_lat {
	u64 start, end;
};

struct bt_probe {
	int fd;
	u64 off, len;
	bool stop;		/* __atomic */
	struct bt_lat *log;
	unsigned int n;
	int err;
};

static void *bt_writer(void *arg)
{
	struct bt_probe *p = arg;
	u64 blocks = p->len / BT_BLK, x = 88172645463325252ULL;
	void *buf;

	if (posix_memalign(&buf, BT_BLK, BT_BLK)) {
		p->err = ENOMEM;
		return NULL;
	}
	memset(buf, 0xa5, BT_BLK);
	while (!__atomic_load_n(&p->stop, __ATOMIC_RELAXED) && p->n < BT_MAX_LAT) {
		struct bt_lat *l = &p->log[p->n];

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		((u64 *)buf)[0] = x;
		l->start = bt_now();
		if (pwrite(p->fd, buf, BT_BLK, p->off + (x % blocks) * BT_BLK) != BT_BLK) {
			p->err = errno ? errno : EIO;
			break;
		}
		l->end = bt_now();
		p->n++;
	}
	free(buf);
	return NULL;
}

static int bt_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static void bt_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s == '\n' ? ' ' : *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static int bt_cmd_latprobe(int argc, char **argv)
{
	u64 before_ms, after_ms, t0, t1, *base, med = 0, p99 = 0;
	u64 max_in = 0, max_after = 0, gap = 0, last_end;
	unsigned int i, nb = 0, nin = 0;
	struct bt_probe p = { 0 };
	char out[4096] = "";
	int pipefd[2], status;
	size_t got = 0;
	pthread_t th;
	ssize_t r;
	pid_t pid;

	if (argc < 6 || bt_size(argv[1], &p.off) || bt_size(argv[2], &p.len) ||
	    bt_size(argv[3], &before_ms) || bt_size(argv[4], &after_ms) ||
	    (p.len && p.len < BT_BLK))
		return 2;
	p.fd = p.len ? open(argv[0], O_WRONLY | O_DIRECT) : -1;
	if (p.len && p.fd < 0) {
		perror(argv[0]);
		return 1;
	}
	p.log = calloc(BT_MAX_LAT, sizeof(*p.log));
	base = calloc(BT_MAX_LAT, sizeof(*base));
	if (!p.log || !base || pipe(pipefd))
		return 1;
	if (p.len && pthread_create(&th, NULL, bt_writer, &p))
		return 1;
	usleep(before_ms * 1000);
	t0 = bt_now();
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execvp(argv[5], argv + 5);
		_exit(127);
	}
	close(pipefd[1]);
	while (got < sizeof(out) - 1 &&
	       (r = read(pipefd[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += r;
	out[got] = 0;
	while (got && out[got - 1] == '\n')
		out[--got] = 0;
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	t1 = bt_now();
	usleep(after_ms * 1000);
	__atomic_store_n(&p.stop, true, __ATOMIC_RELAXED);
	if (p.len)
		pthread_join(th, NULL);

	last_end = t0;
	for (i = 0; i < p.n; i++) {
		struct bt_lat *l = &p.log[i];
		u64 lat = l->end - l->start;

		if (l->end < t0) {
			base[nb++] = lat;
		} else if (l->start <= t1) {
			nin++;
			if (lat > max_in)
				max_in = lat;
		} else if (l->start <= t1 + 1000000000ULL && lat > max_after) {
			max_after = lat;
		}
		if (l->end >= t0 && l->start <= t1) {
			if (l->end - last_end > gap)
				gap = l->end - last_end;
			last_end = l->end;
		}
	}
	if (nb) {
		qsort(base, nb, sizeof(*base), bt_cmp_u64);
		med = base[nb / 2];
		p99 = base[(nb * 99) / 100];
	}
	printf("{\"cmd_ms\": %.3f, \"cmd_status\": %d, \"cmd_out\": ",
	       (t1 - t0) / 1e6, WIFEXITED(status) ? WEXITSTATUS(status) : 128);
	bt_json_string(out);
	printf(", \"writes_before\": %u, \"base_med_ms\": %.3f, \"base_p99_ms\": %.3f, ",
	       nb, med / 1e6, p99 / 1e6);
	printf("\"writes_in_window\": %u, \"max_in_window_ms\": %.3f, ", nin, max_in / 1e6);
	printf("\"max_gap_in_window_ms\": %.3f, \"max_after_1s_ms\": %.3f, ",
	       gap / 1e6, max_after / 1e6);
	printf("\"extra_ms\": %.3f, \"writer_error\": %d}\n",
	       (max_in > med ? max_in - med : 0) / 1e6, p.err);
	return p.err ? 1 : 0;
}

int main(int argc, char **argv)
{
	int ret = 2;

	if (argc >= 2 && !strcmp(argv[1], "now")) {
		printf("%llu\n", (unsigned long long)bt_now());
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "sums"))
		ret = bt_cmd_sums(argc - 2, argv + 2);
	else if (argc >= 2 && !strcmp(argv[1], "check"))
		ret = bt_cmd_check(argc - 2, argv + 2);
	else if (argc >= 2 && !strcmp(argv[1], "zero"))
		ret = bt_cmd_zero(argc - 2, argv + 2);
	else if (argc >= 2 && !strcmp(argv[1], "latprobe"))
		ret = bt_cmd_latprobe(argc - 2, argv + 2);
	if (ret == 2)
		fprintf(stderr,
			"usage: _benchtool now\n"
			"       _benchtool sums DEV OFFSET LENGTH STEP\n"
			"       _benchtool check DEV SUMS_FILE\n"
			"       _benchtool zero DEV OFFSET STRIDE COUNT LENGTH\n"
			"       _benchtool latprobe DEV OFFSET LENGTH BEFORE_MS AFTER_MS CMD [ARG]...\n");
	return ret;
}
