/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon under load. 1: 100 clients, each on its own bus connection, read (the calls a
 * desktop panel and scripts make: ListDevices, DescribeDevice, a Device object's properties)
 * while an operation hangs in the kernel: every read answered, none an error, p50 and p99 of
 * their latency; once paced as apps refreshing a view, once back to back, which measures the
 * daemon's throughput (one thread serves the bus: latency is the queue times the service time). 2: a flood of uevents, one for each of
 * 4096 functions (what `udevadm trigger` sends), while one client pings the daemon every 5 ms:
 * the longest the bus went unanswered. Targets are printed PASS or MISS and never fail the run. */
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"
#include "harness.h"
#include "kernel-emulator.h"
#include "pci-tree.h"
#include "vfio-passthrough-bus.h"

#define CLIENTS 100
#define READS_PER_CLIENT 20
#define HUNG_DEVICE "0000:59:00.0"
#define FLOOD_FUNCTIONS 4096

struct reader {
        GThread *thread;
        GDBusConnection *bus;
        struct samples latencies;
        unsigned errors;
        unsigned seed;
};

struct load {
        gboolean paced; /* each client reads every 100 ms or so, as an app refreshing a view */
        struct reader readers[CLIENTS];
        GMutex lock;
        GCond go;
        gboolean started;
};

static const char *const read_targets[] = { "0000:00:02.0", "0000:01:00.0", "0000:01:00.1", HUNG_DEVICE,
                                            "0000:59:00.1", "0000:02:00.0", "0000:03:00.0" };

/* One read as an app makes it: the whole list, one device in detail, or one Device object's
 * properties. */
static void one_read(struct reader *r) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        const char *address = read_targets[rand_r(&r->seed) % G_N_ELEMENTS(read_targets)];
        gint64 start = g_get_monotonic_time();

        switch (rand_r(&r->seed) % 3) {
        case 0:
                reply = g_dbus_connection_call_sync(r->bus, VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE,
                                                    "ListDevices", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, 30000, NULL,
                                                    &error);
                break;
        case 1:
                reply = g_dbus_connection_call_sync(r->bus, VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE,
                                                    "DescribeDevice", g_variant_new("(s)", address), NULL,
                                                    G_DBUS_CALL_FLAGS_NONE, 30000, NULL, &error);
                break;
        default: {
                g_autofree char *path = g_strdup_printf(VFIO_PT_OBJECT_PATH "/devices/%s", address);
                g_strdelimit(path + strlen(VFIO_PT_OBJECT_PATH "/devices/"), ":.", '_');
                reply = g_dbus_connection_call_sync(r->bus, VFIO_PT_BUS_NAME, path, "org.freedesktop.DBus.Properties",
                                                    "GetAll", g_variant_new("(s)", VFIO_PT_DEVICE_INTERFACE), NULL,
                                                    G_DBUS_CALL_FLAGS_NONE, 30000, NULL, &error);
                break;
        }
        }
        samples_add(&r->latencies, g_get_monotonic_time() - start);
        if (error) {
                r->errors++;
                g_printerr("read failed: %s\n", error->message);
        }
}

struct reader_start {
        struct load *load;
        struct reader *reader;
};

static gpointer reader_thread(gpointer data) {
        struct reader_start *start = data;
        struct load *load = start->load;
        struct reader *r = start->reader;

        g_mutex_lock(&load->lock);
        while (!load->started)
                g_cond_wait(&load->go, &load->lock);
        g_mutex_unlock(&load->lock);
        for (int i = 0; i < READS_PER_CLIENT; i++) {
                if (load->paced)
                        g_usleep(50000 + rand_r(&r->seed) % 100000);
                one_read(r);
        }
        g_free(start);
        return NULL;
}

static GDBusConnection *connect_bus(struct harness *h) {
        g_autoptr(GError) error = NULL;
        GDBusConnection *bus = g_dbus_connection_new_for_address_sync(
                h->bus.address,
                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL,
                NULL, &error);
        g_assert_no_error(error);
        return bus;
}

