/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Detach, Attach, Restore and Grant through the real daemon on a private bus, with the kernel
 * emulator playing the kernel's reaction to every sysfs write; called over GDBus, through busctl
 * and through the real vfio-passthroughctl. Every test checks what happened in the testbed, not
 * only what the daemon replied. */
#include <gio/gio.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "harness.h"
#include "kernel-emulator.h"
#include "pci-tree.h"
#include "vfio-passthrough-bus.h"

#define NOBODY 65534
#define ACCESS_DENIED "org.freedesktop.DBus.Error.AccessDenied"

typedef struct {
        struct harness h;
        char *root; /* the testbed's root directory */
} Fixture;

static const struct harness_options plain_kernel = { .emulate_kernel = TRUE };
static const struct harness_options cdev_kernel = { .emulate_kernel = TRUE, .cdev_kernel = TRUE };
static const struct harness_options no_vfio_module = { .emulate_kernel = TRUE, .without_vfio_pci = TRUE };
static const struct harness_options short_timeout = { .emulate_kernel = TRUE, .operation_timeout = 2 };
static const struct harness_options with_journal = { .emulate_kernel = TRUE, .capture_journal = TRUE };

static void fixture_setup(Fixture *f, gconstpointer data) {
        harness_start_with(&f->h, data ? data : &plain_kernel);
        f->root = umockdev_testbed_get_root_dir(f->h.testbed);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        g_autofree char *journal = kernel_emulator_journal(f->h.emulator);
        g_autofree char *log = harness_daemon_log(&f->h);

        if (g_test_failed())
                g_printerr("--- emulator journal ---\n%s--- daemon log ---\n%s\n", journal, log);
        g_assert_true(harness_daemon_alive(&f->h));
        /* The emulator never saw new_id: two identical devices must never both move. */
        g_assert_null(strstr(journal, "new_id"));
        harness_stop(&f->h);
        g_free(f->root);
}

/* --- what the testbed says ------------------------------------------------------------------- */

static void settle(Fixture *f) {
        kernel_emulator_settle(f->h.emulator);
}

#define assert_driver(f, address, expected)                                      \
        do {                                                                      \
                g_autofree char *_d = harness_device_driver(&f->h, address);                      \
                g_assert_cmpstr(_d, ==, expected);                                \
        } while (0)

#define assert_override(f, address, expected)                                    \
        do {                                                                      \
                g_autofree char *_o = harness_device_override(&f->h, address);                    \
                g_assert_cmpstr(_o, ==, expected);                                \
        } while (0)

/* A node in the testbed's /dev, e.g. "vfio/6"; FALSE when it does not exist. */
static gboolean node_stat(Fixture *f, const char *node, struct stat *st) {
        g_autofree char *path = g_strdup_printf("%s/dev/%s", f->root, node);
        return lstat(path, st) == 0;
}

static guint state_files(Fixture *f) {
        g_autoptr(GDir) dir = g_dir_open(f->h.state_dir, 0, NULL);
        guint n = 0;
        const char *name;

        while (dir && (name = g_dir_read_name(dir)))
                if (name[0] != '.')
                        n++;
        return n;
}

/* A device the daemon never touched: on its host driver and without an override. */
static void assert_untouched(Fixture *f, const char *address, const char *driver) {
        assert_driver(f, address, driver);
        assert_override(f, address, "(null)");
}

/* --- calling the daemon ---------------------------------------------------------------------- */

static GVariant *detach(Fixture *f, const char *address, guint64 flags, GError **error) {
        GVariant *r = harness_call(&f->h, "Detach", g_variant_new("(st)", address, flags), "(s)", error);
        settle(f);
        return r;
}

static GVariant *attach(Fixture *f, const char *address, guint64 flags, GError **error) {
        GVariant *r = harness_call(&f->h, "Attach", g_variant_new("(st)", address, flags), "(sbas)", error);
        settle(f);
        return r;
}

static GVariant *restore(Fixture *f, const char *address, guint64 flags, GError **error) {
        GVariant *r = harness_call(&f->h, "Restore", g_variant_new("(st)", address, flags), "(sas)", error);
        settle(f);
        return r;
}

static GVariant *grant(Fixture *f, const char *address, const char *user, guint64 flags, GError **error) {
        GVariant *r = harness_call(&f->h, "Grant", g_variant_new("(sst)", address, user, flags), "(suastt)", error);
        settle(f);
        return r;
}

static void attach_ok(Fixture *f, const char *address, guint64 flags) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = attach(f, address, flags, &error);
        g_assert_no_error(error);
}

static gboolean strv_contains(GVariant *strv, const char *s) {
        g_autofree const char **v = g_variant_get_strv(strv, NULL);
        return g_strv_contains(v, s);
}

/* An asynchronous call, for the tests that need several in flight. */
struct pending_call {
        GVariant *reply;
        GError *error;
        gboolean done;
        gint64 finished_at;
};

static void on_reply(GObject *source, GAsyncResult *result, gpointer data) {
        struct pending_call *p = data;
        p->reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &p->error);
        p->done = TRUE;
        p->finished_at = g_get_monotonic_time();
}

static void call_async(Fixture *f, const char *method, GVariant *parameters, struct pending_call *p) {
        memset(p, 0, sizeof(*p));
        g_dbus_connection_call(f->h.bus.connection, VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE, method,
                               parameters, NULL, G_DBUS_CALL_FLAGS_NONE, 60000, NULL, on_reply, p);
}

static void pump_for(gint64 usec) {
        gint64 until = g_get_monotonic_time() + usec;
        while (g_get_monotonic_time() < until)
                if (!g_main_context_iteration(NULL, FALSE))
                        g_usleep(5000);
}

