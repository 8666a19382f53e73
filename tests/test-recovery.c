/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Killed at any instant, nothing is lost. For every crash point the daemon names
 * (vfio-passthroughd --list-crash-points: a step added to the code is tested from then on), the
 * daemon is killed right after that step of the operation it belongs to, started again, and the
 * device must end where the recovery rule says — Attach and Detach rolled back to the original
 * driver, Restore finished, Grant rolled back; after a crash past the commit, the operation's own
 * end — with sysfs, /dev/vfio, the ACLs and the state directory agreeing. Then SIGTERM while the
 * kernel holds an unbind: the daemon stops in time, a new one starts without waiting for the
 * kernel, shows the device Busy, and finishes the job when the kernel lets go. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"
#include "kernel-emulator.h"
#include "vfio-passthrough-bus.h"

#define NIC "0000:59:00.0" /* igb, IOMMU group 6 */
#define NIC_GROUP_NODE "vfio/6"
#define FIRST_GRANTEE "daemon"
#define FIRST_UID 1
#define SECOND_GRANTEE "nobody"
#define SECOND_UID 65534

typedef struct {
        struct harness h;
} Fixture;

/* The cdev kernel: grants cover /dev/vfio/devices/vfioN and /dev/iommu too. */
static const struct harness_options cdev_kernel = { .emulate_kernel = TRUE, .cdev_kernel = TRUE,
                                                    .operation_timeout = 4 };

/* The same with the default timeout: a call in the kernel is still running when SIGTERM comes. */
static const struct harness_options cdev_kernel_patient = { .emulate_kernel = TRUE, .cdev_kernel = TRUE };

static void fixture_setup(Fixture *f, gconstpointer data) {
        harness_start_with(&f->h, &cdev_kernel);
}

static void fixture_setup_patient(Fixture *f, gconstpointer data) {
        harness_start_with(&f->h, &cdev_kernel_patient);
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

static void call_ok(Fixture *f, const char *method, GVariant *parameters) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = call(f, method, parameters, &error);
        g_assert_no_error(error);
}

static GVariant *describe(Fixture *f) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = harness_call(&f->h, "DescribeDevice", g_variant_new("(s)", NIC),
                                                 "(a{sv}ibaa{sv})", &error);
        g_assert_no_error(error);
        return g_variant_get_child_value(reply, 0);
}

/* Waits until nothing runs on the device's group any more: start-up recovery is done. */
static GVariant *describe_when_settled(Fixture *f) {
        gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

        for (;;) {
                g_autoptr(GVariant) d = describe(f);
                gboolean busy = TRUE;

                g_assert_true(g_variant_lookup(d, VFIO_PT_KEY_BUSY, "b", &busy));
                if (!busy) {
                        kernel_emulator_settle(f->h.emulator);
                        return g_steal_pointer(&d);
                }
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(50000);
        }
}

/* The /dev nodes a grant of the NIC covers, those that exist now. */
static GPtrArray *nodes_now(Fixture *f) {
        static const char *const candidates[] = { NIC_GROUP_NODE, "vfio/devices/vfio0", "iommu" };
        g_autofree char *root = umockdev_testbed_get_root_dir(f->h.testbed);
        GPtrArray *nodes = g_ptr_array_new();

        for (size_t i = 0; i < G_N_ELEMENTS(candidates); i++) {
                g_autofree char *path = g_build_filename(root, "dev", candidates[i], NULL);
                if (g_file_test(path, G_FILE_TEST_EXISTS))
                        g_ptr_array_add(nodes, (gpointer) candidates[i]);
        }
        return nodes;
}

/* Nobody has an ACL entry left on any node. */
static void assert_no_grants(Fixture *f) {
        g_autoptr(GPtrArray) nodes = nodes_now(f);

        for (guint i = 0; i < nodes->len; i++)
                g_assert_cmpuint(harness_node_acl_users(&f->h, g_ptr_array_index(nodes, i)), ==, 0);
}

/* Exactly uid has access to every node of the group (which must be there). */
static void assert_granted_only_to(Fixture *f, uid_t uid) {
        g_autoptr(GPtrArray) nodes = nodes_now(f);

        g_assert_cmpuint(nodes->len, >=, 2);
        for (guint i = 0; i < nodes->len; i++) {
                const char *node = g_ptr_array_index(nodes, i);
                g_assert_true(harness_node_acl_grants(&f->h, node, uid));
                g_assert_cmpuint(harness_node_acl_users(&f->h, node), ==, 1);
        }
}

