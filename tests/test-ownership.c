/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One user's device is not another's, with the real polkitd deciding: an owner for every device
 * the daemon moves, authorization for every device a call touches (also through the group flag,
 * and FORCE in addition, never instead), grants by ACL that end with the device, records that
 * cannot lie, and callers that cannot stall the daemon or polkit for everyone else. Every refusal
 * asserts that nothing changed. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "authorization-world.h"
#include "kernel-emulator.h"
#include "pci-tree.h"
#include "vfio-passthrough-bus.h"

#define MANAGE_OTHER "org.vfio.passthrough.manage-other"
#define LIMITS_EXCEEDED "org.freedesktop.DBus.Error.LimitsExceeded"
#define GPU "0000:01:00.0"   /* nouveau, IOMMU group 1 */
#define AUDIO "0000:01:00.1" /* snd_hda_intel, group 1 */

static void assert_refused_as(Fixture *f, const char *user, const char *method, const char *device,
                              const char *grant_to, const char *flags, const char *action) {
        g_autofree char *verdict = NULL;
        g_autofree char *named = g_strdup_printf("(device %s)", device);
        struct harness_before before;

        harness_remember(&f->h, &before);
        verdict = call_as(f, user, FALSE, method, device, grant_to, flags);
        assert_prefix(verdict, ACCESS_DENIED);
        assert_contains(verdict, action);
        harness_assert_nothing_changed(&f->h, &before);
}

static void assert_ok_as(Fixture *f, const char *user, const char *method, const char *device, const char *grant_to,
                         const char *flags) {
        g_autofree char *verdict = call_as(f, user, FALSE, method, device, grant_to, flags);
        assert_prefix(verdict, OK);
}

/* What DescribeDevice says of the device's owner (-1: no Owner key). */
static gint64 described_owner(Fixture *f, const char *device, const char *key) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = harness_call(&f->h, "DescribeDevice", g_variant_new("(s)", device),
                                                 "(a{sv}ibaa{sv})", &error);
        g_autoptr(GVariant) d = NULL;
        guint32 uid;

        g_assert_no_error(error);
        d = g_variant_get_child_value(reply, 0);
        return g_variant_lookup(d, key, "u", &uid) ? (gint64) uid : -1;
}

/* --- owners ---------------------------------------------------------------------------------- */

/* Two members of the vfio group: the second may not take back, detach, re-grant or restore the
 * first one's device with the plain actions. */
static void test_other_members_device(Fixture *f, gconstpointer data) {
        uid_t member = polkit_test_uid(POLKIT_TEST_MEMBER);

        start_world(f, WORLD_EXAMPLE_RULE, NULL);
        assert_ok_as(f, POLKIT_TEST_MEMBER, "Attach", DEVICE, NULL, "0");
        assert_ok_as(f, POLKIT_TEST_MEMBER, "Grant", DEVICE, "", "0");
        g_assert_cmpint(described_owner(f, DEVICE, VFIO_PT_KEY_OWNER), ==, member);
        g_assert_cmpint(described_owner(f, DEVICE, VFIO_PT_KEY_GRANTEE), ==, member);

        assert_refused_as(f, POLKIT_TEST_MEMBER2, "Restore", DEVICE, NULL, "0", MANAGE_OTHER);
        assert_refused_as(f, POLKIT_TEST_MEMBER2, "Detach", DEVICE, NULL, "0", MANAGE_OTHER);
        assert_refused_as(f, POLKIT_TEST_MEMBER2, "Attach", DEVICE, NULL, "0", MANAGE_OTHER);
        assert_refused_as(f, POLKIT_TEST_MEMBER2, "Grant", DEVICE, "", "0", MANAGE_OTHER);
        assert_granted(f, member);

        /* The owner may, and so may root. */
        assert_ok_as(f, POLKIT_TEST_MEMBER, "Restore", DEVICE, NULL, "0");
        assert_ok_as(f, POLKIT_TEST_MEMBER2, "Attach", DEVICE, NULL, "0");
        assert_ok_as(f, NULL, "Restore", DEVICE, NULL, "0");
}