static void wait_done(struct pending_call *p, int seconds) {
        gint64 deadline = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
        while (!p->done && g_get_monotonic_time() < deadline)
                if (!g_main_context_iteration(NULL, FALSE))
                        g_usleep(5000);
        g_assert_true(p->done);
}

static void pending_call_clear(struct pending_call *p) {
        g_clear_pointer(&p->reply, g_variant_unref);
        g_clear_error(&p->error);
}

/* Waits, bounded, until the emulator's journal has a line containing needle. */
static void wait_journal(Fixture *f, const char *needle) {
        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        while (kernel_emulator_journal_find(f->h.emulator, needle) < 0) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                pump_for(10000);
        }
}

/* A read-only call answers at once, whatever the workers are doing. */
static void assert_still_serving(Fixture *f) {
        g_autoptr(GError) error = NULL;
        gint64 start = g_get_monotonic_time();
        g_autoptr(GVariant) reply = harness_call(&f->h, "ListDevices", NULL, "(aa{sv})", &error);

        g_assert_no_error(error);
        g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
}

/* While an operation runs on a group, its members are listed as Busy and their driver_override
 * is not read: on some kernels that read waits for the unbind holding the device lock. */
static void assert_busy(Fixture *f, const char *address, gboolean busy) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = harness_call(&f->h, "ListDevices", NULL, "(aa{sv})", &error);
        g_autoptr(GVariant) devices = NULL;
        GVariantIter iter;
        GVariant *dict;
        gboolean found = FALSE;

        g_assert_no_error(error);
        devices = g_variant_get_child_value(reply, 0);
        g_variant_iter_init(&iter, devices);
        while ((dict = g_variant_iter_next_value(&iter))) {
                const char *a, *override;
                gboolean b;

                g_assert_true(g_variant_lookup(dict, VFIO_PT_KEY_ADDRESS, "&s", &a));
                if (g_str_equal(a, address)) {
                        found = TRUE;
                        g_assert_true(g_variant_lookup(dict, VFIO_PT_KEY_BUSY, "b", &b));
                        g_assert_cmpint(b, ==, busy);
                        g_assert_cmpint(g_variant_lookup(dict, VFIO_PT_KEY_DRIVER_OVERRIDE, "&s", &override), ==,
                                        !busy);
                }
                g_variant_unref(dict);
        }
        g_assert_true(found);
}

/* --- the operations -------------------------------------------------------------------------- */

static void test_detach(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = detach(f, "59:00.0", 0, &error);
        const char *previous;

        g_assert_no_error(error);
        g_variant_get(reply, "(&s)", &previous);
        g_assert_cmpstr(previous, ==, "igb");
        assert_driver(f, "0000:59:00.0", "");
        assert_override(f, "0000:59:00.0", "vfio-pci");
        /* The twin function stays with the host. */
        assert_untouched(f, "0000:59:00.1", "igb");
        g_assert_cmpuint(state_files(f), >=, 1);

        /* Idempotent: a device without a driver is fine, and nothing was bound before. */
        g_clear_pointer(&reply, g_variant_unref);
        reply = detach(f, "59:00.0", 0, &error);
        g_assert_no_error(error);
        assert_driver(f, "0000:59:00.0", "");
        assert_override(f, "0000:59:00.0", "vfio-pci");
}

static void test_attach(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = attach(f, "59:00.0", 0, &error);
        g_autoptr(GVariant) moved = NULL;
        const char *node;
        gboolean viable;
        struct stat st;

        g_assert_no_error(error);
        g_variant_get(reply, "(&sb@as)", &node, &viable, &moved);
        g_assert_cmpstr(node, ==, "/dev/vfio/6");
        g_assert_true(viable);
        g_assert_cmpuint(g_variant_n_children(moved), ==, 1);
        g_assert_true(strv_contains(moved, "0000:59:00.0"));

        assert_driver(f, "0000:59:00.0", "vfio-pci");
        assert_override(f, "0000:59:00.0", "vfio-pci");
        g_assert_true(node_stat(f, "vfio/6", &st));
        g_assert_cmpuint(st.st_uid, ==, 0);
        g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
        /* Two identical functions, one moved: driver_override, never new_id. */
        assert_untouched(f, "0000:59:00.1", "igb");
        g_assert_false(node_stat(f, "vfio/7", &st));
        g_assert_cmpint(kernel_emulator_journal_find(f->h.emulator, "unbind igb 0000:59:00.0"), <,
                        kernel_emulator_journal_find(f->h.emulator, "bind vfio-pci 0000:59:00.0"));

        /* Attaching again changes nothing and still answers with the node. */
        g_clear_pointer(&reply, g_variant_unref);
        g_clear_pointer(&moved, g_variant_unref);
        reply = attach(f, "0000:59:00.0", 0, &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(&sb@as)", &node, &viable, &moved);
        g_assert_cmpstr(node, ==, "/dev/vfio/6");
        g_assert_cmpuint(g_variant_n_children(moved), ==, 0);
}

static void test_attach_ctl(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;
        int status = harness_run_ctl(&f->h, &out, &err, "attach", "59:00.0", NULL);

        g_test_message("ctl: %s%s", out, err);
        settle(f);
        g_assert_cmpint(status, ==, 0);
        g_assert_nonnull(strstr(out, "0000:59:00.0"));
        g_assert_nonnull(strstr(out, "vfio-pci"));
        g_assert_nonnull(strstr(out, "/dev/vfio/6"));
        assert_driver(f, "0000:59:00.0", "vfio-pci");
        assert_untouched(f, "0000:59:00.1", "igb");
}

static void test_attach_group(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;
        int status = harness_run_ctl(&f->h, &out, &err, "attach", "01:00.0", "--group", NULL);

        g_test_message("ctl: %s%s", out, err);
        settle(f);
        g_assert_cmpint(status, ==, 0);
        assert_driver(f, "0000:01:00.0", "vfio-pci");
        assert_driver(f, "0000:01:00.1", "vfio-pci");
        /* The root port shares the group but VFIO allows pcieport: it stays. */
        assert_untouched(f, "0000:00:01.0", "pcieport");
        g_assert_true(node_stat(f, "vfio/1", &(struct stat) {}));
        g_assert_nonnull(strstr(out, "/dev/vfio/1"));
}

static void test_attach_group_dbus_reply(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = attach(f, "01:00.0", VFIO_PT_FLAG_GROUP, &error);
        g_autoptr(GVariant) moved = NULL;
        const char *node;
        gboolean viable;

        g_assert_no_error(error);
        g_variant_get(reply, "(&sb@as)", &node, &viable, &moved);
        g_assert_cmpstr(node, ==, "/dev/vfio/1");
        g_assert_true(viable);
        g_assert_cmpuint(g_variant_n_children(moved), ==, 2);
        g_assert_true(strv_contains(moved, "0000:01:00.0"));
        g_assert_true(strv_contains(moved, "0000:01:00.1"));
}

static void test_attach_group_not_viable(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = attach(f, "01:00.0", 0, &error);
        g_autoptr(GVariant) moved = NULL;
        g_autofree char *out = NULL, *err = NULL;
        const char *node;
        gboolean viable;

        g_assert_no_error(error);
        g_variant_get(reply, "(&sb@as)", &node, &viable, &moved);
        g_assert_false(viable); /* the HDMI audio function is still on snd_hda_intel */
        g_assert_cmpuint(g_variant_n_children(moved), ==, 1);
        assert_driver(f, "0000:01:00.0", "vfio-pci");
        assert_untouched(f, "0000:01:00.1", "snd_hda_intel");

        /* The client says so, in words a user can act on. */
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "attach", "01:00.0", NULL), ==, 0);
        g_test_message("ctl: %s%s", out, err);
        g_assert_nonnull(strcasestr(out, "not viable"));
}

