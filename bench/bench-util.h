/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <stdbool.h>

/* What the benchmarks share: timing samples, calls to the daemon, the table they print. Every
 * figure is a median (or a percentile) of samples taken in the same run as its baseline. */

struct samples {
        gint64 *usec;
        size_t n, allocated;
};

void samples_add(struct samples *s, gint64 usec);
/* p in [0, 100]: the nearest-rank percentile; 50 is the median. */
double samples_percentile(struct samples *s, double p);
void samples_clear(struct samples *s);

/* Times one method call; the reply is returned when asked for. Aborts on an error. */
gint64 bench_call_usec(GDBusConnection *bus, const char *path, const char *interface, const char *method,
                       GVariant *parameters, GVariant **ret_reply);

/* Median of rounds calls (after one warm-up call). */
double bench_call_median_usec(GDBusConnection *bus, const char *path, const char *interface, const char *method,
                              GVariant *parameters, unsigned rounds);

/* Median wall time of running argv rounds times (stdout and stderr discarded; must exit 0). env:
 * NULL for the benchmark's own. */
double bench_run_median_usec(const char *const *argv, char **env, unsigned rounds);

/* A process's resident set now and at its peak (VmRSS, VmHWM), in KiB. */
void bench_rss_kib(GPid pid, unsigned *ret_now, unsigned *ret_peak);

/* One row of the result table: what was measured, the figure, its baseline's name and figure
 * (ratio printed when baseline > 0), and a target when there is one: PASS or MISS, never a
 * failure of the run. */
void bench_table_header(const char *title);
void bench_row(const char *what, double value, const char *unit, const char *baseline_name, double baseline);
void bench_row_target(const char *what, double value, const char *unit, const char *baseline_name, double baseline,
                      const char *target_text, bool met);
