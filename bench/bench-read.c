/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* How long the read-only calls take, against the real daemon over the fake PCI tree, with the
 * bus round trip itself (org.freedesktop.DBus.Peer.Ping to the daemon) as the baseline measured
 * in the same run. Prints medians and the ratio to the baseline; no pass/fail. */
#include <gio/gio.h>

#include "bench-util.h"
#include "harness.h"
#include "vfio-passthrough-bus.h"

#define ROUNDS 300

static double median_ms(struct harness *h, const char *interface, const char *method, GVariant *parameters) {
        return bench_call_median_usec(h->bus.connection, VFIO_PT_OBJECT_PATH, interface, method, parameters, ROUNDS) /
               1000;
}

int main(void) {
        struct harness h;
        double ping, list, describe;

        harness_start(&h);
        /* Warm up the daemon's hwdb and page cache before measuring. */
        (void) median_ms(&h, VFIO_PT_INTERFACE, "ListDevices", NULL);

        ping = median_ms(&h, "org.freedesktop.DBus.Peer", "Ping", NULL);
        list = median_ms(&h, VFIO_PT_INTERFACE, "ListDevices", NULL);
        describe = median_ms(&h, VFIO_PT_INTERFACE, "DescribeDevice", g_variant_new("(s)", "01:00.0"));
        harness_stop(&h);

        bench_table_header("read calls on the service tests' machine (17 functions), medians of 300");
        bench_row("Peer.Ping (the bus round trip)", ping, "ms", "", 0);
        bench_row("ListDevices (17 devices)", list, "ms", "Ping", ping);
        bench_row("DescribeDevice (GPU, 3-member group)", describe, "ms", "Ping", ping);
        return 0;
}