static void test_attach_module_missing(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = attach(f, "59:00.0", 0, &error);
        g_autofree char *out = NULL, *err = NULL;

        assert_dbus_error(error, VFIO_PT_ERROR_MODULE_NOT_AVAILABLE);
        g_assert_nonnull(strstr(error->message, "vfio-pci"));
        /* Checked before anything was changed. */
        assert_untouched(f, "0000:59:00.0", "igb");

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "attach", "59:00.0", NULL), ==, 1);
        g_assert_nonnull(strstr(err, "vfio-pci"));
        settle(f);
        assert_untouched(f, "0000:59:00.0", "igb");
}

static void test_attach_probe_binds_nothing(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;

        kernel_emulator_fail_probes(f->h.emulator, "0000:59:00.0", 1);
        reply = attach(f, "59:00.0", 0, &error);
        assert_dbus_error(error, VFIO_PT_ERROR_OPERATION_FAILED);
        /* Rolled back: the host has its NIC again, without an override left behind. */
        assert_untouched(f, "0000:59:00.0", "igb");
}

static void test_attach_no_iommu_group(Fixture *f, gconstpointer data) {
        g_autofree char *syspath = fake_pci_device_syspath("0000:03:00.0");
        g_autofree char *link = g_strdup_printf("%s%s/iommu_group", f->root, syspath);
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;

        /* The IOMMU is off for this device: no group, nothing VFIO could use. */
        g_assert_cmpint(g_unlink(link), ==, 0);
        reply = attach(f, "03:00.0", 0, &error);
        assert_dbus_error(error, VFIO_PT_ERROR_GROUP_NOT_VIABLE);
        assert_untouched(f, "0000:03:00.0", "");
}

/* --- Grant ------------------------------------------------------------------------------------ */

/* A grant is an ACL entry: the node stays root's, and root's mode. */
static void assert_granted(Fixture *f, const char *node, uid_t uid) {
        g_assert_cmpuint(harness_node_owner(&f->h, node), ==, 0);
        g_assert_true(harness_node_acl_grants(&f->h, node, uid));
}

static void test_grant_caller(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariant) nodes = NULL;
        const char *node;
        guint64 limit, minimum;
        guint32 uid;

        attach_ok(f, "59:00.0", 0);
        reply = grant(f, "59:00.0", "", 0, &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(&su@astt)", &node, &uid, &nodes, &limit, &minimum);
        g_assert_cmpuint(minimum, ==, 1 << 30);
        g_assert_cmpstr(node, ==, "/dev/vfio/6");
        g_assert_cmpuint(uid, ==, getuid());
        g_assert_true(strv_contains(nodes, "/dev/vfio/6"));
        assert_granted(f, "vfio/6", getuid());
        g_assert_cmpuint(harness_node_acl_users(&f->h, "vfio/6"), ==, 1);
}

static void test_grant_named_user(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autofree char *out = NULL, *err = NULL;
        guint32 uid;

        attach_ok(f, "59:00.0", 0);
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "grant", "59:00.0", "nobody", NULL), ==, 0);
        g_test_message("ctl: %s%s", out, err);
        g_assert_nonnull(strstr(out, "/dev/vfio/6"));
        assert_granted(f, "vfio/6", NOBODY);

        /* A decimal uid works too, and a new grantee replaces the old one. */
        reply = grant(f, "59:00.0", "4242", 0, &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(&su@astt)", NULL, &uid, NULL, NULL, NULL);
        g_assert_cmpuint(uid, ==, 4242);
        assert_granted(f, "vfio/6", 4242);
        g_assert_false(harness_node_acl_grants(&f->h, "vfio/6", NOBODY));
        g_assert_cmpuint(harness_node_acl_users(&f->h, "vfio/6"), ==, 1);
}