/* A device root attached is root's: a member pulling it out of a running VM needs an admin. */
static void test_roots_device(Fixture *f, gconstpointer data) {
        start_world(f, WORLD_EXAMPLE_RULE, NULL);
        attach_as_root(f, DEVICE);
        g_assert_cmpint(described_owner(f, DEVICE, VFIO_PT_KEY_OWNER), ==, 0);
        assert_refused_as(f, POLKIT_TEST_MEMBER, "Restore", DEVICE, NULL, "0", MANAGE_OTHER);
        assert_refused_as(f, POLKIT_TEST_MEMBER, "Grant", DEVICE, "", "0", MANAGE_OTHER);
}

static const char manage_other_rule[] =
        "polkit.addRule(function(action, subject) {\n"
        "    if (action.id == '" MANAGE_OTHER "' && subject.user == '" POLKIT_TEST_MEMBER2 "')\n"
        "        return polkit.Result.YES;\n"
        "});\n";

/* An admin may let someone manage others' devices; the rule sees whose device it is. */
static void test_manage_other_rule(Fixture *f, gconstpointer data) {
        const char *rules[] = { "60-manage-other.rules", manage_other_rule, NULL };

        start_world(f, WORLD_EXAMPLE_RULE, rules);
        assert_ok_as(f, POLKIT_TEST_MEMBER, "Attach", DEVICE, NULL, "0");
        assert_ok_as(f, POLKIT_TEST_MEMBER2, "Restore", DEVICE, NULL, "0");
        g_assert_cmpint(described_owner(f, DEVICE, VFIO_PT_KEY_OWNER), ==, -1);
}

/* --- every device a call touches ------------------------------------------------------------- */

/* The outsider may attach and restore the GPU's audio function, and nothing else. */
static const char audio_only_rule[] =
        "polkit.addRule(function(action, subject) {\n"
        "    if ((action.id == 'org.vfio.passthrough.attach' || action.id == 'org.vfio.passthrough.restore') &&\n"
        "        subject.user == '" POLKIT_TEST_OUTSIDER "' && action.lookup('device') == '" AUDIO "')\n"
        "        return polkit.Result.YES;\n"
        "});\n";

static void test_group_flag_per_device(Fixture *f, gconstpointer data) {
        const char *rules[] = { "60-audio-only.rules", audio_only_rule, NULL };
        g_autofree char *gpu = NULL, *audio = NULL;

        start_world(f, WORLD_EXAMPLE_RULE, rules);
        /* With GROUP the GPU would move too: asked about separately, and refused. */
        assert_refused_as(f, POLKIT_TEST_OUTSIDER, "Attach", AUDIO, NULL, "2", "(device " GPU ")");
        /* Alone, the audio function may go. */
        assert_ok_as(f, POLKIT_TEST_OUTSIDER, "Attach", AUDIO, NULL, "0");

        /* Restore with GROUP takes back every member the daemon moved: the GPU is one of them now. */
        attach_for(f, GPU, POLKIT_TEST_OUTSIDER);
        assert_refused_as(f, POLKIT_TEST_OUTSIDER, "Restore", AUDIO, NULL, "2", "(device " GPU ")");
        gpu = harness_device_driver(&f->h, GPU);
        audio = harness_device_driver(&f->h, AUDIO);
        g_assert_cmpstr(gpu, ==, "vfio-pci");
        g_assert_cmpstr(audio, ==, "vfio-pci");
}

/* Force for any device, attach for one: FORCE adds to the base action, it does not replace it. */
static const char force_any_attach_one_rule[] =
        "polkit.addRule(function(action, subject) {\n"
        "    if (subject.user != '" POLKIT_TEST_OUTSIDER "') return polkit.Result.NOT_HANDLED;\n"
        "    if (action.id == 'org.vfio.passthrough.force') return polkit.Result.YES;\n"
        "    if (action.id == 'org.vfio.passthrough.attach' && action.lookup('device') == '" DEVICE "')\n"
        "        return polkit.Result.YES;\n"
        "});\n";