/* The state directory holds the device's record (or not) and nothing half-written; the record has
 * no intent left; no write of the old run holds the kernel lock. */
static void assert_state(Fixture *f, gboolean has_record) {
        g_autofree char *record = harness_record(&f->h, NIC);
        g_autoptr(GDir) dir = g_dir_open(f->h.state_dir, 0, NULL);
        const char *name;

        g_assert_nonnull(dir);
        while ((name = g_dir_read_name(dir)))
                g_assert_null(strstr(name, ".tmp-"));
        if (!has_record) {
                g_assert_null(record);
                return;
        }
        g_assert_nonnull(record);
        g_assert_null(strstr(record, "intent"));
}

static void assert_device(Fixture *f, const char *driver, const char *override) {
        g_autofree char *now = harness_device_driver(&f->h, NIC);
        g_autofree char *override_now = harness_device_override(&f->h, NIC);

        g_assert_cmpstr(now, ==, driver);
        g_assert_cmpstr(override_now, ==, override);
}

/* Back with the host as before the daemon touched it. */
static void assert_with_host(Fixture *f) {
        assert_device(f, "igb", "(null)");
        assert_state(f, FALSE);
        assert_no_grants(f);
}

static void assert_recovery_note(GVariant *d, const char *needle) {
        const char *note = NULL;

        g_assert_true(g_variant_lookup(d, VFIO_PT_KEY_RECOVERY, "&s", &note));
        g_test_message("Recovery: %s", note);
        g_assert_nonnull(strstr(note, needle));
        g_assert_false(g_variant_lookup(d, VFIO_PT_KEY_INTERRUPTED, "&s", &note));
}

static void attach_and_grant(Fixture *f, const char *user) {
        call_ok(f, "Attach", g_variant_new("(st)", NIC, (guint64) 0));
        call_ok(f, "Grant", g_variant_new("(sst)", NIC, user, (guint64) 0));
}

/* Restarts the daemon (SIGKILL at a quiet moment) with the crash point armed, makes the call that
 * reaches it, and starts the daemon again after it died there. */
static void crash_at(Fixture *f, const char *point, const char *method, GVariant *parameters) {
        g_autofree char *setting = g_strdup_printf("VFIO_PASSTHROUGHD_CRASH_AT=%s", point);
        const char *const env[] = { setting, NULL };
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        int status;

        harness_set_daemon_env(&f->h, env);
        harness_restart_daemon(&f->h);
        reply = call(f, method, parameters, &error);
        g_assert_nonnull(error);
        g_test_message("%s with the daemon dying at %s: %s", method, point, error->message);
        status = harness_wait_daemon_exit(&f->h);
        g_assert_true(WIFSIGNALED(status));
        g_assert_cmpint(WTERMSIG(status), ==, SIGKILL);

        harness_set_daemon_env(&f->h, NULL);
        harness_start_daemon(&f->h);
}

