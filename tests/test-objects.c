/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The object model, as a desktop app uses it: GetManagedObjects, then nothing but signals. A whole
 * attach → grant → restore cycle through the Device object's methods is followed from
 * PropertiesChanged alone; every announced value must differ from the one announced before (each
 * change once), the changes must come in the order the operation makes them, and at the end the
 * announced values must equal what GetAll says (nothing missed). Changes made by another tool,
 * hotplug (InterfacesAdded/Removed), Busy through a call answered Timeout, Refresh, the options
 * dictionary, and the daemon's live introspection against the shipped XML, interface by
 * interface. */
#include <fcntl.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kernel-emulator.h"
#include "pci-tree.h"
#include "vfio-passthrough-bus.h"

#define NIC "0000:59:00.0"
#define NIC_PATH VFIO_PT_DEVICES_PATH "/0000_59_00_0"
#define NIC_GROUP_PATH VFIO_PT_GROUPS_PATH "/6"

typedef struct {
        struct harness h;
        guint subscription;
        GPtrArray *signals; /* (path, interface, member, parameters) as GVariant "(sss@*)" */
        GHashTable *known;  /* "path property" → the last value announced or read (GVariant) */
} Fixture;

static const struct harness_options plain_kernel = { .emulate_kernel = TRUE };

static void on_signal(GDBusConnection *connection, const char *sender, const char *path, const char *interface,
                      const char *member, GVariant *parameters, gpointer userdata) {
        Fixture *f = userdata;
        g_ptr_array_add(f->signals, g_variant_ref_sink(g_variant_new("(sss@*)", path, interface, member, parameters)));
}

static void fixture_start(Fixture *f, const struct harness_options *options) {
        harness_start_with(&f->h, options);
        f->signals = g_ptr_array_new_with_free_func((GDestroyNotify) g_variant_unref);
        f->known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_variant_unref);
        f->subscription = g_dbus_connection_signal_subscribe(f->h.bus.connection, VFIO_PT_BUS_NAME, NULL, NULL, NULL,
                                                             NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_signal, f, NULL);
}

static void fixture_setup(Fixture *f, gconstpointer data) {
        fixture_start(f, &plain_kernel);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        g_autofree char *log = harness_daemon_log(&f->h);

        if (g_test_failed())
                g_printerr("--- daemon log ---\n%s\n", log);
        g_dbus_connection_signal_unsubscribe(f->h.bus.connection, f->subscription);
        g_ptr_array_unref(f->signals);
        g_hash_table_unref(f->known);
        g_assert_true(harness_daemon_alive(&f->h));
        harness_stop(&f->h);
}

/* Lets signals arrive until none came for quiet_ms. */
static void drain(Fixture *f, guint quiet_ms) {
        gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
        gint64 quiet_until = g_get_monotonic_time() + quiet_ms * 1000;
        guint seen = f->signals->len;

        kernel_emulator_settle(f->h.emulator);
        while (g_get_monotonic_time() < quiet_until) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                while (g_main_context_iteration(NULL, FALSE))
                        ;
                if (f->signals->len != seen) {
                        seen = f->signals->len;
                        quiet_until = g_get_monotonic_time() + quiet_ms * 1000;
                }
                g_usleep(5000);
        }
}

static GVariant *object_call(Fixture *f, const char *path, const char *interface, const char *method,
                             GVariant *parameters, const char *reply_type, GError **error) {
        return g_dbus_connection_call_sync(f->h.bus.connection, VFIO_PT_BUS_NAME, path, interface, method, parameters,
                                           reply_type ? G_VARIANT_TYPE(reply_type) : NULL, G_DBUS_CALL_FLAGS_NONE,
                                           30000, NULL, error);
}

static GVariant *get_all(Fixture *f, const char *path, const char *interface) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = object_call(f, path, "org.freedesktop.DBus.Properties", "GetAll",
                                                g_variant_new("(s)", interface), "(a{sv})", &error);
        g_assert_no_error(error);
        return g_variant_get_child_value(reply, 0);
}

/* Starts tracking an object's properties from what GetAll says now. */
static void remember_all(Fixture *f, const char *path, const char *interface) {
        g_autoptr(GVariant) all = get_all(f, path, interface);
        GVariantIter iter;
        const char *name;
        GVariant *value;

        g_variant_iter_init(&iter, all);
        while (g_variant_iter_next(&iter, "{&sv}", &name, &value))
                g_hash_table_insert(f->known, g_strdup_printf("%s %s", path, name), value);
}

/* Goes through the PropertiesChanged signals from index first on: each announced value must
 * differ from the one known before. Returns the changes for path as "N Name=value" lines, N
 * counting the signals: the order of two changes in one signal means nothing. */