static void reads_while_an_operation_hangs(gboolean paced) {
        static const struct harness_options options = { .emulate_kernel = TRUE };
        struct harness h;
        struct load *load = g_new0(struct load, 1);
        struct samples all = {};
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        unsigned errors = 0;
        gint64 start;
        double wall, p50, p99, worst;

        harness_start_with(&h, &options);
        reply = harness_call(&h, "Attach", g_variant_new("(st)", HUNG_DEVICE, (guint64) 0), NULL, &error);
        g_assert_no_error(error);
        kernel_emulator_settle(h.emulator);
        kernel_emulator_hang_unbind(h.emulator, "vfio-pci");
        /* Not waited for: it hangs in the kernel for the whole run. */
        g_dbus_connection_call(h.bus.connection, VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE, "Restore",
                               g_variant_new("(st)", HUNG_DEVICE, (guint64) 0), NULL, G_DBUS_CALL_FLAGS_NONE, -1,
                               NULL, NULL, NULL);
        g_usleep(500000);

        load->paced = paced;
        g_mutex_init(&load->lock);
        g_cond_init(&load->go);
        for (int i = 0; i < CLIENTS; i++) {
                struct reader_start *rs = g_new0(struct reader_start, 1);

                load->readers[i].bus = connect_bus(&h);
                load->readers[i].seed = (unsigned) i + 1;
                rs->load = load;
                rs->reader = &load->readers[i];
                load->readers[i].thread = g_thread_new("reader", reader_thread, rs);
        }
        start = g_get_monotonic_time();
        g_mutex_lock(&load->lock);
        load->started = TRUE;
        g_cond_broadcast(&load->go);
        g_mutex_unlock(&load->lock);
        for (int i = 0; i < CLIENTS; i++) {
                struct reader *r = &load->readers[i];

                g_thread_join(r->thread);
                for (size_t k = 0; k < r->latencies.n; k++)
                        samples_add(&all, r->latencies.usec[k]);
                errors += r->errors;
                samples_clear(&r->latencies);
                g_object_unref(r->bus);
        }
        wall = (double) (g_get_monotonic_time() - start);
        {
                g_autoptr(GVariant) d = harness_call(&h, "DescribeDevice", g_variant_new("(s)", HUNG_DEVICE),
                                                     "(a{sv}ibaa{sv})", NULL);
                g_autoptr(GVariant) dict = g_variant_get_child_value(d, 0);
                gboolean busy = FALSE;

                g_assert_true(g_variant_lookup(dict, VFIO_PT_KEY_BUSY, "b", &busy));
                g_assert_true(busy); /* the operation was hanging throughout */
        }
        kernel_emulator_release_unbind(h.emulator, "vfio-pci");
        harness_stop(&h);

        p50 = samples_percentile(&all, 50);
        p99 = samples_percentile(&all, 99);
        worst = samples_percentile(&all, 100);
        bench_table_header(paced ? "100 clients, each reading every 50-150 ms, while an operation hangs in the kernel"
                                 : "100 clients reading back to back (saturation) while an operation hangs in the "
                                   "kernel");
        {
                g_autofree char *what = g_strdup_printf("reads answered (of %d), errors", CLIENTS * READS_PER_CLIENT);
                g_autofree char *target = g_strdup_printf("all answered, no error (%u errors)", errors);
                bench_row_target(what, (double) all.n, "reads", "", 0, target,
                                 all.n == CLIENTS * READS_PER_CLIENT && errors == 0);
        }
        bench_row("read latency p50", p50 / 1000, "ms", "", 0);
        bench_row_target("read latency p99", p99 / 1000, "ms", "", 0, "<= 10 ms", p99 <= 10000);
        bench_row("read latency max", worst / 1000, "ms", "", 0);
        bench_row("reads per second (all clients)", all.n / (wall / 1e6), "/s", "", 0);
        samples_clear(&all);
        g_mutex_clear(&load->lock);
        g_cond_clear(&load->go);
        g_free(load);
}

/* --- the uevent flood --------------------------------------------------------------------------- */

static void populate_flood(UMockdevTestbed *testbed, const void *data) {
        char **disk = (char **) data;

        /* A disk event makes the daemon read every function again (what the host uses may have
         * changed): the longest refresh there is. */
        *disk = umockdev_testbed_add_device(testbed, "block", "sda", NULL, "size", "1000", NULL, "DEVTYPE", "disk",
                                            NULL);
        for (int i = 0; i < FLOOD_FUNCTIONS; i++) {
                g_autofree char *address = g_strdup_printf("0000:%02x:%02x.%d", 0x80 + i / 256, (i / 8) % 32, i % 8);
                const struct fake_pci_device d = {
                        .address = address,
                        .vendor = 0x8086, .device = 0x1520, .subsystem_vendor = 0x8086, .subsystem_device = 0x0001,
                        .class_code = 0x020000,
                        .driver = i % 2 ? "igbvf" : NULL,
                        .iommu_group = 1000 + i,
                        .boot_vga = -1,
                };
                fake_pci_device_add(testbed, &d);
        }
}

struct pinger {
        GDBusConnection *bus;
        struct samples latencies;
        gint atomic_stop;
};