static void test_grant_not_bound(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = grant(f, "59:00.1", "", 0, &error);
        g_autofree char *out = NULL, *err = NULL;

        assert_dbus_error(error, VFIO_PT_ERROR_NOT_BOUND);
        /* The daemon's message is neutral; the client adds the command to type. */
        g_assert_nonnull(strstr(error->message, "not on vfio-pci"));
        g_assert_null(strstr(error->message, "vfio-passthroughctl"));
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "grant", "59:00.1", NULL), ==, 5);
        g_test_message("ctl: %s", err);
        g_assert_nonnull(strstr(err, "Attach it first: vfio-passthroughctl attach 0000:59:00.1"));
}

static void test_grant_no_such_user(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;

        attach_ok(f, "59:00.0", 0);
        reply = grant(f, "59:00.0", "no-such-user-vfio-test", 0, &error);
        assert_dbus_error(error, VFIO_PT_ERROR_NO_SUCH_USER);
        g_assert_cmpuint(harness_node_acl_users(&f->h, "vfio/6"), ==, 0);
}

static void test_grant_survives_udev(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        gint64 deadline;

        attach_ok(f, "59:00.0", 0);
        reply = grant(f, "59:00.0", "nobody", 0, &error);
        g_assert_no_error(error);
        assert_granted(f, "vfio/6", NOBODY);

        /* udev applies its rules again (a "change" event): chmod 0600 mutes the entry through the
         * mask, until the daemon repairs it. */
        kernel_emulator_udev_reset_node(f->h.emulator, 6);
        deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        while (!harness_node_acl_grants(&f->h, "vfio/6", NOBODY)) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(20000);
        }
        assert_granted(f, "vfio/6", NOBODY);
}

/* A node that is another device now (its number changed: the kernel made a new one) is never
 * handed to the old grantee when udev touches it. */
static void test_grant_not_on_another_device(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;

        attach_ok(f, "59:00.0", 0);
        reply = grant(f, "59:00.0", "nobody", 0, &error);
        g_assert_no_error(error);
        assert_granted(f, "vfio/6", NOBODY);

        kernel_emulator_renumber_group_node(f->h.emulator, 6, 99);
        kernel_emulator_udev_reset_node(f->h.emulator, 6);
        /* The daemon has seen the event once the other one below is answered after it. */
        kernel_emulator_udev_reset_node(f->h.emulator, 6);
        g_usleep(500000);
        settle(f);
        g_assert_cmpuint(harness_node_acl_users(&f->h, "vfio/6"), ==, 0);
        g_assert_cmpuint(harness_node_owner(&f->h, "vfio/6"), ==, 0);
}

static void test_grant_cdev(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariant) nodes = NULL;

        attach_ok(f, "59:00.0", 0);
        g_assert_true(node_stat(f, "vfio/devices/vfio0", &(struct stat) {}));
        reply = grant(f, "59:00.0", "nobody", 0, &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(&su@astt)", NULL, NULL, &nodes, NULL, NULL);
        g_assert_true(strv_contains(nodes, "/dev/vfio/6"));
        g_assert_true(strv_contains(nodes, "/dev/vfio/devices/vfio0"));
        g_assert_true(strv_contains(nodes, "/dev/iommu"));
        assert_granted(f, "vfio/6", NOBODY);
        assert_granted(f, "vfio/devices/vfio0", NOBODY);
        assert_granted(f, "iommu", NOBODY);
        /* The container node is everyone's already and is left alone. */
        g_assert_cmpuint(harness_node_acl_users(&f->h, "vfio/vfio"), ==, 0);
}

static void test_grant_memlock_warning(Fixture *f, gconstpointer data) {
        const struct harness_caller low = { .memlock = 64 * 1024 };
        g_autofree char *out = NULL, *err = NULL;

        attach_ok(f, "59:00.0", 0);

        /* The reply ends in two numbers: the caller's limit and the daemon's minimum. */
        g_assert_cmpint(harness_run_busctl_as(&f->h, &low, &out, &err, "call", VFIO_PT_BUS_NAME,
                                              VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE, "Grant", "sst", "59:00.0", "",
                                              "0", NULL),
                        ==, 0);
        g_test_message("busctl: %s", out);
        g_assert_true(g_str_has_suffix(out, " 65536 1073741824\n"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        /* The client turns them into advice. */
        g_assert_cmpint(harness_run_ctl_as(&f->h, &low, &out, &err, "grant", "59:00.0", NULL), ==, 0);
        g_test_message("ctl: %s%s", out, err);
        g_assert_nonnull(strstr(err, "your locked-memory limit is 64 KiB"));
}

/* --- Restore ---------------------------------------------------------------------------------- */

static void test_restore(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariant) restored = NULL;
        const char *driver;
        struct stat st;

        attach_ok(f, "59:00.0", 0);
        reply = grant(f, "59:00.0", "nobody", 0, &error);
        g_assert_no_error(error);
        g_clear_pointer(&reply, g_variant_unref);

        reply = restore(f, "59:00.0", 0, &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(&s@as)", &driver, &restored);
        g_assert_cmpstr(driver, ==, "igb");
        g_assert_true(strv_contains(restored, "0000:59:00.0"));
        assert_untouched(f, "0000:59:00.0", "igb");
        g_assert_false(node_stat(f, "vfio/6", &st));
        g_assert_cmpint(kernel_emulator_journal_find(f->h.emulator, "unbind vfio-pci 0000:59:00.0"), >=, 0);

        /* Done: the daemon does not manage it any more. */
        g_clear_pointer(&reply, g_variant_unref);
        reply = restore(f, "59:00.0", 0, &error);
        assert_dbus_error(error, VFIO_PT_ERROR_NOT_MANAGED);
}

static void test_restore_ctl(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "detach", "59:00.0", NULL), ==, 0);
        settle(f);
        assert_driver(f, "0000:59:00.0", "");
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "restore", "59:00.0", NULL), ==, 0);
        g_test_message("ctl: %s%s", out, err);
        settle(f);
        g_assert_nonnull(strstr(out, "igb"));
        assert_untouched(f, "0000:59:00.0", "igb");
}

