/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The real daemon on a private bus over the fake PCI tree, called over D-Bus, through busctl and
 * through the real vfio-passthroughctl. */
#include <gio/gio.h>
#include <string.h>

#include "harness.h"
#include "pci-tree.h"
#include "vfio-passthrough-bus.h"

typedef struct {
        struct harness h;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
        harness_start(&f->h);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        g_assert_true(harness_daemon_alive(&f->h));
        harness_stop(&f->h);
}

static GVariant *lookup_device(GVariant *devices, const char *address) {
        GVariantIter iter;
        GVariant *dict;

        g_variant_iter_init(&iter, devices);
        while ((dict = g_variant_iter_next_value(&iter))) {
                const char *a = NULL;
                if (g_variant_lookup(dict, VFIO_PT_KEY_ADDRESS, "&s", &a) && g_strcmp0(a, address) == 0)
                        return dict;
                g_variant_unref(dict);
        }
        return NULL;
}

static void assert_device_matches_tree(GVariant *dict, const struct fake_pci_device *d) {
        guint16 vendor, device, sub_vendor, sub_device;
        const char *driver, *override;
        gint32 group, numa;
        guint32 class_code;

        g_assert_true(g_variant_lookup(dict, VFIO_PT_KEY_VENDOR_ID, "q", &vendor));
        g_assert_true(g_variant_lookup(dict, VFIO_PT_KEY_DEVICE_ID, "q", &device));
        g_assert_true(g_variant_lookup(dict, VFIO_PT_KEY_SUBSYSTEM_VENDOR_ID, "q", &sub_vendor));
        g_assert_true(g_variant_lookup(dict, VFIO_PT_KEY_SUBSYSTEM_DEVICE_ID, "q", &sub_device));
        g_assert_true(g_variant_lookup(dict, VFIO_PT_KEY_CLASS, "u", &class_code));
        g_assert_true(g_variant_lookup(dict, VFIO_PT_KEY_DRIVER, "&s", &driver));
        g_assert_true(g_variant_lookup(dict, VFIO_PT_KEY_DRIVER_OVERRIDE, "&s", &override));
        g_assert_true(g_variant_lookup(dict, VFIO_PT_KEY_IOMMU_GROUP, "i", &group));
        g_assert_true(g_variant_lookup(dict, VFIO_PT_KEY_NUMA_NODE, "i", &numa));

        g_assert_cmphex(vendor, ==, d->vendor);
        g_assert_cmphex(device, ==, d->device);
        g_assert_cmphex(sub_vendor, ==, d->subsystem_vendor);
        g_assert_cmphex(sub_device, ==, d->subsystem_device);
        g_assert_cmphex(class_code, ==, d->class_code);
        g_assert_cmpstr(driver, ==, d->driver ?: "");
        g_assert_cmpstr(override, ==, "");
        g_assert_cmpint(group, ==, d->iommu_group);
        g_assert_cmpint(numa, ==, -1);
}

static void test_list_devices_over_dbus(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = harness_call(&f->h, "ListDevices", NULL, "(aa{sv})", &error);
        g_autoptr(GVariant) devices = NULL;
        g_autoptr(GVariant) nic = NULL;
        const char *previous = "";
        GVariantIter iter;
        GVariant *dict;
        const char *s;

        g_assert_no_error(error);
        devices = g_variant_get_child_value(reply, 0);
        g_assert_cmpuint(g_variant_n_children(devices), ==, fake_pci_tree_size);

        for (size_t i = 0; i < fake_pci_tree_size; i++) {
                g_autoptr(GVariant) d = lookup_device(devices, fake_pci_tree[i].address);
                g_test_message("device %s", fake_pci_tree[i].address);
                g_assert_nonnull(d);
                assert_device_matches_tree(d, &fake_pci_tree[i]);
        }

        /* Sorted by address, as lspci sorts. */
        g_variant_iter_init(&iter, devices);
        while ((dict = g_variant_iter_next_value(&iter))) {
                const char *a;
                g_assert_true(g_variant_lookup(dict, VFIO_PT_KEY_ADDRESS, "&s", &a));
                g_assert_cmpstr(previous, <, a);
                previous = a;
                g_variant_unref(dict);
        }

        /* Names come from the real udev hardware database. */
        nic = lookup_device(devices, "0000:59:00.0");
        g_assert_true(g_variant_lookup(nic, VFIO_PT_KEY_VENDOR_NAME, "&s", &s));
        g_assert_cmpstr(s, ==, "Intel Corporation");
        g_assert_true(g_variant_lookup(nic, VFIO_PT_KEY_DEVICE_NAME, "&s", &s));
        g_assert_true(g_str_has_prefix(s, "I350 Gigabit Network Connection"));
        g_assert_true(g_variant_lookup(nic, VFIO_PT_KEY_CLASS_NAME, "&s", &s));
        g_assert_cmpstr(s, ==, "Ethernet controller");
}

