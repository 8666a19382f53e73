/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon at the scale of a big server: trees of 256, 1024 and 4096 PCI functions in the
 * shapes such servers have (SR-IOV NICs whose physical and virtual functions each sit in a group
 * of one; GPU cards and quad-port NICs whose four functions share a group), with names from the
 * hwdb. For each size: start-up to owning the bus name, resident memory, the read calls, the
 * client's `list`, and `lspci -Dnnk` reading the same tree as the baseline. Medians; targets are
 * printed PASS or MISS and never fail the run. */
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench-util.h"
#include "harness.h"
#include "pci-tree.h"
#include "vfio-passthrough-bus.h"

#define STARTS 7

struct shape {
        unsigned functions;
};

/* One slot of eight functions. */
static void add_function(UMockdevTestbed *testbed, unsigned bus, unsigned slot, unsigned fn, unsigned vendor,
                         unsigned device, unsigned class_code, const char *driver, int group) {
        g_autofree char *address = g_strdup_printf("0000:%02x:%02x.%u", bus, slot, fn);
        const struct fake_pci_device d = {
                .address = address,
                .vendor = vendor, .device = device, .subsystem_vendor = vendor, .subsystem_device = 0x0001,
                .class_code = class_code,
                .driver = driver,
                .iommu_group = group,
                .boot_vga = (class_code >> 8) == 0x0300 ? 0 : -1,
        };
        fake_pci_device_add(testbed, &d);
}

/* Slots alternate: two SR-IOV NIC ports (a PF on igb and three VFs, two of them on igbvf), then
 * a GPU card (VGA, HDMI audio, USB, USB-C) and a quad-port NIC, four functions per group. */
static void populate(UMockdevTestbed *testbed, const void *data) {
        const struct shape *shape = data;
        int group = 1000;

        for (unsigned slot_index = 0; slot_index < shape->functions / 8; slot_index++) {
                unsigned bus = 0x80 + slot_index / 32, slot = slot_index % 32;

                if (slot_index % 2 == 0) {
                        for (unsigned port = 0; port < 2; port++) {
                                add_function(testbed, bus, slot, 4 * port, 0x8086, 0x1521, 0x020000, "igb", group++);
                                for (unsigned vf = 1; vf < 4; vf++)
                                        add_function(testbed, bus, slot, 4 * port + vf, 0x8086, 0x1520, 0x020000,
                                                     vf < 3 ? "igbvf" : NULL, group++);
                        }
                } else {
                        add_function(testbed, bus, slot, 0, 0x10de, 0x2206, 0x030000, "nouveau", group);
                        add_function(testbed, bus, slot, 1, 0x10de, 0x1aef, 0x040300, "snd_hda_intel", group);
                        add_function(testbed, bus, slot, 2, 0x10de, 0x1ada, 0x0c0330, "xhci_hcd", group);
                        add_function(testbed, bus, slot, 3, 0x10de, 0x1adb, 0x0c8000, NULL, group++);
                        for (unsigned port = 0; port < 4; port++)
                                add_function(testbed, bus, slot, 4 + port, 0x8086, 0x1521, 0x020000, "igb", group);
                        group++;
                }
        }
}

static double startup_median_usec(struct harness *h) {
        struct samples s = {};
        double median;

        for (int i = 0; i < STARTS; i++) {
                gint64 start;

                harness_stop_daemon(h);
                g_usleep(200000); /* the bus drops the old owner's name */
                start = g_get_monotonic_time();
                harness_start_daemon(h);
                samples_add(&s, g_get_monotonic_time() - start);
        }
        median = samples_percentile(&s, 50);
        samples_clear(&s);
        return median;
}

static guint reply_count(GDBusConnection *bus, const char *interface, const char *method) {
        g_autoptr(GVariant) reply = NULL, first = NULL;

        (void) bench_call_usec(bus, VFIO_PT_OBJECT_PATH, interface, method, NULL, &reply);
        first = g_variant_get_child_value(reply, 0);
        return (guint) g_variant_n_children(first);
}