static GPtrArray *changes(Fixture *f, guint first, const char *path) {
        GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
        guint n = 0;

        for (guint i = first; i < f->signals->len; i++) {
                g_autoptr(GVariant) params = NULL, changed = NULL;
                const char *spath, *interface, *member;
                GVariantIter iter;
                const char *name;
                GVariant *value;

                g_variant_get(g_ptr_array_index(f->signals, i), "(&s&s&s@*)", &spath, &interface, &member, &params);
                if (!g_str_equal(member, "PropertiesChanged") || !g_str_equal(spath, path))
                        continue;
                changed = g_variant_get_child_value(params, 1);
                n++;
                g_variant_iter_init(&iter, changed);
                while (g_variant_iter_next(&iter, "{&sv}", &name, &value)) {
                        g_autofree char *key = g_strdup_printf("%s %s", spath, name);
                        g_autofree char *text = g_variant_print(value, FALSE);
                        GVariant *before = g_hash_table_lookup(f->known, key);

                        if (before && g_variant_equal(before, value))
                                g_error("%s: %s announced again without a change (%s)", spath, name, text);
                        g_ptr_array_add(lines, g_strdup_printf("%u %s=%s", n, name, text));
                        g_hash_table_insert(f->known, g_steal_pointer(&key), value);
                }
        }
        for (guint i = 0; i < lines->len; i++)
                g_test_message("%s: %s", path, (const char *) g_ptr_array_index(lines, i));
        return lines;
}

/* The number of the first signal after signal `after` that announced change ("Name=value"), or -1. */
static int find_line(GPtrArray *lines, const char *change, int after) {
        for (guint i = 0; i < lines->len; i++) {
                const char *line = g_ptr_array_index(lines, i);
                int n = atoi(line);

                if (n > after && g_str_equal(strchr(line, ' ') + 1, change))
                        return n;
        }
        return -1;
}

/* The number of the last signal that announced change, or -1. */
static int find_last(GPtrArray *lines, const char *change) {
        for (int i = (int) lines->len - 1; i >= 0; i--) {
                const char *line = g_ptr_array_index(lines, i);

                if (g_str_equal(strchr(line, ' ') + 1, change))
                        return atoi(line);
        }
        return -1;
}

/* What was announced is what GetAll says: no change went unannounced. */
static void assert_known_is_current(Fixture *f, const char *path, const char *interface) {
        g_autoptr(GVariant) all = get_all(f, path, interface);
        GVariantIter iter;
        const char *name;
        GVariant *value;

        g_variant_iter_init(&iter, all);
        while (g_variant_iter_next(&iter, "{&sv}", &name, &value)) {
                g_autofree char *key = g_strdup_printf("%s %s", path, name);
                GVariant *known = g_hash_table_lookup(f->known, key);
                g_autofree char *now = g_variant_print(value, FALSE);
                g_autofree char *was = known ? g_variant_print(known, FALSE) : g_strdup("(never seen)");

                if (!known || !g_variant_equal(known, value))
                        g_error("%s: %s is %s, but the last announcement said %s", path, name, now, was);
                g_variant_unref(value);
        }
}

static GVariant *device_call(Fixture *f, const char *method, GVariant *parameters, GError **error) {
        return object_call(f, NIC_PATH, VFIO_PT_DEVICE_INTERFACE, method, parameters, NULL, error);
}

static void device_call_ok(Fixture *f, const char *method, GVariant *parameters) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = device_call(f, method, parameters, &error);
        g_assert_no_error(error);
}

static GVariant *no_options(void) {
        return g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0);
}

/* Writes to a control file of the testbed as a tool would: the emulator's FIFOs must stay FIFOs. */
static void write_control(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(write(fd, text, strlen(text)), ==, (gssize) strlen(text));
        g_assert_cmpint(close(fd), ==, 0);
}

/* --- tests -------------------------------------------------------------------------------------- */