static gpointer pinger_thread(gpointer data) {
        struct pinger *p = data;

        while (!g_atomic_int_get(&p->atomic_stop)) {
                samples_add(&p->latencies, bench_call_usec(p->bus, VFIO_PT_OBJECT_PATH, "org.freedesktop.DBus.Peer",
                                                           "Ping", NULL, NULL));
                g_usleep(5000);
        }
        return NULL;
}

static void on_device_changed(GDBusConnection *bus, const char *sender, const char *path, const char *interface,
                              const char *signal, GVariant *parameters, gpointer data) {
        guint *received = data;
        (*received)++;
}

/* umockdev hands uevents over a Unix datagram socket whose queue holds only
 * net.unix.max_dgram_qlen (10) of them, and gives up when it is full; the kernel's netlink socket
 * holds as many as fit in its bytes. So the flood keeps a few in flight, counting the daemon's
 * DeviceChanged signals: it goes as fast as the daemon takes them in. */
#define IN_FLIGHT 6

static void uevent_flood(void) {
        g_autofree char *disk = NULL;
        const struct harness_options options = { .populate = populate_flood, .populate_data = &disk,
                                                 .without_default_tree = TRUE };
        struct harness h;
        struct pinger pinger = {}, full = {};
        GThread *thread;
        gint64 start;
        double sent, worst, p99;

        guint received = 0, subscription;

        harness_start_with(&h, &options);
        subscription = g_dbus_connection_signal_subscribe(h.bus.connection, VFIO_PT_BUS_NAME, VFIO_PT_INTERFACE,
                                                          "DeviceChanged", VFIO_PT_OBJECT_PATH, NULL,
                                                          G_DBUS_SIGNAL_FLAGS_NONE, on_device_changed, &received,
                                                          NULL);
        pinger.bus = connect_bus(&h);
        thread = g_thread_new("pinger", pinger_thread, &pinger);
        g_usleep(200000);
        start = g_get_monotonic_time();
        for (int i = 0; i < FLOOD_FUNCTIONS; i++) {
                g_autofree char *address = g_strdup_printf("0000:%02x:%02x.%d", 0x80 + i / 256, (i / 8) % 32, i % 8);
                g_autofree char *syspath = g_strdup_printf("/sys/devices/pci0000:00/%s", address);

                while ((guint) i >= received + IN_FLIGHT)
                        g_main_context_iteration(NULL, TRUE);
                umockdev_testbed_uevent(h.testbed, syspath, "change");
        }
        while (received < FLOOD_FUNCTIONS)
                g_main_context_iteration(NULL, TRUE);
        sent = (double) (g_get_monotonic_time() - start);
        g_dbus_connection_signal_unsubscribe(h.bus.connection, subscription);
        /* Long enough for the daemon to work through all of them. */
        g_usleep(3 * G_USEC_PER_SEC);
        g_atomic_int_set(&pinger.atomic_stop, 1);
        g_thread_join(thread);

        /* Then one disk event, and the full re-read it causes. */
        full.bus = pinger.bus;
        thread = g_thread_new("pinger", pinger_thread, &full);
        g_usleep(200000);
        umockdev_testbed_uevent(h.testbed, disk, "change");
        g_usleep(3 * G_USEC_PER_SEC);
        g_atomic_int_set(&full.atomic_stop, 1);
        g_thread_join(thread);
        g_object_unref(pinger.bus);
        harness_stop(&h);

        worst = samples_percentile(&pinger.latencies, 100);
        p99 = samples_percentile(&pinger.latencies, 99);
        bench_table_header("4096 uevents at once (udevadm trigger), one client pinging every 5 ms");
        bench_row("uevents sent", FLOOD_FUNCTIONS, "events", "", 0);
        bench_row("time until the daemon had taken them all in", sent / 1000, "ms", "", 0);
        bench_row("Ping p99", p99 / 1000, "ms", "", 0);
        bench_row_target("longest the bus went unanswered (Ping max)", worst / 1000, "ms", "", 0, "<= 100 ms",
                         worst <= 100000);
        worst = samples_percentile(&full.latencies, 100);
        bench_row_target("one disk event: all 4096 read again, Ping max", worst / 1000, "ms", "", 0, "<= 100 ms",
                         worst <= 100000);
        samples_clear(&pinger.latencies);
        samples_clear(&full.latencies);
}

int main(void) {
        printf("vfio-passthroughd under load, under umockdev\n");
        reads_while_an_operation_hangs(TRUE);
        reads_while_an_operation_hangs(FALSE);
        uevent_flood();
        return 0;
}