/* Group node ownership goes back when the node outlives the restore (another member stays). */
/* Restore takes the grant back, from the group node too, which stays while another member keeps
 * it on vfio-pci. */
static void test_restore_takes_grant_back(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;

        attach_ok(f, "01:00.0", VFIO_PT_FLAG_GROUP);
        reply = grant(f, "01:00.0", "nobody", 0, &error);
        g_assert_no_error(error);
        assert_granted(f, "vfio/1", NOBODY);
        g_clear_pointer(&reply, g_variant_unref);

        reply = restore(f, "01:00.0", 0, &error);
        g_assert_no_error(error);
        assert_untouched(f, "0000:01:00.0", "nouveau");
        assert_driver(f, "0000:01:00.1", "vfio-pci");
        g_assert_cmpuint(harness_node_owner(&f->h, "vfio/1"), ==, 0);
        g_assert_cmpuint(harness_node_acl_users(&f->h, "vfio/1"), ==, 0);
}

static void test_restore_group(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;

        attach_ok(f, "01:00.0", VFIO_PT_FLAG_GROUP);
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "restore", "01:00.0", "--group", NULL), ==, 0);
        g_test_message("ctl: %s%s", out, err);
        settle(f);
        assert_untouched(f, "0000:01:00.0", "nouveau");
        assert_untouched(f, "0000:01:00.1", "snd_hda_intel");
        assert_untouched(f, "0000:00:01.0", "pcieport");
        g_assert_false(node_stat(f, "vfio/1", &(struct stat) {}));
        /* The root port was never unbound. */
        g_assert_cmpint(kernel_emulator_journal_find(f->h.emulator, "0000:00:01.0"), <, 0);
}

static void test_restore_after_restart(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        const char *driver;

        attach_ok(f, "59:00.0", 0);
        harness_restart_daemon(&f->h);
        reply = restore(f, "59:00.0", 0, &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(&s@as)", &driver, NULL);
        g_assert_cmpstr(driver, ==, "igb");
        assert_untouched(f, "0000:59:00.0", "igb");
}

static void test_restore_mismatch(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;

        attach_ok(f, "59:00.0", 0);
        /* Meanwhile another driver claims the NIC's ids: the reprobe picks e1000e. */
        kernel_emulator_set_host_driver(f->h.emulator, "0000:59:00.0", "e1000e");
        reply = restore(f, "59:00.0", 0, &error);
        assert_dbus_error(error, VFIO_PT_ERROR_RESTORE_MISMATCH);
        g_assert_nonnull(strstr(error->message, "igb"));
        g_assert_nonnull(strstr(error->message, "e1000e"));
        /* Reported, not hidden: the device is where the kernel put it. */
        assert_driver(f, "0000:59:00.0", "e1000e");
}

static void test_restore_not_managed(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = restore(f, "59:00.1", 0, &error);
        g_autofree char *out = NULL, *err = NULL;

        assert_dbus_error(error, VFIO_PT_ERROR_NOT_MANAGED);
        assert_untouched(f, "0000:59:00.1", "igb");
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "restore", "59:00.1", NULL), !=, 0);
        g_assert_cmpint(kernel_emulator_journal_find(f->h.emulator, "0000:59:00.1"), <, 0);
}

/* --- concurrency and timeouts ----------------------------------------------------------------- */

static void test_concurrent_groups(Fixture *f, gconstpointer data) {
        struct pending_call gpu;
        gint64 start;

        kernel_emulator_hang_unbind(f->h.emulator, "nouveau");
        call_async(f, "Detach", g_variant_new("(st)", "01:00.0", (guint64) 0), &gpu);
        /* The GPU's worker got as far as the unbind, which now blocks in the "kernel". */
        wait_journal(f, "override 0000:01:00.0 vfio-pci");
        pump_for(200000);
        g_assert_false(gpu.done);

        assert_still_serving(f);
        assert_busy(f, "0000:01:00.0", TRUE);
        assert_busy(f, "0000:01:00.1", TRUE);
        assert_busy(f, "0000:59:00.0", FALSE);
        start = g_get_monotonic_time();
        attach_ok(f, "59:00.0", 0);
        g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
        assert_driver(f, "0000:59:00.0", "vfio-pci");
        g_assert_false(gpu.done);

        kernel_emulator_release_unbind(f->h.emulator, "nouveau");
        wait_done(&gpu, 20);
        g_assert_no_error(gpu.error);
        settle(f);
        assert_driver(f, "0000:01:00.0", "");
        pending_call_clear(&gpu);
}

static void test_serialized_in_group(Fixture *f, gconstpointer data) {
        struct pending_call first, second;
        int unbind_gpu, touch_audio;

        kernel_emulator_hang_unbind(f->h.emulator, "nouveau");
        call_async(f, "Detach", g_variant_new("(st)", "01:00.0", (guint64) 0), &first);
        wait_journal(f, "override 0000:01:00.0 vfio-pci");
        call_async(f, "Detach", g_variant_new("(st)", "01:00.1", (guint64) 0), &second);
        pump_for(G_USEC_PER_SEC);

        /* Same IOMMU group: the second waits for the first. */
        g_assert_false(second.done);
        assert_untouched(f, "0000:01:00.1", "snd_hda_intel");
        assert_still_serving(f);

        kernel_emulator_release_unbind(f->h.emulator, "nouveau");
        wait_done(&first, 20);
        wait_done(&second, 20);
        g_assert_no_error(first.error);
        g_assert_no_error(second.error);
        settle(f);
        assert_driver(f, "0000:01:00.0", "");
        assert_driver(f, "0000:01:00.1", "");
        assert_override(f, "0000:01:00.1", "vfio-pci");
        unbind_gpu = kernel_emulator_journal_find(f->h.emulator, "unbind nouveau 0000:01:00.0");
        touch_audio = kernel_emulator_journal_find(f->h.emulator, "0000:01:00.1");
        g_assert_cmpint(unbind_gpu, >=, 0);
        g_assert_cmpint(unbind_gpu, <, touch_audio);
        pending_call_clear(&first);
        pending_call_clear(&second);
}