static void describe(Fixture *f, const char *address, GVariant **ret_device, gint32 *ret_group,
                     gboolean *ret_viable, GVariant **ret_members) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = harness_call(&f->h, "DescribeDevice", g_variant_new("(s)", address),
                                                 "(a{sv}ibaa{sv})", &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(@a{sv}ib@aa{sv})", ret_device, ret_group, ret_viable, ret_members);
}

static void assert_member(GVariant *members, const char *address, gboolean ready, const char *note) {
        g_autoptr(GVariant) m = lookup_device(members, address);
        const char *n;
        gboolean r;

        g_test_message("member %s", address);
        g_assert_nonnull(m);
        g_assert_true(g_variant_lookup(m, VFIO_PT_KEY_VFIO_READY, "b", &r));
        g_assert_cmpint(r, ==, ready);
        g_assert_true(g_variant_lookup(m, VFIO_PT_KEY_VFIO_NOTE, "&s", &n));
        g_assert_cmpstr(n, ==, note);
}

static void test_describe_gpu_group(Fixture *f, gconstpointer data) {
        g_autoptr(GVariant) device = NULL, members = NULL;
        gboolean viable;
        gint32 group;
        const char *driver;

        describe(f, "01:00.0", &device, &group, &viable, &members);
        g_assert_true(g_variant_lookup(device, VFIO_PT_KEY_DRIVER, "&s", &driver));
        g_assert_cmpstr(driver, ==, "nouveau");
        g_assert_cmpint(group, ==, 1);
        g_assert_false(viable);
        /* The root port shares the group but is allowed; GPU and its audio function block it. */
        g_assert_cmpuint(g_variant_n_children(members), ==, 3);
        assert_member(members, "0000:00:01.0", TRUE, "PCIe port driver, which VFIO allows");
        assert_member(members, "0000:01:00.0", FALSE, "bound to a host driver");
        assert_member(members, "0000:01:00.1", FALSE, "bound to a host driver");
}

static void test_describe_unbound_device(Fixture *f, gconstpointer data) {
        g_autoptr(GVariant) device = NULL, members = NULL;
        const char *address;
        gboolean viable;
        gint32 group;

        describe(f, "0000:03:00.0", &device, &group, &viable, &members);
        g_assert_true(g_variant_lookup(device, VFIO_PT_KEY_ADDRESS, "&s", &address));
        g_assert_cmpstr(address, ==, "0000:03:00.0");
        g_assert_cmpint(group, ==, 12);
        g_assert_true(viable);
        g_assert_cmpuint(g_variant_n_children(members), ==, 1);
        assert_member(members, "0000:03:00.0", TRUE, "no driver");
}

static void test_describe_identical_functions_separate(Fixture *f, gconstpointer data) {
        g_autoptr(GVariant) d0 = NULL, m0 = NULL, d1 = NULL, m1 = NULL;
        gboolean viable;
        gint32 g0, g1;

        describe(f, "59:00.0", &d0, &g0, &viable, &m0);
        describe(f, "59:00.1", &d1, &g1, &viable, &m1);
        g_assert_cmpint(g0, ==, 6);
        g_assert_cmpint(g1, ==, 7);
        g_assert_cmpuint(g_variant_n_children(m0), ==, 1);
        g_assert_cmpuint(g_variant_n_children(m1), ==, 1);
}