static void test_managed_objects(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = object_call(f, VFIO_PT_OBJECT_PATH, "org.freedesktop.DBus.ObjectManager",
                                                "GetManagedObjects", NULL, "(a{oa{sa{sv}}})", &error);
        g_autoptr(GVariant) listed = harness_call(&f->h, "ListDevices", NULL, "(aa{sv})", &error);
        g_autoptr(GVariant) objects = NULL, devices = NULL, nic = NULL, group = NULL;
        const char *driver, *group_path, *address;
        GVariantIter iter;
        GVariant *d;
        guint n_devices = 0;
        gboolean viable = TRUE;

        g_assert_no_error(error);
        objects = g_variant_get_child_value(reply, 0);
        devices = g_variant_get_child_value(listed, 0);
        /* One Device object per function ListDevices lists, with the same driver. */
        g_variant_iter_init(&iter, devices);
        while (g_variant_iter_next(&iter, "@a{sv}", &d)) {
                g_autofree char *path = NULL;
                g_autoptr(GVariant) props = NULL, interfaces = NULL;
                const char *listed_driver, *object_driver;

                g_assert_true(g_variant_lookup(d, VFIO_PT_KEY_ADDRESS, "&s", &address));
                g_assert_true(g_variant_lookup(d, VFIO_PT_KEY_DRIVER, "&s", &listed_driver));
                path = g_strdup_printf(VFIO_PT_DEVICES_PATH "/%s", address);
                g_strdelimit(path + strlen(VFIO_PT_DEVICES_PATH) + 1, ":.", '_');
                g_assert_true(g_variant_lookup(objects, path, "@a{sa{sv}}", &interfaces));
                g_assert_true(g_variant_lookup(interfaces, VFIO_PT_DEVICE_INTERFACE, "@a{sv}", &props));
                g_assert_true(g_variant_lookup(props, "Driver", "&s", &object_driver));
                g_assert_cmpstr(object_driver, ==, listed_driver);
                n_devices++;
                g_variant_unref(d);
        }
        g_assert_cmpuint(n_devices, >=, 10);

        g_assert_true(g_variant_lookup(objects, NIC_PATH, "@a{sa{sv}}", &nic));
        {
                g_autoptr(GVariant) props = g_variant_lookup_value(nic, VFIO_PT_DEVICE_INTERFACE, NULL);
                g_assert_true(g_variant_lookup(props, "Driver", "&s", &driver));
                g_assert_cmpstr(driver, ==, "igb");
                g_assert_true(g_variant_lookup(props, "IommuGroup", "&o", &group_path));
                g_assert_cmpstr(group_path, ==, NIC_GROUP_PATH);
        }
        g_assert_true(g_variant_lookup(objects, NIC_GROUP_PATH, "@a{sa{sv}}", &group));
        {
                g_autoptr(GVariant) props = g_variant_lookup_value(group, VFIO_PT_GROUP_INTERFACE, NULL);
                g_autoptr(GVariant) members = NULL, blockers = NULL;
                const char *reason, *blocker;

                g_assert_true(g_variant_lookup(props, "Viable", "b", &viable));
                g_assert_false(viable);
                members = g_variant_lookup_value(props, "Members", G_VARIANT_TYPE("ao"));
                g_assert_cmpuint(g_variant_n_children(members), ==, 1);
                blockers = g_variant_lookup_value(props, "Blockers", G_VARIANT_TYPE("a(os)"));
                g_assert_cmpuint(g_variant_n_children(blockers), ==, 1);
                g_variant_get_child(blockers, 0, "(&o&s)", &blocker, &reason);
                g_assert_cmpstr(blocker, ==, NIC_PATH);
                g_test_message("blocker of group 6: %s", reason);
        }
}

/* attach → grant → restore on the Device object, followed from signals only. */
static void test_cycle_from_signals(Fixture *f, gconstpointer data) {
        g_autoptr(GPtrArray) attach = NULL, grant = NULL, restore = NULL, group = NULL;
        g_autofree char *uid = g_strdup_printf("Grantee=%u", (unsigned) getuid());
        guint first;

        remember_all(f, NIC_PATH, VFIO_PT_DEVICE_INTERFACE);
        remember_all(f, NIC_GROUP_PATH, VFIO_PT_GROUP_INTERFACE);
        drain(f, 100);

        first = f->signals->len;
        device_call_ok(f, "Attach", g_variant_new("(@a{sv})", no_options()));
        drain(f, 200);
        attach = changes(f, first, NIC_PATH);
        /* Busy first, the move, then Busy again false, last. */
        g_assert_cmpint(find_line(attach, "Busy=true", 0), ==, 1);
        g_assert_cmpint(find_line(attach, "Driver='vfio-pci'", 0), >, 1);
        g_assert_cmpint(find_line(attach, "Managed=true", 0), >, 1);
        g_assert_cmpint(find_line(attach, "OriginalDriver='igb'", 0), >, 1);
        g_assert_cmpint(find_last(attach, "Busy=false"), >=, find_line(attach, "Driver='vfio-pci'", 0));
        g_assert_cmpint(find_line(attach, "Busy=true", find_last(attach, "Busy=false")), <, 0);
        assert_known_is_current(f, NIC_PATH, VFIO_PT_DEVICE_INTERFACE);
        group = changes(f, first, NIC_GROUP_PATH);
        g_assert_cmpint(find_line(group, "Viable=true", 0), >, 0);
        g_assert_cmpint(find_line(group, "Node='/dev/vfio/6'", 0), >, 0);
        assert_known_is_current(f, NIC_GROUP_PATH, VFIO_PT_GROUP_INTERFACE);

        first = f->signals->len;
        device_call_ok(f, "Grant", g_variant_new("(@a{sv})", no_options()));
        drain(f, 200);
        grant = changes(f, first, NIC_PATH);
        g_assert_cmpint(find_line(grant, "Busy=true", 0), ==, 1);
        g_assert_cmpint(find_line(grant, uid, 0), >, 1);
        g_assert_cmpint(find_last(grant, "Busy=false"), >=, find_line(grant, uid, 0));
        assert_known_is_current(f, NIC_PATH, VFIO_PT_DEVICE_INTERFACE);

        first = f->signals->len;
        device_call_ok(f, "Restore", g_variant_new("(@a{sv})", no_options()));
        drain(f, 200);
        restore = changes(f, first, NIC_PATH);
        g_assert_cmpint(find_line(restore, "Busy=true", 0), ==, 1);
        g_assert_cmpint(find_line(restore, "Driver='igb'", 0), >, 1);
        g_assert_cmpint(find_line(restore, "Managed=false", 0), >, 1);
        g_assert_cmpint(find_line(restore, "Grantee=4294967295", 0), >, 1);
        g_assert_cmpint(find_last(restore, "Busy=false"), >=, find_line(restore, "Driver='igb'", 0));
        g_assert_cmpint(find_line(restore, "Busy=true", find_last(restore, "Busy=false")), <, 0);
        assert_known_is_current(f, NIC_PATH, VFIO_PT_DEVICE_INTERFACE);
        g_ptr_array_unref(group);
        group = changes(f, first, NIC_GROUP_PATH);
        g_assert_cmpint(find_line(group, "Viable=false", 0), >, 0);
        assert_known_is_current(f, NIC_GROUP_PATH, VFIO_PT_GROUP_INTERFACE);
}