static void test_force_adds(Fixture *f, gconstpointer data) {
        const char *rules[] = { "60-force.rules", force_any_attach_one_rule, NULL };

        start_world(f, WORLD_EXAMPLE_RULE, rules);
        assert_refused_as(f, POLKIT_TEST_OUTSIDER, "Attach", DEVICE2, NULL, "1", "org.vfio.passthrough.attach");
        assert_ok_as(f, POLKIT_TEST_OUTSIDER, "Attach", DEVICE, NULL, "1");
}

/* Flags that mean nothing for a method are refused, not ignored. */
static void test_meaningless_flags(Fixture *f, gconstpointer data) {
        static const struct {
                const char *method, *grant_to, *flags;
        } calls[] = {
                { "Restore", NULL, "1" }, { "Grant", "", "1" }, { "Attach", NULL, "4" }, { "Detach", NULL, "8" },
        };

        start_world(f, WORLD_EXAMPLE_RULE, NULL);
        attach_for(f, DEVICE, NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(calls); i++) {
                g_autofree char *verdict = NULL;
                struct harness_before before;

                harness_remember(&f->h, &before);
                verdict = call_as(f, NULL, FALSE, calls[i].method, DEVICE, calls[i].grant_to, calls[i].flags);
                assert_prefix(verdict, "error " VFIO_PT_ERROR_INVALID_ARGUMENT);
                harness_assert_nothing_changed(&f->h, &before);
        }
}

/* --- grants ---------------------------------------------------------------------------------- */

/* Detach ends a grant: the entry goes, and no udev event brings it back. */
static void test_grant_ends_with_detach(Fixture *f, gconstpointer data) {
        uid_t member = polkit_test_uid(POLKIT_TEST_MEMBER);
        g_autofree char *record = NULL;

        start_world(f, WORLD_EXAMPLE_RULE, NULL);
        assert_ok_as(f, POLKIT_TEST_MEMBER, "Attach", GPU, NULL, "2");
        assert_ok_as(f, POLKIT_TEST_MEMBER, "Grant", GPU, "", "0");
        g_assert_true(harness_node_acl_grants(&f->h, "vfio/1", member));

        /* The audio function keeps the group node alive after the GPU leaves vfio-pci. */
        assert_ok_as(f, POLKIT_TEST_MEMBER, "Detach", GPU, NULL, "0");
        g_assert_cmpuint(harness_node_owner(&f->h, "vfio/1"), ==, 0);
        g_assert_false(harness_node_acl_grants(&f->h, "vfio/1", member));
        g_assert_cmpuint(harness_node_acl_users(&f->h, "vfio/1"), ==, 0);
        record = harness_record(&f->h, GPU);
        g_assert_null(strstr(record, "granted_uid"));

        kernel_emulator_udev_reset_node(f->h.emulator, 1);
        g_usleep(500000);
        settle(f);
        g_assert_cmpuint(harness_node_acl_users(&f->h, "vfio/1"), ==, 0);
}

