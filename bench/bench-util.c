/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bench-util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "vfio-passthrough-bus.h"

void samples_add(struct samples *s, gint64 usec) {
        if (s->n == s->allocated) {
                s->allocated = s->allocated ? 2 * s->allocated : 64;
                s->usec = g_renew(gint64, s->usec, s->allocated);
        }
        s->usec[s->n++] = usec;
}

static int compare_int64(const void *a, const void *b) {
        gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
        return x < y ? -1 : x > y;
}

double samples_percentile(struct samples *s, double p) {
        size_t rank;

        g_assert_cmpuint(s->n, >, 0);
        qsort(s->usec, s->n, sizeof(*s->usec), compare_int64);
        rank = (size_t) ceil(p / 100.0 * (double) s->n);
        return (double) s->usec[rank == 0 ? 0 : rank - 1];
}

void samples_clear(struct samples *s) {
        g_clear_pointer(&s->usec, g_free);
        s->n = s->allocated = 0;
}

gint64 bench_call_usec(GDBusConnection *bus, const char *path, const char *interface, const char *method,
                       GVariant *parameters, GVariant **ret_reply) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        gint64 start = g_get_monotonic_time(), took;

        reply = g_dbus_connection_call_sync(bus, VFIO_PT_BUS_NAME, path, interface, method, parameters, NULL,
                                            G_DBUS_CALL_FLAGS_NONE, 120000, NULL, &error);
        took = g_get_monotonic_time() - start;
        g_assert_no_error(error);
        if (ret_reply)
                *ret_reply = g_steal_pointer(&reply);
        return took;
}

double bench_call_median_usec(GDBusConnection *bus, const char *path, const char *interface, const char *method,
                              GVariant *parameters, unsigned rounds) {
        struct samples s = {};
        double median;

        if (parameters)
                g_variant_ref_sink(parameters);
        (void) bench_call_usec(bus, path, interface, method, parameters, NULL);
        for (unsigned i = 0; i < rounds; i++)
                samples_add(&s, bench_call_usec(bus, path, interface, method, parameters, NULL));
        if (parameters)
                g_variant_unref(parameters);
        median = samples_percentile(&s, 50);
        samples_clear(&s);
        return median;
}

double bench_run_median_usec(const char *const *argv, char **env, unsigned rounds) {
        struct samples s = {};
        double median;

        for (unsigned i = 0; i <= rounds; i++) {
                g_autoptr(GError) error = NULL;
                gint64 start = g_get_monotonic_time();
                int status;

                g_assert_true(g_spawn_sync(NULL, (char **) argv, env,
                                           G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                                                   G_SPAWN_STDERR_TO_DEV_NULL,
                                           NULL, NULL, NULL, NULL, &status, &error));
                g_assert_no_error(error);
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        g_error("%s exited with status 0x%x", argv[0], status);
                if (i > 0) /* the first run warms the page cache */
                        samples_add(&s, g_get_monotonic_time() - start);
        }
        median = samples_percentile(&s, 50);
        samples_clear(&s);
        return median;
}

static unsigned status_kib(const char *status, const char *key) {
        const char *at = strstr(status, key);
        return at ? (unsigned) strtoul(at + strlen(key), NULL, 10) : 0;
}

void bench_rss_kib(GPid pid, unsigned *ret_now, unsigned *ret_peak) {
        g_autofree char *path = g_strdup_printf("/proc/%d/status", (int) pid);
        g_autofree char *status = NULL;

        g_assert_true(g_file_get_contents(path, &status, NULL, NULL));
        *ret_now = status_kib(status, "\nVmRSS:");
        *ret_peak = status_kib(status, "\nVmHWM:");
}

void bench_table_header(const char *title) {
        printf("\n%s\n", title);
        printf("%-58s %12s  %-26s %8s  %s\n", "measured", "median", "baseline (same run)", "ratio", "target");
}

static void print_row(const char *what, double value, const char *unit, const char *baseline_name,
                      double baseline, const char *target) {
        g_autofree char *figure = g_strdup_printf("%.*f %s", value < 10 ? 2 : value < 100 ? 1 : 0, value, unit);
        g_autofree char *base = baseline > 0 ? g_strdup_printf("%s %.*f %s", baseline_name,
                                                               baseline < 10 ? 2 : baseline < 100 ? 1 : 0, baseline,
                                                               unit)
                                             : g_strdup("");
        g_autofree char *ratio = baseline > 0 ? g_strdup_printf("%.2fx", value / baseline) : g_strdup("");

        printf("%-58s %12s  %-26s %8s  %s\n", what, figure, base, ratio, target);
        fflush(stdout);
}

void bench_row(const char *what, double value, const char *unit, const char *baseline_name, double baseline) {
        print_row(what, value, unit, baseline_name, baseline, "");
}

void bench_row_target(const char *what, double value, const char *unit, const char *baseline_name, double baseline,
                      const char *target_text, bool met) {
        g_autofree char *target = g_strdup_printf("%s %s", met ? "PASS" : "MISS", target_text);
        print_row(what, value, unit, baseline_name, baseline, target);
}