/* Another tool unbinds the device: the kernel's uevent is enough for the object to say so. */
static void test_change_by_another_tool(Fixture *f, gconstpointer data) {
        g_autofree char *root = umockdev_testbed_get_root_dir(f->h.testbed);
        g_autofree char *unbind = g_build_filename(root, "sys/bus/pci/drivers/igb/unbind", NULL);
        g_autoptr(GPtrArray) lines = NULL;
        guint first;

        remember_all(f, NIC_PATH, VFIO_PT_DEVICE_INTERFACE);
        first = f->signals->len;
        write_control(unbind, NIC);
        drain(f, 200);
        lines = changes(f, first, NIC_PATH);
        g_assert_cmpint(find_line(lines, "Driver=''", 0), >, 0);
        assert_known_is_current(f, NIC_PATH, VFIO_PT_DEVICE_INTERFACE);
}

/* Another tool writes driver_override: no uevent, so the object keeps the old value until
 * someone asks for a Refresh, which announces it before it replies. */
static void test_refresh(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL, gone = NULL;
        g_autoptr(GPtrArray) lines = NULL;
        g_autofree char *syspath = fake_pci_device_syspath(NIC);
        guint first;

        remember_all(f, NIC_PATH, VFIO_PT_DEVICE_INTERFACE);
        first = f->signals->len;
        umockdev_testbed_set_attribute(f->h.testbed, syspath, "driver_override", "vfio-pci\n");
        drain(f, 300);
        lines = changes(f, first, NIC_PATH);
        g_assert_cmpint(find_line(lines, "DriverOverride='vfio-pci'", 0), <, 0);

        reply = device_call(f, "Refresh", NULL, &error);
        g_assert_no_error(error);
        drain(f, 100);
        g_ptr_array_unref(lines);
        lines = changes(f, first, NIC_PATH);
        g_assert_cmpint(find_line(lines, "DriverOverride='vfio-pci'", 0), >=, 0);
        assert_known_is_current(f, NIC_PATH, VFIO_PT_DEVICE_INTERFACE);

        gone = object_call(f, VFIO_PT_DEVICES_PATH "/0000_7f_00_0", VFIO_PT_DEVICE_INTERFACE, "Refresh", NULL, NULL,
                           &error);
        g_assert_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT);
}

/* 120 more functions, so that a full re-read takes several slices (device-model.c). */
#define MANY 120
#define LAST_OF_MANY "0000:a0:0e.7"

static void populate_many(UMockdevTestbed *testbed, const void *data) {
        for (int i = 0; i < MANY; i++) {
                g_autofree char *address = g_strdup_printf("0000:a0:%02x.%d", i / 8, i % 8);
                const struct fake_pci_device d = {
                        .address = address,
                        .vendor = 0x8086, .device = 0x1520, .subsystem_vendor = 0x8086, .subsystem_device = 0x0001,
                        .class_code = 0x020000,
                        .driver = "igbvf",
                        .iommu_group = 500 + i,
                        .boot_vga = -1,
                };
                fake_pci_device_add(testbed, &d);
        }
}

static void fixture_setup_many(Fixture *f, gconstpointer data) {
        static const struct harness_options many = { .emulate_kernel = TRUE, .populate = populate_many };

        fixture_start(f, &many);
}

/* A disk event means what the host uses may have changed anywhere: every function is read again,
 * a slice at a time, and the changes nobody announced (driver_override written behind the
 * daemon's back) come out for the first function and the last. */
