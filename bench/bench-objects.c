/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What an app pays to read the whole machine: GetManagedObjects and ListDevices on a tree of 4096
 * PCI functions, against the real daemon, with the bus round trip (Peer.Ping to the daemon) as
 * the baseline measured in the same run. Prints medians and ratios; no pass/fail. */
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "pci-tree.h"
#include "vfio-passthrough-bus.h"

#define FUNCTIONS 4096
#define ROUNDS 21

/* 16 buses of 32 slots of 8 functions, each in its own IOMMU group, half of them on a driver. */
static void populate(UMockdevTestbed *testbed) {
        for (int i = 0; i < FUNCTIONS; i++) {
                g_autofree char *address = g_strdup_printf("0000:%02x:%02x.%d", 0x80 + i / 256, (i / 8) % 32, i % 8);
                const struct fake_pci_device d = {
                        .address = address,
                        .vendor = 0x8086, .device = 0x1521, .subsystem_vendor = 0x8086, .subsystem_device = 0x0001,
                        .class_code = 0x020000,
                        .driver = i % 2 ? "igb" : NULL,
                        .iommu_group = 1000 + i,
                        .boot_vga = -1,
                };
                fake_pci_device_add(testbed, &d);
        }
}

static int compare_int64(const void *a, const void *b) {
        gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
        return x < y ? -1 : x > y;
}

static double median_usec(struct harness *h, const char *interface, const char *method, guint *ret_objects) {
        gint64 samples[ROUNDS];

        for (int i = 0; i < ROUNDS; i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = NULL;
                gint64 start = g_get_monotonic_time();

                reply = g_dbus_connection_call_sync(h->bus.connection, VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH,
                                                    interface, method, NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                                    &error);
                g_assert_no_error(error);
                samples[i] = g_get_monotonic_time() - start;
                if (ret_objects) {
                        g_autoptr(GVariant) first = g_variant_get_child_value(reply, 0);
                        *ret_objects = g_variant_n_children(first);
                }
        }
        qsort(samples, ROUNDS, sizeof(samples[0]), compare_int64);
        return (double) samples[ROUNDS / 2];
}

int main(void) {
        const struct harness_options options = { .populate = populate };
        struct harness h;
        double ping, objects, list;
        guint n_objects = 0, n_listed = 0;

        harness_start_with(&h, &options);
        /* Warm up the daemon's hwdb and the page cache. */
        (void) median_usec(&h, VFIO_PT_INTERFACE, "ListDevices", NULL);

        ping = median_usec(&h, "org.freedesktop.DBus.Peer", "Ping", NULL);
        objects = median_usec(&h, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", &n_objects);
        list = median_usec(&h, VFIO_PT_INTERFACE, "ListDevices", &n_listed);
        harness_stop(&h);

        printf("%-52s %10s %8s\n", "call (median of 21)", "usec", "x ping");
        printf("%-52s %10.0f %8.1f\n", "Peer.Ping (baseline)", ping, 1.0);
        printf("%-52s %10.0f %8.1f\n", g_strdup_printf("GetManagedObjects (%u objects: devices, groups)", n_objects),
               objects, objects / ping);
        printf("%-52s %10.0f %8.1f\n", g_strdup_printf("ListDevices (%u devices, read from sysfs)", n_listed), list,
               list / ping);
        return 0;
}