static void test_crash_at(Fixture *f, gconstpointer data) {
        const char *point = data;
        g_autoptr(GVariant) d = NULL;
        g_autofree char *record = NULL;

        if (g_str_has_prefix(point, "attach:")) {
                crash_at(f, point, "Attach", g_variant_new("(st)", NIC, (guint64) 0));
                d = describe_when_settled(f);
                if (g_str_equal(point, "attach:committed")) {
                        /* Done before the crash: the caller only missed the answer. */
                        assert_device(f, "vfio-pci", "vfio-pci");
                        assert_state(f, TRUE);
                        g_assert_false(g_variant_lookup(d, VFIO_PT_KEY_RECOVERY, "&s", NULL));
                } else {
                        assert_with_host(f);
                        assert_recovery_note(d, "attach (by uid 0). Rolled back at start-up: the device is on igb");
                }
        } else if (g_str_has_prefix(point, "detach:")) {
                crash_at(f, point, "Detach", g_variant_new("(st)", NIC, (guint64) 0));
                d = describe_when_settled(f);
                if (g_str_equal(point, "detach:committed")) {
                        assert_device(f, "", "vfio-pci");
                        assert_state(f, TRUE);
                } else {
                        assert_with_host(f);
                        assert_recovery_note(d, "detach (by uid 0). Rolled back at start-up");
                }
        } else if (g_str_has_prefix(point, "restore:")) {
                attach_and_grant(f, FIRST_GRANTEE);
                crash_at(f, point, "Restore", g_variant_new("(st)", NIC, (guint64) 0));
                d = describe_when_settled(f);
                assert_with_host(f);
                if (!g_str_equal(point, "restore:removed"))
                        assert_recovery_note(d, "restore (by uid 0). Finished at start-up: the device is on igb");
        } else if (g_str_has_prefix(point, "grant:")) {
                attach_and_grant(f, FIRST_GRANTEE);
                crash_at(f, point, "Grant", g_variant_new("(sst)", NIC, SECOND_GRANTEE, (guint64) 0));
                d = describe_when_settled(f);
                assert_device(f, "vfio-pci", "vfio-pci");
                assert_state(f, TRUE);
                record = harness_record(&f->h, NIC);
                if (g_str_equal(point, "grant:committed")) {
                        assert_granted_only_to(f, SECOND_UID);
                        g_assert_nonnull(strstr(record, "granted_uid=65534\n"));
                } else {
                        assert_granted_only_to(f, FIRST_UID);
                        g_assert_nonnull(strstr(record, "granted_uid=1\n"));
                        assert_recovery_note(d, "grant to uid 65534 (by uid 0). Rolled back at start-up: uid 1 "
                                                "keeps its grant");
                }
        } else
                g_error("crash point %s belongs to no operation this test knows: teach it", point);

        /* Whatever the end, the device can be handed back cleanly. */
        g_free(record);
        record = harness_record(&f->h, NIC);
        if (record) {
                call_ok(f, "Restore", g_variant_new("(st)", NIC, (guint64) 0));
                assert_with_host(f);
        }
}

/* A Grant of a device attached by someone else makes a record; rolled back, it leaves none. */
static void test_crash_grant_unmanaged(Fixture *f, gconstpointer data) {
        g_autoptr(GVariant) d = NULL;

        call_ok(f, "Attach", g_variant_new("(st)", NIC, (guint64) 0));
        /* As if attached by hand: the daemon does not know it. */
        {
                g_autofree char *path = g_build_filename(f->h.state_dir, NIC, NULL);
                g_assert_cmpint(g_unlink(path), ==, 0);
        }
        crash_at(f, "grant:acl-added", "Grant", g_variant_new("(sst)", NIC, SECOND_GRANTEE, (guint64) 0));
        d = describe_when_settled(f);
        assert_device(f, "vfio-pci", "vfio-pci");
        assert_state(f, FALSE);
        assert_no_grants(f);
        assert_recovery_note(d, "Rolled back at start-up.");
}

/* SIGTERM while the kernel holds an unbind (a VFIO user keeps the device open): the daemon stops
 * within its grace, the writer it left behind keeps the device's kernel lock, a new daemon starts
 * at once and shows the device Busy, and finishes the Restore when the kernel lets go. */
static void test_sigterm_while_unbind_hangs(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariant) d = NULL;
        gint64 start;
        gboolean busy = FALSE;
        const char *note = NULL, *interrupted = NULL;
        int status;

        attach_and_grant(f, FIRST_GRANTEE);
        kernel_emulator_hang_unbind(f->h.emulator, "vfio-pci");
        reply = call(f, "Restore", g_variant_new("(st)", NIC, (guint64) 0), &error);
        assert_dbus_error(error, VFIO_PT_ERROR_TIMEOUT);
        g_clear_error(&error);

        start = g_get_monotonic_time();
        g_assert_cmpint(kill(f->h.daemon_pid, SIGTERM), ==, 0);
        status = harness_wait_daemon_exit(&f->h);
        g_test_message("stopped after %.1f s", (g_get_monotonic_time() - start) / 1e6);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
        /* The grace is 3 s; the unit's TimeoutStopSec= is 15 s (valgrind needs some of the rest). */
        g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);

        /* Start-up does not wait for the kernel. */
        harness_start_daemon(&f->h);
        start = g_get_monotonic_time();
        d = describe(f);
        g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
        g_assert_true(g_variant_lookup(d, VFIO_PT_KEY_BUSY, "b", &busy));
        g_assert_true(busy);
        g_assert_true(g_variant_lookup(d, VFIO_PT_KEY_INTERRUPTED, "&s", &interrupted));
        g_assert_cmpstr(interrupted, ==, "restore");
        g_assert_true(g_variant_lookup(d, VFIO_PT_KEY_RECOVERY, "&s", &note));
        g_test_message("Recovery while held: %s", note);
        g_assert_nonnull(strstr(note, "waiting for the kernel"));
        {
                g_autofree char *out = NULL, *err = NULL;
                g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "show", NIC, NULL), ==, 0);
                g_test_message("%s", out);
                g_assert_nonnull(strstr(out, "\nInterrupted:      restore, cut off by a stop of the daemon"));
                g_assert_nonnull(strstr(out, "\nRecovery:         Interrupted by the last stop of the daemon: "
                                             "restore (by uid 0); waiting for the kernel"));
        }
        /* Calls on the group wait behind the recovery; others are served. */
        call_ok(f, "Attach", g_variant_new("(st)", "0000:03:00.0", (guint64) 0));

        kernel_emulator_release_unbind(f->h.emulator, "vfio-pci");
        g_clear_pointer(&d, g_variant_unref);
        d = describe_when_settled(f);
        assert_with_host(f);
        assert_recovery_note(d, "restore (by uid 0). Finished at start-up: the device is on igb");
}