static void test_full_refresh(Fixture *f, gconstpointer data) {
        g_autofree char *nic = fake_pci_device_syspath(NIC);
        g_autofree char *last = g_strdup_printf("/sys/devices/pci0000:00/%s", LAST_OF_MANY);
        g_autofree char *last_path = g_strdup(VFIO_PT_DEVICES_PATH "/0000_a0_0e_7");
        g_autofree char *disk = NULL;
        g_autoptr(GPtrArray) nic_lines = NULL, last_lines = NULL;
        guint first;

        remember_all(f, NIC_PATH, VFIO_PT_DEVICE_INTERFACE);
        remember_all(f, last_path, VFIO_PT_DEVICE_INTERFACE);
        disk = umockdev_testbed_add_device(f->h.testbed, "block", "sdz", NULL, "size", "1000", NULL, "DEVTYPE", "disk",
                                           NULL);
        drain(f, 200);
        first = f->signals->len;
        umockdev_testbed_set_attribute(f->h.testbed, nic, "driver_override", "vfio-pci\n");
        umockdev_testbed_set_attribute(f->h.testbed, last, "driver_override", "vfio-pci\n");
        umockdev_testbed_uevent(f->h.testbed, disk, "change");
        drain(f, 300);
        nic_lines = changes(f, first, NIC_PATH);
        last_lines = changes(f, first, last_path);
        g_assert_cmpint(find_line(nic_lines, "DriverOverride='vfio-pci'", 0), >=, 0);
        g_assert_cmpint(find_line(last_lines, "DriverOverride='vfio-pci'", 0), >=, 0);
        assert_known_is_current(f, NIC_PATH, VFIO_PT_DEVICE_INTERFACE);
        assert_known_is_current(f, last_path, VFIO_PT_DEVICE_INTERFACE);
}

/* A Restore the kernel holds up: the caller is told Timeout, the object stays Busy, and when the
 * kernel lets go it announces the end (Busy false, back on igb) with no call from anyone. */
static void test_busy_after_timeout(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL, busy = NULL;
        g_autoptr(GPtrArray) lines = NULL;
        guint first;

        device_call_ok(f, "Attach", g_variant_new("(@a{sv})", no_options()));
        drain(f, 100);
        remember_all(f, NIC_PATH, VFIO_PT_DEVICE_INTERFACE);
        kernel_emulator_hang_unbind(f->h.emulator, "vfio-pci");
        first = f->signals->len;
        reply = device_call(f, "Restore", g_variant_new("(@a{sv})", no_options()), &error);
        assert_dbus_error(error, VFIO_PT_ERROR_TIMEOUT);
        g_clear_error(&error);
        busy = object_call(f, NIC_PATH, "org.freedesktop.DBus.Properties", "Get",
                           g_variant_new("(ss)", VFIO_PT_DEVICE_INTERFACE, "Busy"), "(v)", &error);
        g_assert_no_error(error);
        {
                g_autoptr(GVariant) value = g_variant_get_child_value(busy, 0);
                g_autoptr(GVariant) inner = g_variant_get_variant(value);
                g_assert_true(g_variant_get_boolean(inner));
        }

        kernel_emulator_release_unbind(f->h.emulator, "vfio-pci");
        drain(f, 500);
        lines = changes(f, first, NIC_PATH);
        g_assert_cmpint(find_line(lines, "Busy=true", 0), ==, 1);
        g_assert_cmpint(find_line(lines, "Driver='igb'", 0), >, 1);
        g_assert_cmpint(find_last(lines, "Busy=false"), >=, find_line(lines, "Driver='igb'", 0));
        assert_known_is_current(f, NIC_PATH, VFIO_PT_DEVICE_INTERFACE);
}

static gboolean saw_signal(Fixture *f, guint first, const char *member, const char *object) {
        for (guint i = first; i < f->signals->len; i++) {
                g_autoptr(GVariant) params = NULL;
                const char *path, *interface, *name, *announced;

                g_variant_get(g_ptr_array_index(f->signals, i), "(&s&s&s@*)", &path, &interface, &name, &params);
                if (!g_str_equal(name, member))
                        continue;
                g_variant_get_child(params, 0, "&o", &announced);
                if (g_str_equal(announced, object))
                        return TRUE;
        }
        return FALSE;
}

