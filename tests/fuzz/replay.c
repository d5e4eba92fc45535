/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/replay.c - run a fuzz harness without libFuzzer.
 *
 *   replay_NAME                  every seed, then every file of
 *                                $top_srcdir/tests/fuzz/corpus/NAME/
 *                                (what `make check` runs)
 *   replay_NAME FILE|DIR...      those inputs
 *   replay_NAME --write-seeds DIR   write the seeds as files (for libFuzzer)
 *
 * Each input gets FUZZ_REPLAY_TIMEOUT seconds (default 20) of real time;
 * a harness that hangs fails the test instead of hanging it.  A violated
 * property aborts, as under libFuzzer.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FUZZ_NAME
#error "FUZZ_NAME must name the harness"
#endif

static unsigned timeout_s = 20;
static const char *current;

static void on_alarm(int sig)
{
	(void)sig;
	static const char m[] = "replay: input did not finish in time: ";
	if (write(2, m, sizeof(m) - 1) < 0 ||
	    write(2, current, strlen(current)) < 0 || write(2, "\n", 1) < 0)
		_exit(1);
	_exit(1);
}

static void run_one(const char *name, const uint8_t *data, size_t len)
{
	current = name;
	alarm(timeout_s);
	LLVMFuzzerTestOneInput(data, len);
	alarm(0);
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: cannot open %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (!got)
			break;
	}
	fclose(f);
	/* an exact-size copy, so ASan sees reads past the end of the input */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact)
		abort();
	memcpy(exact, buf, n);
	free(buf);
	run_one(path, exact, n);
	free(exact);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order; -1 if dir cannot be read. */
static int run_dir(const char *dir, unsigned *count)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				abort();
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(path) < 0)
				r = -1;
			else
				++*count;
		}
		free(names[i]);
	}
	free(names);
	return r;
}

struct seedrun {
	const char *dir; /* write here, or run when NULL */
	unsigned count;
	int err;
};

static void on_seed(void *arg, const char *name, const void *data, size_t len)
{
	struct seedrun *s = arg;
	s->count++;
	if (s->dir) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/seed-%s", s->dir, name);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
			fprintf(stderr, "replay: cannot write %s\n", path);
			s->err = 1;
		}
		return;
	}
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact)
		abort();
	memcpy(exact, data, len);
	char label[256];
	snprintf(label, sizeof(label), "seed %s", name);
	run_one(label, exact, len);
	free(exact);
}

int main(int argc, char **argv)
{
	const char *t = getenv("FUZZ_REPLAY_TIMEOUT");
	if (t && atoi(t) > 0)
		timeout_s = (unsigned)atoi(t);
	signal(SIGALRM, on_alarm);

	if (argc == 3 && !strcmp(argv[1], "--write-seeds")) {
		struct seedrun s = { argv[2], 0, 0 };
		if (mkdir(argv[2], 0777) < 0 && errno != EEXIST) {
			fprintf(stderr, "replay: cannot create %s: %s\n", argv[2],
				strerror(errno));
			return 1;
		}
		fz_seeds(on_seed, &s);
		printf("%s: wrote %u seeds to %s\n", FUZZ_NAME, s.count, argv[2]);
		return s.err;
	}
	if (argc > 1) {
		int r = 0;
		for (int i = 1; i < argc; i++) {
			unsigned n = 0;
			struct stat st;
			if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
				if (run_dir(argv[i], &n) < 0)
					r = 1;
			} else if (run_file(argv[i]) < 0) {
				r = 1;
			}
		}
		return r;
	}

	struct seedrun s = { NULL, 0, 0 };
	fz_seeds(on_seed, &s);
	const char *top = getenv("top_srcdir");
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top ? top : ".",
		 FUZZ_NAME);
	unsigned n = 0;
	if (run_dir(dir, &n) < 0 && errno != ENOENT) {
		fprintf(stderr, "replay: cannot read %s\n", dir);
		return 1;
	}
	printf("%s: %u seeds and %u corpus inputs replayed, no property "
	       "violated\n",
	       FUZZ_NAME, s.count, n);
	return 0;
}