/* /dev/iommu is shared: one entry per grantee, each gone with that grantee's last device. */
static void iommu_two_users(Fixture *f, gboolean first_restores_first) {
        static const struct harness_options cdev = { .cdev_kernel = TRUE };
        uid_t a = polkit_test_uid(POLKIT_TEST_MEMBER), b = polkit_test_uid(POLKIT_TEST_MEMBER2);

        start_world_with(f, WORLD_EXAMPLE_RULE, NULL, &cdev);
        assert_ok_as(f, POLKIT_TEST_MEMBER, "Attach", DEVICE, NULL, "0");
        assert_ok_as(f, POLKIT_TEST_MEMBER, "Grant", DEVICE, "", "0");
        assert_ok_as(f, POLKIT_TEST_MEMBER2, "Attach", DEVICE2, NULL, "0");
        assert_ok_as(f, POLKIT_TEST_MEMBER2, "Grant", DEVICE2, "", "0");
        g_assert_true(harness_node_acl_grants(&f->h, "iommu", a));
        g_assert_true(harness_node_acl_grants(&f->h, "iommu", b));
        g_assert_true(harness_node_acl_grants(&f->h, "vfio/6", a));
        g_assert_false(harness_node_acl_grants(&f->h, "vfio/6", b));
        g_assert_true(harness_node_acl_grants(&f->h, "vfio/7", b));
        g_assert_false(harness_node_acl_grants(&f->h, "vfio/7", a));
        g_assert_cmpuint(harness_node_owner(&f->h, "iommu"), ==, 0);

        if (first_restores_first) {
                assert_ok_as(f, POLKIT_TEST_MEMBER, "Restore", DEVICE, NULL, "0");
                g_assert_false(harness_node_acl_grants(&f->h, "iommu", a));
                g_assert_true(harness_node_acl_grants(&f->h, "iommu", b));
                assert_ok_as(f, POLKIT_TEST_MEMBER2, "Restore", DEVICE2, NULL, "0");
        } else {
                assert_ok_as(f, POLKIT_TEST_MEMBER2, "Restore", DEVICE2, NULL, "0");
                g_assert_true(harness_node_acl_grants(&f->h, "iommu", a));
                g_assert_false(harness_node_acl_grants(&f->h, "iommu", b));
                assert_ok_as(f, POLKIT_TEST_MEMBER, "Restore", DEVICE, NULL, "0");
        }
        g_assert_cmpuint(harness_node_acl_users(&f->h, "iommu"), ==, 0);
        g_assert_cmpuint(harness_node_owner(&f->h, "iommu"), ==, 0);
}

static void test_iommu_a_then_b(Fixture *f, gconstpointer data) {
        iommu_two_users(f, TRUE);
}

static void test_iommu_b_then_a(Fixture *f, gconstpointer data) {
        iommu_two_users(f, FALSE);
}

/* The grantee uses the node through its ACL entry, but cannot widen access: it does not own it. */
static void test_grantee_cannot_widen(Fixture *f, gconstpointer data) {
        struct harness_caller buf;
        g_autofree char *node = NULL;

        start_world(f, WORLD_EXAMPLE_RULE, NULL);
        assert_ok_as(f, POLKIT_TEST_MEMBER, "Attach", DEVICE, NULL, "0");
        assert_ok_as(f, POLKIT_TEST_MEMBER, "Grant", DEVICE, "", "0");
        /* The way to the node open to everyone, as /dev is on a real system. */
        {
                const char *dirs[] = { "", "dev", "dev/vfio" };
                for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
                        g_autofree char *path = g_build_filename(f->root, dirs[i], NULL);
                        g_assert_cmpint(g_chmod(path, 0755), ==, 0);
                }
        }
        node = g_build_filename(f->root, "dev", GROUP_NODE, NULL);
        {
                const char *can_use[] = { "test", "-r", node, "-a", "-w", node, NULL };
                const char *chmod_[] = { "chmod", "0666", node, NULL };
                const char *setfacl[] = { "setfacl", "-m", "u:" POLKIT_TEST_OUTSIDER ":rw", node, NULL };

                g_assert_cmpint(harness_run_as(&f->h, caller_for(POLKIT_TEST_MEMBER, &buf), can_use, NULL, NULL), ==, 0);
                g_assert_cmpint(harness_run_as(&f->h, caller_for(POLKIT_TEST_MEMBER, &buf), chmod_, NULL, NULL), !=, 0);
                g_assert_cmpint(harness_run_as(&f->h, caller_for(POLKIT_TEST_MEMBER, &buf), setfacl, NULL, NULL), !=, 0);
        }
        assert_granted(f, polkit_test_uid(POLKIT_TEST_MEMBER));
        g_assert_cmpuint(harness_node_acl_users(&f->h, GROUP_NODE), ==, 1);
}