static void test_timeout(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autofree char *driver = NULL;
        gint64 start = g_get_monotonic_time();
        gint64 deadline;

        kernel_emulator_hang_unbind(f->h.emulator, "igb");
        reply = attach(f, "59:00.0", 0, &error);
        assert_dbus_error(error, VFIO_PT_ERROR_TIMEOUT);
        g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);
        g_clear_error(&error);
        assert_still_serving(f);
        /* Other groups are not held up by the stuck one. */
        attach_ok(f, "03:00.0", 0);
        assert_driver(f, "0000:03:00.0", "vfio-pci");

        /* The unbind finally returns; the daemon reconciles and the group is free again. */
        kernel_emulator_release_unbind(f->h.emulator, "igb");
        deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
        for (;;) {
                g_clear_pointer(&reply, g_variant_unref);
                g_clear_error(&error);
                reply = attach(f, "59:00.0", 0, &error);
                if (!error)
                        break;
                g_test_message("attach after release: %s", error->message);
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(500000);
        }
        driver = harness_device_driver(&f->h, "0000:59:00.0");
        g_assert_cmpstr(driver, ==, "vfio-pci");
}

/* --- authorization and arguments -------------------------------------------------------------- */

static void test_access_denied(Fixture *f, gconstpointer data) {
        const struct harness_caller nobody = { .uid = NOBODY };
        g_autofree char *out = NULL, *err = NULL;
        g_autofree char *journal = NULL;

        g_assert_cmpint(harness_run_ctl_as(&f->h, &nobody, &out, &err, "attach", "59:00.0", NULL), ==, 3);
        g_test_message("ctl as nobody: %s%s", out, err);
        /* No polkitd serves this bus: the daemon must refuse rather than allow, and say why. */
        g_assert_nonnull(strstr(err, "polkit is not available"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        for (size_t i = 0; i < 4; i++) {
                static const char *const calls[][3] = {
                        { "Detach", "st", NULL }, { "Attach", "st", NULL }, { "Restore", "st", NULL },
                        { "Grant", "sst", NULL },
                };
                int status = i == 3 ? harness_run_busctl_as(&f->h, &nobody, &out, &err, "call", VFIO_PT_BUS_NAME,
                                                            VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE, calls[i][0],
                                                            calls[i][1], "59:00.0", "", "0", NULL)
                                    : harness_run_busctl_as(&f->h, &nobody, &out, &err, "call", VFIO_PT_BUS_NAME,
                                                            VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE, calls[i][0],
                                                            calls[i][1], "59:00.0", "0", NULL);
                g_test_message("busctl %s as nobody: %s", calls[i][0], err);
                g_assert_cmpint(status, !=, 0);
                /* busctl shows the errno of org.freedesktop.DBus.Error.AccessDenied. */
                g_assert_nonnull(strstr(err, "Access denied"));
                g_clear_pointer(&out, g_free);
                g_clear_pointer(&err, g_free);
        }

        settle(f);
        assert_untouched(f, "0000:59:00.0", "igb");
        g_assert_cmpuint(state_files(f), ==, 0);
        journal = kernel_emulator_journal(f->h.emulator);
        g_assert_cmpstr(journal, ==, "");
        /* Reading stays open to everyone. */
        g_assert_cmpint(harness_run_busctl_as(&f->h, &nobody, &out, &err, "call", VFIO_PT_BUS_NAME,
                                              VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE, "DescribeDevice", "s",
                                              "59:00.0", NULL),
                        ==, 0);
}

static void test_invalid_flags(Fixture *f, gconstpointer data) {
        static const char *const methods[] = { "Detach", "Attach", "Restore" };

        for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = harness_call(&f->h, methods[i],
                                                         g_variant_new("(st)", "59:00.0", (guint64) 1 << 5), NULL,
                                                         &error);
                assert_dbus_error(error, VFIO_PT_ERROR_INVALID_ARGUMENT);
        }
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = grant(f, "59:00.0", "", G_GUINT64_CONSTANT(1) << 63, &error);
                assert_dbus_error(error, VFIO_PT_ERROR_INVALID_ARGUMENT);
        }
        settle(f);
        assert_untouched(f, "0000:59:00.0", "igb");
        g_assert_cmpuint(state_files(f), ==, 0);
}