static void measure(unsigned functions) {
        const struct shape shape = { functions };
        const struct harness_options options = { .populate = populate, .populate_data = &shape,
                                               .without_default_tree = TRUE };
        struct harness h;
        g_autofree char *root = NULL, *sysfs_option = NULL, *title = NULL;
        const char *lspci[] = { "lspci", "-Dnnk", "-A", "linux-sysfs", "-O", NULL, NULL };
        const char *ctl_list[] = { CTL_PATH, "list", NULL };
        const char *ctl_show[] = { CTL_PATH, "show", "0000:80:00.1", NULL };
        const char *lspci_one[] = { "lspci", "-Dnnk", "-s", "0000:80:00.1", "-A", "linux-sysfs", "-O", NULL, NULL };
        g_auto(GStrv) ctl_env = NULL;
        double startup, ping, list, objects, describe, baseline_lspci, ctl, baseline_lspci_one, ctl_one;
        unsigned rss_idle, rss_peak, ignored;
        guint n_objects, n_listed;
        unsigned rounds = functions >= 4096 ? 11 : 21;

        harness_start_with(&h, &options);
        root = umockdev_testbed_get_root_dir(h.testbed);
        /* lspci reads the testbed directly, without umockdev's preload in its way. */
        sysfs_option = g_strdup_printf("sysfs.path=%s/sys/bus/pci", root);
        lspci[5] = sysfs_option;
        lspci_one[7] = sysfs_option;
        ctl_env = g_get_environ();
        ctl_env = g_environ_setenv(ctl_env, "DBUS_SYSTEM_BUS_ADDRESS", h.bus.address, TRUE);
        ctl_env = g_environ_unsetenv(ctl_env, "LD_PRELOAD");

        startup = startup_median_usec(&h);
        g_usleep(500000);
        bench_rss_kib(h.daemon_pid, &rss_idle, &ignored);

        ping = bench_call_median_usec(h.bus.connection, VFIO_PT_OBJECT_PATH, "org.freedesktop.DBus.Peer", "Ping",
                                      NULL, 101);
        list = bench_call_median_usec(h.bus.connection, VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE, "ListDevices", NULL,
                                      rounds);
        objects = bench_call_median_usec(h.bus.connection, VFIO_PT_OBJECT_PATH, "org.freedesktop.DBus.ObjectManager",
                                         "GetManagedObjects", NULL, rounds);
        describe = bench_call_median_usec(h.bus.connection, VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE, "DescribeDevice",
                                          g_variant_new("(s)", "0000:80:00.1"), 101);
        n_listed = reply_count(h.bus.connection, VFIO_PT_INTERFACE, "ListDevices");
        n_objects = reply_count(h.bus.connection, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
        g_assert_cmpuint(n_listed, ==, functions);
        baseline_lspci = bench_run_median_usec(lspci, NULL, 5);
        ctl = bench_run_median_usec(ctl_list, ctl_env, 5);
        baseline_lspci_one = bench_run_median_usec(lspci_one, NULL, 5);
        ctl_one = bench_run_median_usec(ctl_show, ctl_env, 5);
        bench_rss_kib(h.daemon_pid, &ignored, &rss_peak);
        harness_stop(&h);

        title = g_strdup_printf("%u functions (%u objects)", functions, n_objects);
        bench_table_header(title);
        bench_row_target("daemon start-up to owning its name", startup / 1000, "ms", "", 0, "<= 50 ms",
                         startup <= 50000);
        bench_row_target("daemon RSS, idle after start-up", rss_idle / 1024.0, "MiB", "", 0, "<= 3 MiB",
                         rss_idle <= 3 * 1024);
        bench_row("daemon RSS, peak", rss_peak / 1024.0, "MiB", "", 0);
        bench_row("Peer.Ping (the bus round trip)", ping / 1000, "ms", "", 0);
        if (functions == 4096)
                bench_row_target("ListDevices", list / 1000, "ms", "Ping", ping / 1000, "<= 20 ms", list <= 20000);
        else
                bench_row("ListDevices", list / 1000, "ms", "Ping", ping / 1000);
        bench_row("GetManagedObjects", objects / 1000, "ms", "Ping", ping / 1000);
        bench_row("DescribeDevice (a VF)", describe / 1000, "ms", "Ping", ping / 1000);
        bench_row_target("vfio-passthroughctl list", ctl / 1000, "ms", "lspci -Dnnk", baseline_lspci / 1000,
                         "<= 0.5x lspci", ctl <= 0.5 * baseline_lspci);
        bench_row("vfio-passthroughctl show (one VF)", ctl_one / 1000, "ms", "lspci -s", baseline_lspci_one / 1000);
}

int main(int argc, char **argv) {
        static const unsigned sizes[] = { 256, 1024, 4096 };

        printf("vfio-passthroughd at scale, under umockdev (medians; ratios against a baseline of the same run)\n");
        for (int i = 1; i < argc; i++) /* sizes on the command line replace the default three */
                measure((unsigned) strtoul(argv[i], NULL, 10));
        if (argc == 1)
                for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++)
                        measure(sizes[i]);
        return 0;
}