/* --- Forget ---------------------------------------------------------------------------------- */

static void test_forget(Fixture *f, gconstpointer data) {
        g_autofree char *verdict = NULL, *driver = NULL;

        start_world(f, WORLD_EXAMPLE_RULE, NULL);
        assert_ok_as(f, POLKIT_TEST_MEMBER, "Attach", DEVICE, NULL, "0");
        assert_ok_as(f, POLKIT_TEST_MEMBER, "Grant", DEVICE, "", "0");
        /* Dropping a record is an administrator's decision, even for the owner. */
        assert_refused_as(f, POLKIT_TEST_MEMBER, "Forget", DEVICE, NULL, "0", "org.vfio.passthrough.forget");

        verdict = call_as(f, NULL, FALSE, "Forget", DEVICE, NULL, "0");
        assert_prefix(verdict, OK);
        g_assert_null(harness_record(&f->h, DEVICE));
        driver = harness_device_driver(&f->h, DEVICE);
        g_assert_cmpstr(driver, ==, "vfio-pci");
        g_assert_cmpuint(harness_node_acl_users(&f->h, GROUP_NODE), ==, 0);
        g_clear_pointer(&verdict, g_free);
        verdict = call_as(f, NULL, FALSE, "Restore", DEVICE, NULL, "0");
        assert_prefix(verdict, "error " VFIO_PT_ERROR_NOT_MANAGED);
}

/* --- nobody stalls the daemon or polkit for everyone else ------------------------------------- */

/* polkitd takes its time over each of the outsider's questions. */
static const char slow_outsider_rule[] =
        "polkit.addRule(function(action, subject) {\n"
        "    if (subject.user != '" POLKIT_TEST_OUTSIDER "') return polkit.Result.NOT_HANDLED;\n"
        "    var until = Date.now() + 400;\n"
        "    while (Date.now() < until) {}\n"
        "    return polkit.Result.NO;\n"
        "});\n";

static void test_pending_checks_capped(Fixture *f, gconstpointer data) {
        const char *rules[] = { "60-slow-outsider.rules", slow_outsider_rule, NULL };
        const char *flood[] = { CALLER_PATH, "--repeat=100", "Attach", DEVICE, "0", NULL };
        struct harness_caller buf;
        g_autofree char *out = NULL, *err = NULL, *member = NULL, *driver = NULL;
        g_auto(GStrv) lines = NULL;
        unsigned limited = 0, denied = 0;
        int status;

        start_world(f, WORLD_EXAMPLE_RULE, rules);
        status = harness_run_as(&f->h, caller_for(POLKIT_TEST_OUTSIDER, &buf), flood, &out, &err);
        g_test_message("100 calls of the outsider: %s%s", out, err);
        g_assert_cmpint(status, ==, 0);
        lines = g_strsplit(out, "\n", -1);
        for (char **l = lines; *l; l++) {
                unsigned n;
                if (sscanf(*l, "error " LIMITS_EXCEEDED " %u", &n) == 1)
                        limited = n;
                else if (sscanf(*l, "error org.freedesktop.DBus.Error.AccessDenied %u", &n) == 1)
                        denied = n;
        }
        g_assert_cmpuint(limited + denied, ==, 100);
        g_assert_cmpuint(limited, >=, 50);
        g_assert_cmpuint(denied, >=, 1);

        /* Someone else is still served. */
        member = call_as(f, POLKIT_TEST_MEMBER, FALSE, "Attach", DEVICE2, NULL, "0");
        assert_prefix(member, OK);
        driver = harness_device_driver(&f->h, DEVICE2);
        g_assert_cmpstr(driver, ==, "vfio-pci");
}

/* A user lookup that takes seconds (an LDAP server that does not answer) runs off the event loop:
 * everyone else's calls are answered meanwhile. */