/* A function that comes and goes: its object, and its group's, appear and vanish. */
static void test_hotplug(Fixture *f, gconstpointer data) {
        g_autofree char *root = umockdev_testbed_get_root_dir(f->h.testbed);
        const char *path = VFIO_PT_DEVICES_PATH "/0000_00_05_0", *group = VFIO_PT_GROUPS_PATH "/13";
        g_autofree char *remove = NULL;
        g_autoptr(GError) error = NULL;
        guint first = f->signals->len;

        fake_pci_device_add(f->h.testbed, fake_pci_extra_device("0000:00:05.0"));
        {
                g_autofree char *syspath = fake_pci_device_syspath("0000:00:05.0");
                umockdev_testbed_uevent(f->h.testbed, syspath, "add");
        }
        drain(f, 200);
        g_assert_true(saw_signal(f, first, "InterfacesAdded", path));
        g_assert_true(saw_signal(f, first, "InterfacesAdded", group));
        remember_all(f, path, VFIO_PT_DEVICE_INTERFACE);

        /* Gone, as after `echo 1 > remove`, and back with a rescan. */
        first = f->signals->len;
        remove = g_build_filename(root, "sys/bus/pci/devices/0000:59:00.1/remove", NULL);
        write_control(remove, "1");
        drain(f, 200);
        g_assert_true(saw_signal(f, first, "InterfacesRemoved", VFIO_PT_DEVICES_PATH "/0000_59_00_1"));
        g_assert_true(saw_signal(f, first, "InterfacesRemoved", VFIO_PT_GROUPS_PATH "/7"));
        g_assert_null(object_call(f, VFIO_PT_DEVICES_PATH "/0000_59_00_1", "org.freedesktop.DBus.Properties",
                                  "GetAll", g_variant_new("(s)", VFIO_PT_DEVICE_INTERFACE), NULL, &error));
        g_assert_nonnull(error);

        first = f->signals->len;
        {
                g_autofree char *rescan = g_build_filename(root, "sys/bus/pci/rescan", NULL);
                write_control(rescan, "1");
        }
        drain(f, 200);
        g_assert_true(saw_signal(f, first, "InterfacesAdded", VFIO_PT_DEVICES_PATH "/0000_59_00_1"));
        g_assert_true(saw_signal(f, first, "InterfacesAdded", VFIO_PT_GROUPS_PATH "/7"));
}

static void test_options(Fixture *f, gconstpointer data) {
        GVariantBuilder b;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        struct harness_before before;

        harness_remember(&f->h, &before);
        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "frobnicate", g_variant_new_boolean(TRUE));
        reply = device_call(f, "Attach", g_variant_new("(a{sv})", &b), &error);
        assert_dbus_error(error, VFIO_PT_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "force", g_variant_new_string("yes"));
        reply = device_call(f, "Attach", g_variant_new("(a{sv})", &b), &error);
        assert_dbus_error(error, VFIO_PT_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);

        /* Restore has no use for force. */
        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "force", g_variant_new_boolean(TRUE));
        reply = device_call(f, "Restore", g_variant_new("(a{sv})", &b), &error);
        assert_dbus_error(error, VFIO_PT_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);

        /* "user" belongs to Grant alone, and is a string. */
        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "user", g_variant_new_string("nobody"));
        reply = device_call(f, "Detach", g_variant_new("(a{sv})", &b), &error);
        assert_dbus_error(error, VFIO_PT_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "user", g_variant_new_uint32(65534));
        reply = device_call(f, "Grant", g_variant_new("(a{sv})", &b), &error);
        assert_dbus_error(error, VFIO_PT_ERROR_INVALID_ARGUMENT);
        harness_assert_nothing_changed(&f->h, &before);

        /* The replies name objects. */
        g_clear_error(&error);
        g_clear_pointer(&reply, g_variant_unref);
        reply = object_call(f, NIC_PATH, VFIO_PT_DEVICE_INTERFACE, "Attach", g_variant_new("(@a{sv})", no_options()),
                            "(obao)", &error);
        g_assert_no_error(error);
        {
                const char *group;
                gboolean viable;
                g_autoptr(GVariant) moved = NULL;

                g_variant_get(reply, "(&ob@ao)", &group, &viable, &moved);
                g_assert_cmpstr(group, ==, NIC_GROUP_PATH);
                g_assert_true(viable);
                g_assert_cmpuint(g_variant_n_children(moved), ==, 1);
        }

        /* A grant to someone else names them in the options. */
        g_clear_pointer(&reply, g_variant_unref);
        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "user", g_variant_new_string("65534"));
        reply = object_call(f, NIC_PATH, VFIO_PT_DEVICE_INTERFACE, "Grant", g_variant_new("(a{sv})", &b), "(uastt)",
                            &error);
        g_assert_no_error(error);
        {
                guint32 uid;

                g_variant_get_child(reply, 0, "u", &uid);
                g_assert_cmpuint(uid, ==, 65534);
        }
}

