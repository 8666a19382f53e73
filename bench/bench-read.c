/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* How long the read-only calls take, against the real daemon over the fake PCI tree, with the
 * bus round trip itself (org.freedesktop.DBus.Peer.Ping to the daemon) as the baseline measured
 * in the same run. Prints medians and the ratio to the baseline; no pass/fail. */
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "vfio-passthrough-bus.h"

#define ROUNDS 300

static int compare_int64(const void *a, const void *b) {
        gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
        return x < y ? -1 : x > y;
}

static double median_usec(struct harness *h, const char *interface, const char *method, GVariant *parameters) {
        gint64 samples[ROUNDS];

        if (parameters)
                g_variant_ref_sink(parameters);
        for (int i = 0; i < ROUNDS; i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = NULL;
                gint64 start = g_get_monotonic_time();

                reply = g_dbus_connection_call_sync(h->bus.connection, VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH,
                                                    interface, method, parameters, NULL, G_DBUS_CALL_FLAGS_NONE,
                                                    -1, NULL, &error);
                g_assert_no_error(error);
                samples[i] = g_get_monotonic_time() - start;
        }
        if (parameters)
                g_variant_unref(parameters);
        qsort(samples, ROUNDS, sizeof(samples[0]), compare_int64);
        return (double) samples[ROUNDS / 2];
}

int main(void) {
        struct harness h;
        double ping, list, describe;

        harness_start(&h);
        /* Warm up the daemon's hwdb and page cache before measuring. */
        (void) median_usec(&h, VFIO_PT_INTERFACE, "ListDevices", NULL);

        ping = median_usec(&h, "org.freedesktop.DBus.Peer", "Ping", NULL);
        list = median_usec(&h, VFIO_PT_INTERFACE, "ListDevices", NULL);
        describe = median_usec(&h, VFIO_PT_INTERFACE, "DescribeDevice", g_variant_new("(s)", "01:00.0"));
        harness_stop(&h);

        printf("%-40s %10s %8s\n", "call (median of 300)", "usec", "x ping");
        printf("%-40s %10.0f %8.1f\n", "Peer.Ping (baseline)", ping, 1.0);
        printf("%-40s %10.0f %8.1f\n", "ListDevices (17 devices)", list, list / ping);
        printf("%-40s %10.0f %8.1f\n", "DescribeDevice (GPU, 3-member group)", describe, describe / ping);
        return 0;
}