static void test_slow_user_lookup(Fixture *f, gconstpointer data) {
        const char *env[] = { "VFIO_PT_TEST_SLOW_USER=" POLKIT_TEST_MEMBER2, NULL };
        const struct harness_options slow = { .daemon_preload = SLOW_NSS_PATH, .daemon_env = env };
        const char *grant[] = { CALLER_PATH, "Grant", DEVICE, POLKIT_TEST_MEMBER2, "0", NULL };
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        gint64 start, spawned;
        int out_fd;
        GPid pid;
        int status;
        char buf[256];
        ssize_t n;

        start_world_with(f, WORLD_EXAMPLE_RULE, NULL, &slow);
        attach_as_root(f, DEVICE);
        spawned = g_get_monotonic_time();
        {
                g_auto(GStrv) genv = g_get_environ();
                genv = g_environ_setenv(genv, "DBUS_SYSTEM_BUS_ADDRESS", f->h.bus.address, TRUE);
                genv = g_environ_unsetenv(genv, "LD_PRELOAD");
                g_assert_true(g_spawn_async_with_pipes(NULL, (char **) grant, genv, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                                       NULL, &pid, NULL, &out_fd, NULL, &error));
                g_assert_no_error(error);
        }
        g_usleep(300000); /* the Grant is in its lookup now */
        start = g_get_monotonic_time();
        reply = harness_call(&f->h, "ListDevices", NULL, "(aa{sv})", &error);
        g_assert_no_error(error);
        g_test_message("ListDevices during the slow lookup: %" G_GINT64_FORMAT " ms",
                       (g_get_monotonic_time() - start) / 1000);
        g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);

        /* And the Grant itself still ends well, once the lookup returned. */
        n = read(out_fd, buf, sizeof(buf) - 1);
        g_assert_cmpint(n, >, 0);
        buf[n] = '\0';
        g_test_message("Grant to the slow user: %s after %" G_GINT64_FORMAT " ms", buf,
                       (g_get_monotonic_time() - spawned) / 1000);
        assert_prefix(buf, OK);
        /* The lookup really was slow: the test shows something only if it was. */
        g_assert_cmpint(g_get_monotonic_time() - spawned, >=, 2 * G_USEC_PER_SEC);
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        close(out_fd);
        assert_granted(f, polkit_test_uid(POLKIT_TEST_MEMBER2));
}

static void skip(Fixture *f, gconstpointer reason) {
        g_test_skip(reason);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        if (polkit_test_unavailable()) {
                g_test_add("/ownership/skipped", Fixture, polkit_test_unavailable(), NULL, skip, fixture_teardown);
                return g_test_run();
        }
        polkit_test_users_ensure();

#define ADD(path, func) g_test_add(path, Fixture, NULL, NULL, func, fixture_teardown)
        ADD("/ownership/owner/other-members-device", test_other_members_device);
        ADD("/ownership/owner/roots-device", test_roots_device);
        ADD("/ownership/owner/manage-other-rule", test_manage_other_rule);
        ADD("/ownership/every-device/group-flag", test_group_flag_per_device);
        ADD("/ownership/every-device/force-adds", test_force_adds);
        ADD("/ownership/meaningless-flags", test_meaningless_flags);
        ADD("/ownership/grant/ends-with-detach", test_grant_ends_with_detach);
        ADD("/ownership/grant/iommu-two-users-a-then-b", test_iommu_a_then_b);
        ADD("/ownership/grant/iommu-two-users-b-then-a", test_iommu_b_then_a);
        ADD("/ownership/grant/grantee-cannot-widen", test_grantee_cannot_widen);
        ADD("/ownership/forget", test_forget);
        ADD("/ownership/stall/pending-checks-capped", test_pending_checks_capped);
        ADD("/ownership/stall/slow-user-lookup", test_slow_user_lookup);
#undef ADD
        return g_test_run();
}