static void test_named_errors(Fixture *f, gconstpointer data) {
        static const char *const methods[] = { "Detach", "Attach", "Restore" };
        g_autofree char *out = NULL, *err = NULL;

        for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = NULL;

                reply = harness_call(&f->h, methods[i], g_variant_new("(st)", "42:00.0", (guint64) 0), NULL, &error);
                assert_dbus_error(error, VFIO_PT_ERROR_NO_SUCH_DEVICE);
                g_assert_nonnull(strstr(error->message, "0000:42:00.0"));
                g_clear_error(&error);
                reply = harness_call(&f->h, methods[i], g_variant_new("(st)", "../../../../etc", (guint64) 0), NULL,
                                     &error);
                assert_dbus_error(error, VFIO_PT_ERROR_INVALID_ADDRESS);
        }
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = grant(f, "42:00.0", "", 0, &error);
                assert_dbus_error(error, VFIO_PT_ERROR_NO_SUCH_DEVICE);
        }
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = grant(f, "zz:00.0", "", 0, &error);
                assert_dbus_error(error, VFIO_PT_ERROR_INVALID_ADDRESS);
        }

        /* The client's exit codes. */
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "attach", "zz:00.0", NULL), ==, 2);
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "attach", "42:00.0", NULL), ==, 4);
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "attach", "00:02.0", NULL), ==, 5);
        settle(f);
        assert_untouched(f, "0000:00:02.0", "i915");
        g_assert_cmpuint(state_files(f), ==, 0);
}

static void test_busctl_cycle(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;

        g_assert_cmpint(harness_run_busctl(&f->h, &out, &err, "call", VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH,
                                           VFIO_PT_INTERFACE, "Attach", "st", "59:00.0", "0", NULL),
                        ==, 0);
        g_assert_cmpstr(out, ==, "sbas \"/dev/vfio/6\" true 1 \"0000:59:00.0\"\n");
        settle(f);
        assert_driver(f, "0000:59:00.0", "vfio-pci");
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        g_assert_cmpint(harness_run_busctl(&f->h, &out, &err, "call", VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH,
                                           VFIO_PT_INTERFACE, "Restore", "st", "59:00.0", "0", NULL),
                        ==, 0);
        g_assert_cmpstr(out, ==, "sas \"igb\" 1 \"0000:59:00.0\"\n");
        settle(f);
        assert_untouched(f, "0000:59:00.0", "igb");
}

/* --- the emulator itself ---------------------------------------------------------------------- */

