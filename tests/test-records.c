/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Records that cannot lie: the daemon's state file of a device says which device it is about, has
 * every key it needs, and the daemon never acts on one that is about another device or cannot be
 * read; it says so, with the file, and an administrator can drop it (Forget). Start-up cleans up
 * after interrupted writes and keeps the directory root's alone. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "kernel-emulator.h"
#include "pci-tree.h"
#include "vfio-passthrough-bus.h"

#define NIC "0000:59:00.0" /* igb, 8086:1521 8086:0001 */

typedef struct {
        struct harness h;
} Fixture;

static const struct harness_options plain_kernel = { .emulate_kernel = TRUE };

static void fixture_setup(Fixture *f, gconstpointer data) {
        harness_start_with(&f->h, &plain_kernel);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        g_autofree char *log = harness_daemon_log(&f->h);

        if (g_test_failed())
                g_printerr("--- daemon log ---\n%s\n", log);
        g_assert_true(harness_daemon_alive(&f->h));
        harness_stop(&f->h);
}

static GVariant *call(Fixture *f, const char *method, GVariant *parameters, GError **error) {
        GVariant *r = harness_call(&f->h, method, parameters, NULL, error);
        kernel_emulator_settle(f->h.emulator);
        return r;
}

static GVariant *describe_device(Fixture *f, const char *address) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = harness_call(&f->h, "DescribeDevice", g_variant_new("(s)", address),
                                                 "(a{sv}ibaa{sv})", &error);
        g_assert_no_error(error);
        return g_variant_get_child_value(reply, 0);
}

static void attach(Fixture *f, const char *address) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = call(f, "Attach", g_variant_new("(st)", address, (guint64) 0), &error);
        g_assert_no_error(error);
}

/* What the daemon writes, with what it recorded. */
static void test_record_contents(Fixture *f, gconstpointer data) {
        g_autofree char *record = NULL;
        g_autoptr(GVariant) d = NULL;
        guint32 owner;
        const char *original;

        attach(f, NIC);
        record = harness_record(&f->h, NIC);
        g_test_message("%s", record);
        g_assert_nonnull(strstr(record, "\naddress=" NIC "\n"));
        g_assert_nonnull(strstr(record, "\nids=8086:1521 8086:0001\n"));
        g_assert_nonnull(strstr(record, "\noriginal_driver=igb\n"));
        g_assert_nonnull(strstr(record, "\noriginal_override=\n"));
        g_assert_nonnull(strstr(record, "\nowner_uid=0\n"));

        d = describe_device(f, NIC);
        g_assert_true(g_variant_lookup(d, VFIO_PT_KEY_OWNER, "u", &owner));
        g_assert_cmpuint(owner, ==, 0);
        g_assert_true(g_variant_lookup(d, VFIO_PT_KEY_ORIGINAL_DRIVER, "&s", &original));
        g_assert_cmpstr(original, ==, "igb");
        g_assert_false(g_variant_lookup(d, VFIO_PT_KEY_GRANTEE, "u", &owner));
}

/* A record whose ids are another card's (the one the daemon moved was swapped for another in
 * that slot while the daemon was down): set aside, never applied. */
