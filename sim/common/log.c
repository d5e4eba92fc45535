/* SPDX-License-Identifier: MIT */
/* sim/common/log.c - one-line logging for the simulated host processes. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sim.h"

/* A simulated host is one process running one host: its program name and
 * verbosity are process state, set once at start-up. */
static char log_prog[32] = "pvio-sim";
static int log_level = SIM_LOG_INFO;

void sim_log_init(const char *prog, int level)
{
	snprintf(log_prog, sizeof(log_prog), "%s", prog);
	log_level = level;
}

__attribute__((format(printf, 2, 0)))
static void vlog(int level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void vlog(int level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warning", "info",
					     "debug" };
	char line[512];
	if (level > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "%s: %s: %s\n", log_prog,
		names[level < 0 ? 0 : level > 3 ? 3 : level], line);
}

void sim_log(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void sim_log_limited(unsigned *budget, const char *fmt, ...)
{
	va_list ap;
	if (*budget == 0)
		return;
	(*budget)--;
	va_start(ap, fmt);
	vlog(SIM_LOG_WARN, fmt, ap);
	va_end(ap);
}
