/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "authorization-world.h"

#include <string.h>

#include "kernel-emulator.h"

/* extra_rules: more file name/text pairs for polkitd (NULL-terminated; may be NULL). */
void start_world(Fixture *f, enum world world, const char *const *extra_rules) {
        start_world_with(f, world, extra_rules, NULL);
}

void start_world_with(Fixture *f, enum world world, const char *const *extra_rules,
                      const struct harness_options *base) {
        g_autoptr(GPtrArray) rules = g_ptr_array_new();
        struct harness_options options = base ? *base : (struct harness_options) {};

        options.emulate_kernel = TRUE;
        options.with_polkit = world != WORLD_WITHOUT_POLKITD;

        f->example_rule = polkit_test_example_rule();
        g_ptr_array_add(rules, (char *) POLKIT_TEST_EXAMPLE_RULES);
        g_ptr_array_add(rules, f->example_rule);
        if (world == WORLD_ACTIVE_SESSION) {
                g_ptr_array_add(rules, (char *) POLKIT_TEST_ACTIVE_SESSION_RULES);
                g_ptr_array_add(rules, (char *) polkit_test_active_session_rule);
        }
        for (const char *const *r = extra_rules; r && *r; r++)
                g_ptr_array_add(rules, (char *) *r);
        g_ptr_array_add(rules, NULL);
        options.polkit_rules = (const char *const *) rules->pdata;

        harness_start_with(&f->h, &options);
        f->root = umockdev_testbed_get_root_dir(f->h.testbed);
}

void stop_world(Fixture *f) {
        if (!f->h.tmpdir)
                return; /* skipped before starting */
        if (g_test_failed()) {
                g_autofree char *journal = kernel_emulator_journal(f->h.emulator);
                g_autofree char *log = harness_daemon_log(&f->h);
                g_printerr("--- emulator journal ---\n%s--- daemon log ---\n%s\n", journal, log);
        }
        g_assert_true(harness_daemon_alive(&f->h));
        harness_stop(&f->h);
        g_clear_pointer(&f->root, g_free);
        g_clear_pointer(&f->example_rule, g_free);
}

void fixture_teardown(Fixture *f, gconstpointer data) {
        stop_world(f);
}

/* ---- what the testbed says ----------------------------------------------------------------- */

void settle(Fixture *f) {
        kernel_emulator_settle(f->h.emulator);
}

/* The group node is granted to uid by an ACL entry, and still root's. */
void assert_granted(Fixture *f, uid_t uid) {
        g_assert_cmpuint(harness_node_owner(&f->h, GROUP_NODE), ==, 0);
        g_assert_true(harness_node_acl_grants(&f->h, GROUP_NODE, uid));
}

/* ---- calling, as the test users ------------------------------------------------------------ */

/* The harness' caller for user (NULL: root, the test's own identity). */
const struct harness_caller *caller_for(const char *user, struct harness_caller *buf) {
        if (!user)
                return NULL;
        *buf = (struct harness_caller) { .uid = polkit_test_uid(user) };
        return buf;
}

/* Runs polkit-test-caller as user with extra options (NULL-terminated) and returns its verdict. */
char *call_with(Fixture *f, const char *user, const char *const *options, const char *method,
                       const char *device, const char *grant_to, const char *flags) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autofree char *out = NULL, *err = NULL;
        struct harness_caller buf;
        int status;

        g_ptr_array_add(argv, (char *) CALLER_PATH);
        for (const char *const *o = options; o && *o; o++)
                g_ptr_array_add(argv, (char *) *o);
        g_ptr_array_add(argv, (char *) method);
        g_ptr_array_add(argv, (char *) device);
        if (grant_to)
                g_ptr_array_add(argv, (char *) grant_to);
        g_ptr_array_add(argv, (char *) flags);
        g_ptr_array_add(argv, NULL);

        status = harness_run_as(&f->h, caller_for(user, &buf), (const char *const *) argv->pdata, &out, &err);
        if (status != 0)
                g_error("polkit-test-caller exited with %d: %s", status, err);
        g_strchomp(out);
        g_test_message("%s%s%s: %s %s %s -> %s", user ? user : "root", options && options[0] ? " " : "",
                       options && options[0] ? options[0] : "", method, device, grant_to ? grant_to : "", out);
        settle(f);
        return g_steal_pointer(&out);
}

char *call_as(Fixture *f, const char *user, gboolean interactive, const char *method, const char *device,
                     const char *grant_to, const char *flags) {
        const char *options[] = { interactive ? "--interactive" : NULL, NULL };
        return call_with(f, user, options, method, device, grant_to, flags);
}

/* Root puts DEVICE on vfio-pci, for the calls that need it there. */
void attach_as_root(Fixture *f, const char *device) {
        g_autofree char *verdict = call_as(f, NULL, FALSE, "Attach", device, NULL, "0");
        g_autofree char *driver = harness_device_driver(&f->h, device);

        assert_prefix(verdict, OK);
        g_assert_cmpstr(driver, ==, "vfio-pci");
}

/* ... as if user (NULL: root) had attached it: the device is the caller's own. */
void attach_for(Fixture *f, const char *device, const char *user) {
        attach_as_root(f, device);
        if (user)
                harness_set_record_owner(&f->h, device, polkit_test_uid(user));
}