static void test_record_of_another_device(Fixture *f, gconstpointer data) {
        g_autofree char *set_aside = g_build_filename(f->h.state_dir, "set-aside", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL, d = NULL;
        g_autoptr(GDir) dir = NULL;
        struct harness_before before;
        guint32 owner;

        harness_write_record(&f->h, NIC,
                             "address=" NIC "\nids=10de:1b80 1043:8591\noriginal_driver=nouveau\n"
                             "original_override=\nowner_uid=1000\ngranted_uid=1000\n"
                             "grant_node=/dev/vfio/6 242:0\n");
        d = describe_device(f, NIC);
        g_assert_false(g_variant_lookup(d, VFIO_PT_KEY_OWNER, "u", &owner));

        harness_remember(&f->h, &before);
        reply = call(f, "Restore", g_variant_new("(st)", NIC, (guint64) 0), &error);
        assert_dbus_error(error, VFIO_PT_ERROR_NOT_MANAGED);
        g_assert_null(harness_record(&f->h, NIC));
        dir = g_dir_open(set_aside, 0, NULL);
        g_assert_nonnull(dir);
        {
                /* The record was moved aside, and that is all that changed: put it back and
                 * compare everything. */
                const char *name = g_dir_read_name(dir);
                g_autofree char *moved = NULL, *back = g_build_filename(f->h.state_dir, NIC, NULL);

                g_assert_nonnull(name);
                g_assert_true(g_str_has_prefix(name, NIC "."));
                moved = g_build_filename(set_aside, name, NULL);
                g_assert_null(g_dir_read_name(dir));
                g_assert_cmpint(g_rename(moved, back), ==, 0);
                g_assert_cmpint(g_rmdir(set_aside), ==, 0);
        }
        harness_assert_nothing_changed(&f->h, &before);
        {
                g_autofree char *path = g_build_filename(f->h.state_dir, NIC, NULL);
                g_assert_cmpint(g_unlink(path), ==, 0);
        }

        /* The device there now is the daemon's to move, from its own driver. */
        attach(f, NIC);
        {
                g_autofree char *record = harness_record(&f->h, NIC);
                g_assert_nonnull(strstr(record, "original_driver=igb"));
        }
}

/* Records that cannot be read stop the calls that would act on them, naming the file, and show
 * says so; Forget (root here) drops them. */
static void corrupt_record(Fixture *f, const char *text, const char *problem) {
        g_autofree char *path = g_build_filename(f->h.state_dir, NIC, NULL);
        static const char *const methods[] = { "Restore", "Detach", "Attach" };
        g_autoptr(GVariant) d = NULL;
        g_autofree char *out = NULL, *err = NULL;
        const char *shown;

        harness_write_record(&f->h, NIC, text);
        d = describe_device(f, NIC);
        g_assert_true(g_variant_lookup(d, VFIO_PT_KEY_RECORD_PROBLEM, "&s", &shown));
        g_test_message("RecordProblem: %s", shown);
        g_assert_nonnull(strstr(shown, path));
        g_assert_nonnull(strstr(shown, problem));

        for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = NULL;
                struct harness_before before;

                harness_remember(&f->h, &before);
                reply = call(f, methods[i], g_variant_new("(st)", NIC, (guint64) 0), &error);
                assert_dbus_error(error, VFIO_PT_ERROR_CORRUPT_RECORD);
                g_assert_nonnull(strstr(error->message, path));
                g_assert_nonnull(strstr(error->message, "Forget drops the record"));
                harness_assert_nothing_changed(&f->h, &before);
        }

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "show", "59:00.0", NULL), ==, 0);
        g_assert_nonnull(strstr(out, path));

        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "forget", "59:00.0", NULL), ==, 0);
        g_assert_null(harness_record(&f->h, NIC));
        attach(f, NIC);
}

static void test_record_empty(Fixture *f, gconstpointer data) {
        corrupt_record(f, "", "it has no address");
}

static void test_record_truncated(Fixture *f, gconstpointer data) {
        /* Cut off in the middle of its ids line, as a full disk might leave a copy. */
        corrupt_record(f, "address=" NIC "\nids=8086:15", "line 2 is malformed");
}

static void test_record_without_owner(Fixture *f, gconstpointer data) {
        corrupt_record(f, "address=" NIC "\nids=8086:1521 8086:0001\noriginal_driver=igb\noriginal_override=\n",
                       "it has no owner_uid");
}

/* Start-up: the temporary file of a write a crash interrupted goes; the directory is root's only. */
static void test_start_up_cleans(Fixture *f, gconstpointer data) {
        g_autofree char *leftover = g_build_filename(f->h.state_dir, NIC ".tmp-Ab12Cd", NULL);
        struct stat st;

        g_assert_true(g_file_set_contents(leftover, "address=" NIC "\nids=80", -1, NULL));
        g_assert_cmpint(g_chmod(f->h.state_dir, 0755), ==, 0);
        harness_restart_daemon(&f->h);
        g_assert_false(g_file_test(leftover, G_FILE_TEST_EXISTS));
        g_assert_cmpint(stat(f->h.state_dir, &st), ==, 0);
        g_assert_cmpuint(st.st_mode & 07777, ==, 0700);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
        ADD("/records/contents", test_record_contents);
        ADD("/records/another-device", test_record_of_another_device);
        ADD("/records/empty", test_record_empty);
        ADD("/records/truncated", test_record_truncated);
        ADD("/records/without-owner", test_record_without_owner);
        ADD("/records/start-up-cleans", test_start_up_cleans);
#undef ADD
        return g_test_run();
}