/* vfio-passthroughctl monitor: a line per change, as it happens, text and JSON. */
static void test_monitor(Fixture *f, gconstpointer data) {
        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
        g_autoptr(GSubprocess) text = NULL, json = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *text_out = NULL, *json_out = NULL;
        g_auto(GStrv) lines = NULL;
        guint objects = 0;

        g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS", f->h.bus.address, TRUE);
        g_subprocess_launcher_unsetenv(launcher, "LD_PRELOAD");
        text = g_subprocess_launcher_spawn(launcher, &error, CTL_PATH, "monitor", NULL);
        g_assert_no_error(error);
        json = g_subprocess_launcher_spawn(launcher, &error, CTL_PATH, "--json", "monitor", NULL);
        g_assert_no_error(error);
        /* Both have their matches in place once a call of theirs would be answered. */
        g_usleep(500000);

        device_call_ok(f, "Attach", g_variant_new("(@a{sv})", no_options()));
        drain(f, 300);
        g_subprocess_send_signal(text, SIGTERM);
        g_subprocess_send_signal(json, SIGTERM);
        g_assert_true(g_subprocess_communicate_utf8(text, NULL, NULL, &text_out, NULL, &error));
        g_assert_true(g_subprocess_communicate_utf8(json, NULL, NULL, &json_out, NULL, &error));
        g_test_message("monitor:\n%s", text_out);
        g_test_message("monitor --json:\n%s", json_out);

        g_assert_nonnull(strstr(text_out, NIC ": Busy=yes\n"));
        g_assert_nonnull(strstr(text_out, " Driver='vfio-pci'"));
        g_assert_nonnull(strstr(text_out, "group 6: Viable=yes"));
        /* One JSON object a line, each naming the object and what changed. */
        lines = g_strsplit(g_strstrip(json_out), "\n", -1);
        for (char **l = lines; *l; l++) {
                g_autoptr(JsonParser) parser = json_parser_new();
                JsonObject *o;

                g_assert_true(json_parser_load_from_data(parser, *l, -1, &error));
                o = json_node_get_object(json_parser_get_root(parser));
                g_assert_true(json_object_has_member(o, "object"));
                g_assert_true(json_object_has_member(o, "changed"));
                objects++;
        }
        {
                g_auto(GStrv) text_lines = g_strsplit(g_strstrip(text_out), "\n", -1);
                g_assert_cmpuint(objects, ==, g_strv_length(text_lines));
        }
        g_assert_nonnull(strstr(json_out, "\"Driver\":\"vfio-pci\""));
}

/* --- introspection against the shipped XML ------------------------------------------------------ */

static const GDBusInterfaceInfo *find_interface(GDBusNodeInfo *node, const char *name) {
        for (GDBusInterfaceInfo **i = node->interfaces; i && *i; i++)
                if (g_str_equal((*i)->name, name))
                        return *i;
        return NULL;
}

static const char *annotation(GDBusAnnotationInfo **annotations, const char *name) {
        return g_dbus_annotation_info_lookup(annotations, name);
}

static void assert_args_equal(const char *what, GDBusArgInfo **live, GDBusArgInfo **shipped) {
        guint i;

        for (i = 0; live && live[i] && shipped && shipped[i]; i++) {
                if (!g_str_equal(live[i]->name, shipped[i]->name) || !g_str_equal(live[i]->signature, shipped[i]->signature))
                        g_error("%s: argument %u is %s %s live, %s %s in the XML", what, i, live[i]->signature,
                                live[i]->name, shipped[i]->signature, shipped[i]->name);
                if (!annotation(shipped[i]->annotations, "org.gtk.GDBus.DocString"))
                        g_error("%s: argument %s is not documented in the XML", what, shipped[i]->name);
        }
        if ((live && live[i]) || (shipped && shipped[i]))
                g_error("%s: the argument lists differ in length", what);
}