static void write_testbed(Fixture *f, const char *path, const char *value) {
        g_autofree char *full = g_build_filename(f->root, path, NULL);
        int fd = open(full, O_WRONLY | O_TRUNC | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(write(fd, value, strlen(value)), ==, (ssize_t) strlen(value));
        close(fd);
}

/* What the daemon relies on: the emulated kernel reacts like the real one. */
static void test_emulator(Fixture *f, gconstpointer data) {
        g_autofree char *syspath = fake_pci_device_syspath("0000:59:00.0");
        g_autofree char *override = g_strdup_printf("%s/driver_override", syspath);
        g_autofree char *remove = g_strdup_printf("%s/remove", syspath);
        g_autofree char *back = g_strdup_printf("%s/sys/bus/pci/drivers/vfio-pci/0000:59:00.0", f->root);
        struct stat st;

        write_testbed(f, override, "vfio-pci");
        write_testbed(f, "/sys/bus/pci/drivers/igb/unbind", "0000:59:00.0");
        write_testbed(f, "/sys/bus/pci/drivers_probe", "0000:59:00.0");
        settle(f);
        assert_driver(f, "0000:59:00.0", "vfio-pci");
        g_assert_true(g_file_test(back, G_FILE_TEST_IS_SYMLINK));
        assert_override(f, "0000:59:00.0", "vfio-pci");
        g_assert_true(node_stat(f, "vfio/6", &st));
        g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
        assert_untouched(f, "0000:59:00.1", "igb");

        /* Two writes back to back both count. */
        write_testbed(f, "/sys/bus/pci/drivers/vfio-pci/unbind", "0000:59:00.0");
        write_testbed(f, override, "\n");
        write_testbed(f, "/sys/bus/pci/drivers_probe", "0000:59:00.0");
        settle(f);
        assert_untouched(f, "0000:59:00.0", "igb");
        g_assert_false(node_stat(f, "vfio/6", &st));

        /* Remove and rescan: the device comes back on its driver, without an override. */
        write_testbed(f, override, "vfio-pci");
        write_testbed(f, remove, "1");
        settle(f);
        g_assert_false(g_file_test(back, G_FILE_TEST_EXISTS));
        write_testbed(f, "/sys/bus/pci/rescan", "1");
        settle(f);
        assert_untouched(f, "0000:59:00.0", "igb");

        /* A hanging unbind blocks its writer in write() until released. */
        kernel_emulator_hang_unbind(f->h.emulator, "igb");
        {
                g_autofree char *path = g_build_filename(f->root, "/sys/bus/pci/drivers/igb/unbind", NULL);
                int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
                g_assert_cmpint(fd, >=, 0);
                /* A blocking write would wait here. */
                g_assert_cmpint(write(fd, "0000:59:00.1", 12), <, 0);
                g_assert_cmpint(errno, ==, EAGAIN);
                close(fd);
        }
        settle(f);
        assert_driver(f, "0000:59:00.1", "igb");
        kernel_emulator_release_unbind(f->h.emulator, "igb");
        write_testbed(f, "/sys/bus/pci/drivers/igb/unbind", "0000:59:00.1");
        settle(f);
        assert_driver(f, "0000:59:00.1", "");
}

/* --- the journal -------------------------------------------------------------------------------- */

#define MESSAGE_ID_OPERATION "2f8e6b1dc4a94c0e9a7d5b3f1e6c8a24"

/* The one entry a call left, with these fields (NULL-terminated "KEY=VALUE" list). */
static void assert_one_entry(GPtrArray *entries, const char *const *fields) {
        guint matching = 0;

        for (guint i = 0; i < entries->len; i++) {
                g_auto(GStrv) lines = g_strsplit(g_ptr_array_index(entries, i), "\n", -1);
                gboolean all = TRUE;

                for (const char *const *want = fields; *want; want++)
                        all = all && g_strv_contains((const char *const *) lines, *want);
                if (all)
                        matching++;
        }
        if (matching != 1) {
                for (guint i = 0; i < entries->len; i++)
                        g_test_message("entry %u:\n%s", i, (char *) g_ptr_array_index(entries, i));
                g_error("expected one entry with %s ..., found %u", fields[0], matching);
        }
}

/* Every privileged call ends in one structured entry: who, which device, what, how it ended. */
static void test_journal_entries(Fixture *f, gconstpointer data) {
        const struct harness_caller nobody = { .uid = NOBODY };
        g_autoptr(GPtrArray) done = NULL, denied = NULL, failed = NULL, reads = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autofree char *out = NULL, *err = NULL;
        g_autofree char *nobody_uid = g_strdup_printf("CALLER_UID=%u", NOBODY);

        attach_ok(f, "59:00.0", 0);
        done = harness_journal_entries(&f->h);
        assert_one_entry(done, (const char *const[]) { "MESSAGE_ID=" MESSAGE_ID_OPERATION, "OPERATION=attach",
                                                        "DEVICE=0000:59:00.0", "IOMMU_GROUP=6", "CALLER_UID=0",
                                                        "RESULT=done", "ERROR=", NULL });

        /* Refused: nobody, with no polkitd on this bus. */
        g_assert_cmpint(harness_run_busctl_as(&f->h, &nobody, &out, &err, "call", VFIO_PT_BUS_NAME,
                                              VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE, "Restore", "st", "59:00.0", "0",
                                              NULL),
                        !=, 0);
        denied = harness_journal_entries(&f->h);
        assert_one_entry(denied, (const char *const[]) { "MESSAGE_ID=" MESSAGE_ID_OPERATION, "OPERATION=restore",
                                                          nobody_uid, "RESULT=denied",
                                                          "ERROR=org.freedesktop.DBus.Error.AccessDenied", NULL });

        reply = restore(f, "59:00.1", 0, &error);
        assert_dbus_error(error, VFIO_PT_ERROR_NOT_MANAGED);
        failed = harness_journal_entries(&f->h);
        assert_one_entry(failed, (const char *const[]) { "MESSAGE_ID=" MESSAGE_ID_OPERATION, "OPERATION=restore",
                                                          "DEVICE=0000:59:00.1", "RESULT=failed",
                                                          "ERROR=" VFIO_PT_ERROR_NOT_MANAGED, NULL });

        /* Reading leaves no entry behind. */
        g_clear_pointer(&reply, g_variant_unref);
        g_clear_error(&error);
        reply = harness_call(&f->h, "ListDevices", NULL, "(aa{sv})", &error);
        g_assert_no_error(error);
        reads = harness_journal_entries(&f->h);
        for (guint i = 0; i < reads->len; i++)
                g_assert_null(strstr(g_ptr_array_index(reads, i), MESSAGE_ID_OPERATION));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, options, func) g_test_add(path, Fixture, options, fixture_setup, func, fixture_teardown)
        ADD("/operations/emulator", &plain_kernel, test_emulator);
        ADD("/operations/detach", &plain_kernel, test_detach);
        ADD("/operations/attach/dbus", &plain_kernel, test_attach);
        ADD("/operations/attach/ctl", &plain_kernel, test_attach_ctl);
        ADD("/operations/attach/group", &plain_kernel, test_attach_group);
        ADD("/operations/attach/group-reply", &plain_kernel, test_attach_group_dbus_reply);
        ADD("/operations/attach/group-not-viable", &plain_kernel, test_attach_group_not_viable);
        ADD("/operations/attach/module-missing", &no_vfio_module, test_attach_module_missing);
        ADD("/operations/attach/probe-binds-nothing", &plain_kernel, test_attach_probe_binds_nothing);
        ADD("/operations/attach/no-iommu-group", &plain_kernel, test_attach_no_iommu_group);
        ADD("/operations/grant/caller", &plain_kernel, test_grant_caller);
        ADD("/operations/grant/named-user", &plain_kernel, test_grant_named_user);
        ADD("/operations/grant/not-bound", &plain_kernel, test_grant_not_bound);
        ADD("/operations/grant/no-such-user", &plain_kernel, test_grant_no_such_user);
        ADD("/operations/grant/survives-udev", &plain_kernel, test_grant_survives_udev);
        ADD("/operations/grant/not-on-another-device", &plain_kernel, test_grant_not_on_another_device);
        ADD("/operations/grant/cdev", &cdev_kernel, test_grant_cdev);
        ADD("/operations/grant/memlock-warning", &plain_kernel, test_grant_memlock_warning);
        ADD("/operations/restore/dbus", &plain_kernel, test_restore);
        ADD("/operations/restore/ctl", &plain_kernel, test_restore_ctl);
        ADD("/operations/restore/takes-grant-back", &plain_kernel, test_restore_takes_grant_back);
        ADD("/operations/restore/group", &plain_kernel, test_restore_group);
        ADD("/operations/restore/after-restart", &plain_kernel, test_restore_after_restart);
        ADD("/operations/restore/mismatch", &plain_kernel, test_restore_mismatch);
        ADD("/operations/restore/not-managed", &plain_kernel, test_restore_not_managed);
        ADD("/operations/concurrent/two-groups", &plain_kernel, test_concurrent_groups);
        ADD("/operations/concurrent/same-group", &plain_kernel, test_serialized_in_group);
        ADD("/operations/timeout", &short_timeout, test_timeout);
        ADD("/operations/access-denied", &plain_kernel, test_access_denied);
        ADD("/operations/invalid-flags", &plain_kernel, test_invalid_flags);
        ADD("/operations/named-errors", &plain_kernel, test_named_errors);
        ADD("/operations/busctl", &plain_kernel, test_busctl_cycle);
        ADD("/operations/journal", &with_journal, test_journal_entries);
#undef ADD
        return g_test_run();
}