static void test_describe_chipset_group(Fixture *f, gconstpointer data) {
        g_autoptr(GVariant) device = NULL, members = NULL;
        gboolean viable;
        gint32 group;

        describe(f, "00:1f.0", &device, &group, &viable, &members);
        g_assert_cmpint(group, ==, 10);
        g_assert_false(viable);
        assert_member(members, "0000:00:1f.0", TRUE, "no driver");
        assert_member(members, "0000:00:1f.3", FALSE, "bound to a host driver");
        assert_member(members, "0000:00:1f.4", FALSE, "bound to a host driver");
}

static void test_errors(Fixture *f, gconstpointer data) {
        static const char *const hostile[] = {
                "", "59", "59:00.8", "../../../../etc/passwd", "0000:59:00.0/../../x", "0000:59:00.0\n",
                " 59:00.0", "59:00.0/driver/unbind", "%n%n%n%s", "0000:59:00.0'; rm -rf /",
        };
        g_autofree char *huge = g_strnfill(1 << 20, '5');

        for (size_t i = 0; i < G_N_ELEMENTS(hostile); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = harness_call(&f->h, "DescribeDevice", g_variant_new("(s)", hostile[i]),
                                                         NULL, &error);
                g_assert_null(reply);
                assert_dbus_error(error, VFIO_PT_ERROR_INVALID_ADDRESS);
                g_assert_nonnull(strstr(error->message, "is not a PCI address"));
        }

        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = harness_call(&f->h, "DescribeDevice", g_variant_new("(s)", huge), NULL,
                                                         &error);
                assert_dbus_error(error, VFIO_PT_ERROR_INVALID_ADDRESS);
                /* The message summarizes instead of echoing a megabyte back. */
                g_assert_cmpuint(strlen(error->message), <, 300);
        }
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = harness_call(&f->h, "DescribeDevice", g_variant_new("(s)", "42:00.0"),
                                                         NULL, &error);
                assert_dbus_error(error, VFIO_PT_ERROR_NO_SUCH_DEVICE);
                g_assert_nonnull(strstr(error->message, "0000:42:00.0"));
        }
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = harness_call(&f->h, "DescribeDevice", g_variant_new("(i)", 42), NULL,
                                                         &error);
                assert_dbus_error(error, "org.freedesktop.DBus.Error.InvalidArgs");
        }
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = harness_call(&f->h, "ListDevices", g_variant_new("(s)", "x"), NULL,
                                                         &error);
                assert_dbus_error(error, "org.freedesktop.DBus.Error.InvalidArgs");
        }
        {
                g_autoptr(GError) error = NULL;
                /* Detach takes (st): a call without the flags is refused by signature. */
                g_autoptr(GVariant) reply = harness_call(&f->h, "Detach", g_variant_new("(s)", "59:00.0"), NULL,
                                                         &error);
                assert_dbus_error(error, "org.freedesktop.DBus.Error.InvalidArgs");
        }

        /* Still serving after all of it. */
        g_assert_true(harness_daemon_alive(&f->h));
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = harness_call(&f->h, "ListDevices", NULL, "(aa{sv})", &error);
                g_assert_no_error(error);
        }
}

static void on_signal(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                      const char *signal, GVariant *parameters, gpointer user_data) {
        GPtrArray *seen = user_data;
        g_ptr_array_add(seen, g_variant_ref(parameters));
}