static void assert_interface_equal(const GDBusInterfaceInfo *live, const GDBusInterfaceInfo *shipped) {
        guint n;

        g_assert_nonnull(shipped);
        g_assert_nonnull(annotation(shipped->annotations, "org.gtk.GDBus.DocString"));
        for (n = 0; live->methods && live->methods[n]; n++) {
                const GDBusMethodInfo *m = live->methods[n];
                const GDBusMethodInfo *s = g_dbus_interface_info_lookup_method((GDBusInterfaceInfo *) shipped, m->name);
                g_autofree char *what = g_strdup_printf("%s.%s", live->name, m->name);

                if (!s)
                        g_error("%s is live but not in the XML", what);
                if (!annotation(s->annotations, "org.gtk.GDBus.DocString"))
                        g_error("%s is not documented in the XML", what);
                assert_args_equal(what, m->in_args, s->in_args);
                assert_args_equal(what, m->out_args, s->out_args);
        }
        for (guint k = 0; shipped->methods && shipped->methods[k]; k++)
                if (!g_dbus_interface_info_lookup_method((GDBusInterfaceInfo *) live, shipped->methods[k]->name))
                        g_error("%s.%s is in the XML but not live", live->name, shipped->methods[k]->name);
        for (n = 0; live->properties && live->properties[n]; n++) {
                const GDBusPropertyInfo *p = live->properties[n];
                const GDBusPropertyInfo *s = g_dbus_interface_info_lookup_property((GDBusInterfaceInfo *) shipped,
                                                                                   p->name);
                const char *emits_live, *emits_shipped;

                if (!s)
                        g_error("%s.%s is live but not in the XML", live->name, p->name);
                if (!g_str_equal(p->signature, s->signature) || p->flags != s->flags)
                        g_error("%s.%s differs: %s live, %s in the XML", live->name, p->name, p->signature,
                                s->signature);
                emits_live = annotation(p->annotations, "org.freedesktop.DBus.Property.EmitsChangedSignal") ?: "true";
                emits_shipped = annotation(s->annotations, "org.freedesktop.DBus.Property.EmitsChangedSignal") ?: "true";
                if (!g_str_equal(emits_live, emits_shipped))
                        g_error("%s.%s: EmitsChangedSignal is %s live, %s in the XML", live->name, p->name, emits_live,
                                emits_shipped);
                if (!annotation(s->annotations, "org.gtk.GDBus.DocString"))
                        g_error("%s.%s is not documented in the XML", live->name, p->name);
        }
        for (guint k = 0; shipped->properties && shipped->properties[k]; k++)
                if (!g_dbus_interface_info_lookup_property((GDBusInterfaceInfo *) live, shipped->properties[k]->name))
                        g_error("%s.%s is in the XML but not live", live->name, shipped->properties[k]->name);
        for (n = 0; live->signals && live->signals[n]; n++) {
                const GDBusSignalInfo *sig = live->signals[n];
                const GDBusSignalInfo *s = g_dbus_interface_info_lookup_signal((GDBusInterfaceInfo *) shipped,
                                                                               sig->name);
                g_autofree char *what = g_strdup_printf("%s.%s", live->name, sig->name);

                if (!s)
                        g_error("%s is live but not in the XML", what);
                if (!annotation(s->annotations, "org.gtk.GDBus.DocString"))
                        g_error("%s is not documented in the XML", what);
                assert_args_equal(what, sig->args, s->args);
        }
        for (guint k = 0; shipped->signals && shipped->signals[k]; k++)
                if (!g_dbus_interface_info_lookup_signal((GDBusInterfaceInfo *) live, shipped->signals[k]->name))
                        g_error("%s.%s is in the XML but not live", live->name, shipped->signals[k]->name);
}

static GDBusNodeInfo *introspect(Fixture *f, const char *path) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = object_call(f, path, "org.freedesktop.DBus.Introspectable", "Introspect", NULL,
                                                "(s)", &error);
        const char *xml;
        GDBusNodeInfo *node;

        g_assert_no_error(error);
        g_variant_get(reply, "(&s)", &xml);
        node = g_dbus_node_info_new_for_xml(xml, &error);
        g_assert_no_error(error);
        return node;
}

static void test_introspection_matches_xml(Fixture *f, gconstpointer data) {
        g_autofree char *xml = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GDBusNodeInfo) shipped = NULL, manager = NULL, device = NULL, group = NULL;

        g_assert_true(g_file_get_contents(INTERFACE_XML, &xml, NULL, &error));
        shipped = g_dbus_node_info_new_for_xml(xml, &error);
        g_assert_no_error(error);

        manager = introspect(f, VFIO_PT_OBJECT_PATH);
        device = introspect(f, NIC_PATH);
        group = introspect(f, NIC_GROUP_PATH);
        assert_interface_equal(find_interface(manager, VFIO_PT_INTERFACE), find_interface(shipped, VFIO_PT_INTERFACE));
        g_assert_nonnull(find_interface(manager, "org.freedesktop.DBus.ObjectManager"));
        assert_interface_equal(find_interface(device, VFIO_PT_DEVICE_INTERFACE),
                               find_interface(shipped, VFIO_PT_DEVICE_INTERFACE));
        assert_interface_equal(find_interface(group, VFIO_PT_GROUP_INTERFACE),
                               find_interface(shipped, VFIO_PT_GROUP_INTERFACE));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add("/objects/managed-objects", Fixture, NULL, fixture_setup, test_managed_objects, fixture_teardown);
        g_test_add("/objects/cycle-from-signals", Fixture, NULL, fixture_setup, test_cycle_from_signals,
                   fixture_teardown);
        g_test_add("/objects/change-by-another-tool", Fixture, NULL, fixture_setup, test_change_by_another_tool,
                   fixture_teardown);
        g_test_add("/objects/refresh", Fixture, NULL, fixture_setup, test_refresh, fixture_teardown);
        g_test_add("/objects/busy-after-timeout", Fixture, NULL, fixture_setup, test_busy_after_timeout,
                   fixture_teardown);
        g_test_add("/objects/hotplug", Fixture, NULL, fixture_setup, test_hotplug, fixture_teardown);
        g_test_add("/objects/full-refresh", Fixture, NULL, fixture_setup_many, test_full_refresh, fixture_teardown);
        g_test_add("/objects/options", Fixture, NULL, fixture_setup, test_options, fixture_teardown);
        g_test_add("/objects/monitor", Fixture, NULL, fixture_setup, test_monitor, fixture_teardown);
        g_test_add("/objects/introspection-matches-xml", Fixture, NULL, fixture_setup, test_introspection_matches_xml,
                   fixture_teardown);
        return g_test_run();
}