/* SIGTERM answers what waits: a queued call is told it was not begun. */
static void test_sigterm_answers_queued(Fixture *f, gconstpointer data) {
        g_autoptr(GSubprocess) first = NULL, second = NULL;
        g_autofree char *out = NULL, *err = NULL;
        int status;

        call_ok(f, "Attach", g_variant_new("(st)", NIC, (guint64) 0));
        kernel_emulator_hang_unbind(f->h.emulator, "vfio-pci");
        /* Restore hangs in the kernel; Grant waits behind it on the same group. */
        first = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL, "busctl",
                                 "--address", f->h.bus.address, "--timeout=30", "call", VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH,
                                 VFIO_PT_INTERFACE, "Restore", "st", NIC, "0", NULL);
        g_usleep(500000);
        second = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL, "busctl",
                                  "--address", f->h.bus.address, "--timeout=30", "call", VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH,
                                  VFIO_PT_INTERFACE, "Grant", "sst", NIC, SECOND_GRANTEE, "0", NULL);
        g_usleep(500000);
        g_assert_cmpint(kill(f->h.daemon_pid, SIGTERM), ==, 0);
        status = harness_wait_daemon_exit(&f->h);
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        g_assert_true(g_subprocess_communicate_utf8(second, NULL, NULL, &out, &err, NULL));
        g_test_message("queued Grant: %s", err);
        g_assert_nonnull(strstr(err, "was not begun"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        g_assert_true(g_subprocess_communicate_utf8(first, NULL, NULL, &out, &err, NULL));
        g_test_message("running Restore: %s", err);
        g_assert_nonnull(strstr(err, "next start finishes or rolls back"));

        kernel_emulator_release_unbind(f->h.emulator, "vfio-pci");
        harness_start_daemon(&f->h);
        describe_when_settled(f);
        assert_with_host(f);
}

/* The crash points, as the daemon lists them. */
static char **crash_points(void) {
        const char *argv[] = { DAEMON_PATH, "--list-crash-points", NULL };
        g_autofree char *out = NULL;
        g_autoptr(GError) error = NULL;
        int status;

        g_assert_true(g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status,
                                   &error));
        g_assert_no_error(error);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        return g_strsplit(g_strstrip(out), "\n", -1);
}

int main(int argc, char **argv) {
        g_auto(GStrv) points = NULL;

        g_test_init(&argc, &argv, NULL);
        points = crash_points();
        g_assert_cmpuint(g_strv_length(points), >=, 10);
        for (char **p = points; *p; p++) {
                g_autofree char *name = g_strdup_printf("/recovery/crash-at/%s", *p);
                g_test_add(name, Fixture, *p, fixture_setup, test_crash_at, fixture_teardown);
        }
        g_test_add("/recovery/crash-in-grant-of-unmanaged-device", Fixture, NULL, fixture_setup,
                   test_crash_grant_unmanaged, fixture_teardown);
        g_test_add("/recovery/sigterm-while-unbind-hangs", Fixture, NULL, fixture_setup,
                   test_sigterm_while_unbind_hangs, fixture_teardown);
        g_test_add("/recovery/sigterm-answers-queued-calls", Fixture, NULL, fixture_setup_patient,
                   test_sigterm_answers_queued, fixture_teardown);
        return g_test_run();
}