static void test_device_changed_signal(Fixture *f, gconstpointer data) {
        g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func((GDestroyNotify) g_variant_unref);
        g_autofree char *syspath = fake_pci_device_syspath("0000:59:00.1");
        const char *address, *action, *driver;
        gint64 deadline;
        guint id;

        id = g_dbus_connection_signal_subscribe(f->h.bus.connection, VFIO_PT_BUS_NAME, VFIO_PT_INTERFACE, "DeviceChanged",
                                                VFIO_PT_OBJECT_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_signal,
                                                seen, NULL);
        /* Make sure the match rule is in place before the event. */
        g_autoptr(GVariant) sync_reply = harness_call(&f->h, "ListDevices", NULL, NULL, NULL);

        /* A change made outside the daemon: the kernel unbinds the NIC. */
        umockdev_testbed_uevent(f->h.testbed, syspath, "unbind");

        deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        while (seen->len == 0 && g_get_monotonic_time() < deadline)
                g_main_context_iteration(NULL, FALSE) || (g_usleep(10000), TRUE);
        g_dbus_connection_signal_unsubscribe(f->h.bus.connection, id);

        g_assert_cmpuint(seen->len, ==, 1);
        g_variant_get(g_ptr_array_index(seen, 0), "(&s&s&s)", &address, &action, &driver);
        g_assert_cmpstr(address, ==, "0000:59:00.1");
        g_assert_cmpstr(action, ==, "unbind");
}

static void test_busctl_introspect(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;
        int status;

        status = harness_run_busctl(&f->h, &out, &err, "introspect", VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH, NULL);
        g_assert_cmpint(status, ==, 0);
        g_assert_nonnull(strstr(out, ".ListDevices"));
        g_assert_nonnull(strstr(out, ".DescribeDevice"));
        g_assert_nonnull(strstr(out, "aa{sv}"));
        g_assert_nonnull(strstr(out, ".DeviceChanged"));
        g_assert_nonnull(strstr(out, ".Version"));
        /* The four privileged methods, with their signatures. */
        g_assert_nonnull(strstr(out, ".Detach"));
        g_assert_nonnull(strstr(out, ".Attach"));
        g_assert_nonnull(strstr(out, ".Restore"));
        g_assert_nonnull(strstr(out, ".Grant"));
        g_assert_nonnull(strstr(out, "sbas"));
        g_assert_nonnull(strstr(out, "suastt"));

        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        status = harness_run_busctl(&f->h, &out, &err, "get-property", VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH,
                                    VFIO_PT_INTERFACE, "Version", NULL);
        g_assert_cmpint(status, ==, 0);
        g_assert_cmpstr(out, ==, "s \"" PACKAGE_VERSION "\"\n");
}

static void test_busctl_errors(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;
        int status;

        status = harness_run_busctl(&f->h, &out, &err, "call", VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH,
                                    VFIO_PT_INTERFACE, "DescribeDevice", "s", "zz:00.0", NULL);
        g_assert_cmpint(status, !=, 0);
        g_assert_nonnull(strstr(err, "'zz:00.0' is not a PCI address"));

        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        status = harness_run_busctl(&f->h, &out, &err, "call", VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH,
                                    VFIO_PT_INTERFACE, "DescribeDevice", "s", "0000:59:00.0", NULL);
        g_assert_cmpint(status, ==, 0);
        g_test_message("busctl: %s", out);
        g_assert_true(g_str_has_prefix(out, "a{sv}ibaa{sv} 15 \"Address\" s \"0000:59:00.0\""));
}

static void test_daemon_logs_caller(Fixture *f, gconstpointer data) {
        g_autoptr(GVariant) reply = harness_call(&f->h, "DescribeDevice", g_variant_new("(s)", "59:00.0"), NULL, NULL);
        g_autofree char *expected = g_strdup_printf("DescribeDevice called by uid %u ('59:00.0')", getuid());
        g_autofree char *log = harness_daemon_log(&f->h);

        g_assert_nonnull(reply);
        g_assert_nonnull(strstr(log, expected));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
        ADD("/service/list/dbus", test_list_devices_over_dbus);
        ADD("/service/describe/gpu-group", test_describe_gpu_group);
        ADD("/service/describe/unbound-device", test_describe_unbound_device);
        ADD("/service/describe/identical-functions", test_describe_identical_functions_separate);
        ADD("/service/describe/chipset-group", test_describe_chipset_group);
        ADD("/service/errors", test_errors);
        ADD("/service/signal/device-changed", test_device_changed_signal);
        ADD("/service/busctl/introspect", test_busctl_introspect);
        ADD("/service/busctl/errors", test_busctl_errors);
        ADD("/service/log/caller", test_daemon_logs_caller);
#undef ADD
        return g_test_run();
}
