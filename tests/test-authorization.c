/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who may do what, end to end: the real vfio-passthroughd (under umockdev, with the kernel
 * emulator) and the real polkitd on one private system-like bus, called by processes that really
 * run as the test users. Every privileged call × every kind of caller gets the expected reply,
 * and whenever the answer is no, nothing changed: not the (emulated) sysfs, not /dev/vfio, not
 * the state directory, and the emulated kernel saw no write at all. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "authorization-world.h"
#include "harness.h"
#include "kernel-emulator.h"
#include "pci-tree.h"
#include "polkitd.h"
#include "vfio-passthrough-bus.h"

/* ---- the matrix ---------------------------------------------------------------------------- */

enum call_kind { DETACH, ATTACH, RESTORE, GRANT_SELF, GRANT_OTHER, FORCE, N_CALLS };

/* One privileged call, with the arguments that make it the action named. */
struct privileged_call {
        const char *name;
        const char *method;
        const char *grant_to; /* Grant's user argument ("" = the caller); NULL: not Grant */
        const char *flags;
        gboolean on_attached; /* needs DEVICE on vfio-pci first (root attaches it) */
        const char *action;   /* the strongest polkit action the call needs */
        const char *base;     /* the action checked before it, which an outsider is refused first */
};

static const struct privileged_call calls[N_CALLS] = {
        [DETACH] = { "detach", "Detach", NULL, "0", FALSE, "org.vfio.passthrough.detach" },
        [ATTACH] = { "attach", "Attach", NULL, "0", FALSE, "org.vfio.passthrough.attach" },
        [RESTORE] = { "restore", "Restore", NULL, "0", TRUE, "org.vfio.passthrough.restore" },
        [GRANT_SELF] = { "grant-self", "Grant", "", "0", TRUE, "org.vfio.passthrough.grant" },
        [GRANT_OTHER] = { "grant-other", "Grant", OTHER_USER, "0", TRUE, "org.vfio.passthrough.grant-other" },
        /* VFIO_PT_FLAG_FORCE: checked as .force in addition to .detach. */
        [FORCE] = { "force", "Detach", NULL, "1", FALSE, "org.vfio.passthrough.force", "org.vfio.passthrough.detach" },
};

struct caller_row {
        const char *name;
        enum world world;
        const char *user; /* NULL: root */
        gboolean interactive;
        const char *expected[N_CALLS];
};

#define ALL(x) { x, x, x, x, x, x }

static const struct caller_row rows[] = {
        /* Root passes without asking polkit. */
        { "root", WORLD_ACTIVE_SESSION, NULL, FALSE, ALL(OK) },
        /* The example rule: the group may detach, attach, restore and grant to itself, no
         * password; granting to another user and forcing stay with an admin. */
        { "member", WORLD_EXAMPLE_RULE, POLKIT_TEST_MEMBER, FALSE, { OK, OK, OK, OK, ACCESS_DENIED, ACCESS_DENIED } },
        /* A non-admin member in an active session: grant-other and force want an admin's
         * password, which it is told, … */
        { "member-active-session", WORLD_ACTIVE_SESSION, POLKIT_TEST_MEMBER, FALSE,
          { OK, OK, OK, OK, INTERACTIVE_REQUIRED, INTERACTIVE_REQUIRED } },
        /* … and allowed to try, with no agent to ask, is refused. */
        { "member-active-session-interactive", WORLD_ACTIVE_SESSION, POLKIT_TEST_MEMBER, TRUE,
          { OK, OK, OK, OK, ACCESS_DENIED, ACCESS_DENIED } },
        { "outsider", WORLD_EXAMPLE_RULE, POLKIT_TEST_OUTSIDER, FALSE, ALL(ACCESS_DENIED) },
        { "outsider-interactive", WORLD_EXAMPLE_RULE, POLKIT_TEST_OUTSIDER, TRUE, ALL(ACCESS_DENIED) },
        { "outsider-active-session", WORLD_ACTIVE_SESSION, POLKIT_TEST_OUTSIDER, FALSE, ALL(INTERACTIVE_REQUIRED) },
        { "outsider-active-session-interactive", WORLD_ACTIVE_SESSION, POLKIT_TEST_OUTSIDER, TRUE, ALL(ACCESS_DENIED) },
        /* Without polkitd only root gets through; everybody else is told why, never allowed. */
        { "no-polkitd/root", WORLD_WITHOUT_POLKITD, NULL, FALSE, ALL(OK) },
        { "no-polkitd/member", WORLD_WITHOUT_POLKITD, POLKIT_TEST_MEMBER, FALSE, ALL(NO_POLKIT) },
        { "no-polkitd/outsider-interactive", WORLD_WITHOUT_POLKITD, POLKIT_TEST_OUTSIDER, TRUE, ALL(NO_POLKIT) },
};

struct cell {
        const struct caller_row *row;
        const struct privileged_call *call;
        const char *expected;
};

/* ---- the world ----------------------------------------------------------------------------- */

/* An allowed call did what it says. */
static void assert_done(Fixture *f, const struct cell *c) {
        g_autofree char *driver = harness_device_driver(&f->h, DEVICE);

        switch (c->call - calls) {
        case DETACH:
        case FORCE:
                g_assert_cmpstr(driver, ==, "");
                break;
        case ATTACH:
                g_assert_cmpstr(driver, ==, "vfio-pci");
                break;
        case RESTORE: {
                g_autofree char *override = harness_device_override(&f->h, DEVICE);
                g_assert_cmpstr(driver, ==, HOST_DRIVER);
                g_assert_cmpstr(override, ==, "(null)");
                break;
        }
        case GRANT_SELF:
                assert_granted(f, c->row->user ? polkit_test_uid(c->row->user) : 0);
                break;
        case GRANT_OTHER:
                assert_granted(f, OTHER_UID);
                break;
        default:
                g_assert_not_reached();
        }
}

static void test_cell(Fixture *f, gconstpointer data) {
        const struct cell *c = data;
        g_autofree char *verdict = NULL;
        struct harness_before before;

        start_world(f, c->row->world, NULL);
        /* The matrix asks about each caller's own device; other owners: see /authorization/owner. */
        if (c->call->on_attached)
                attach_for(f, DEVICE, c->row->user);
        harness_remember(&f->h, &before);
        if (!c->call->on_attached)
                g_assert_cmpstr(before.journal, ==, "");

        verdict = call_as(f, c->row->user, c->row->interactive, c->call->method, DEVICE, c->call->grant_to,
                          c->call->flags);
        assert_prefix(verdict, c->expected);
        if (g_str_equal(c->expected, OK)) {
                assert_done(f, c);
                g_clear_pointer(&before.snapshot, g_free);
                g_clear_pointer(&before.journal, g_free);
                return;
        }
        /* The refusal names what was refused: the action, and the device. */
        if (!strstr(verdict, c->call->action) && !(c->call->base && strstr(verdict, c->call->base)))
                g_error("expected %s%s%s in \"%s\"", c->call->action, c->call->base ? " or " : "",
                        c->call->base ?: "", verdict);
        assert_contains(verdict, "(device " DEVICE ")");
        harness_assert_nothing_changed(&f->h, &before);
}

/* ---- details reach polkit ------------------------------------------------------------------ */

/* An admin's per-device rule: the outsider may attach this one device, nothing else. */
static const char one_device_rule[] =
        "polkit.addRule(function(action, subject) {\n"
        "    if (action.id == 'org.vfio.passthrough.attach' && subject.user == '" POLKIT_TEST_OUTSIDER "' &&\n"
        "        action.lookup('device') == '" DEVICE "' && action.lookup('iommu_group') == '6')\n"
        "        return polkit.Result.YES;\n"
        "});\n";

static void test_per_device_rule(Fixture *f, gconstpointer data) {
        const char *rules[] = { "60-one-device.rules", one_device_rule, NULL };
        g_autofree char *allowed = NULL, *other = NULL, *detach = NULL;
        g_autofree char *driver = NULL;
        struct harness_before before;

        start_world(f, WORLD_EXAMPLE_RULE, rules);
        harness_remember(&f->h, &before);
        other = call_as(f, POLKIT_TEST_OUTSIDER, FALSE, "Attach", DEVICE2, NULL, "0");
        assert_prefix(other, ACCESS_DENIED);
        detach = call_as(f, POLKIT_TEST_OUTSIDER, FALSE, "Detach", DEVICE, NULL, "0");
        assert_prefix(detach, ACCESS_DENIED);
        harness_assert_nothing_changed(&f->h, &before);

        allowed = call_as(f, POLKIT_TEST_OUTSIDER, FALSE, "Attach", DEVICE, NULL, "0");
        assert_prefix(allowed, OK);
        driver = harness_device_driver(&f->h, DEVICE);
        g_assert_cmpstr(driver, ==, "vfio-pci");
}

/* ---- a caller cannot pass for somebody else ------------------------------------------------ */

/* A root process calling over the outsider's connection (a setuid-root program handed it, or
 * the outsider's process exec'd one after connecting): the daemon must judge the connection the
 * bus authenticated, not what /proc says about the sending pid now. */
static void test_outsider_connection_in_root_process(Fixture *f, gconstpointer data) {
        g_autofree char *outsider = g_strdup_printf("--connect-as=%u", (unsigned) polkit_test_uid(POLKIT_TEST_OUTSIDER));
        g_autofree char *member = g_strdup_printf("--connect-as=%u", (unsigned) polkit_test_uid(POLKIT_TEST_MEMBER));
        const char *as_outsider[] = { outsider, NULL }, *as_member[] = { member, NULL };
        g_autofree char *detach = NULL, *grant = NULL;
        struct harness_before before;

        start_world(f, WORLD_EXAMPLE_RULE, NULL);
        harness_remember(&f->h, &before);
        g_assert_cmpstr(before.journal, ==, "");
        detach = call_with(f, NULL, as_outsider, "Detach", DEVICE, NULL, "0");
        assert_prefix(detach, ACCESS_DENIED);
        assert_contains(detach, "org.vfio.passthrough.detach");
        harness_assert_nothing_changed(&f->h, &before);

        /* "Grant it to me" over the member's connection is a grant to the member, not to the
         * root process that sent it. */
        attach_for(f, DEVICE, POLKIT_TEST_MEMBER);
        grant = call_with(f, NULL, as_member, "Grant", DEVICE, "", "0");
        assert_prefix(grant, OK);
        assert_granted(f, polkit_test_uid(POLKIT_TEST_MEMBER));
}

/* The other way round: root's connection, used by a process that has become the outsider. */
static void test_root_connection_after_drop(Fixture *f, gconstpointer data) {
        g_autofree char *drop = g_strdup_printf("--drop-to=%u", (unsigned) polkit_test_uid(POLKIT_TEST_OUTSIDER));
        const char *options[] = { drop, NULL };
        g_autofree char *verdict = NULL, *driver = NULL;

        start_world(f, WORLD_EXAMPLE_RULE, NULL);
        verdict = call_with(f, NULL, options, "Detach", DEVICE, NULL, "0");
        /* Root connected, so root is who calls: the same as root handing work to a helper. */
        assert_prefix(verdict, OK);
        driver = harness_device_driver(&f->h, DEVICE);
        g_assert_cmpstr(driver, ==, "");
}

/* A uid in the arguments is whom to grant to, never who is asking. */
static void test_forged_uid_in_arguments(Fixture *f, gconstpointer data) {
        g_autofree char *member_uid = g_strdup_printf("%u", (unsigned) polkit_test_uid(POLKIT_TEST_MEMBER));
        static const char *const forged[] = { "0", "root", OTHER_USER };
        g_autofree char *self = NULL;
        struct harness_before before;

        start_world(f, WORLD_ACTIVE_SESSION, NULL);
        attach_for(f, DEVICE, POLKIT_TEST_MEMBER);
        harness_remember(&f->h, &before);
        for (size_t i = 0; i < G_N_ELEMENTS(forged); i++) {
                g_autofree char *member = call_as(f, POLKIT_TEST_MEMBER, FALSE, "Grant", DEVICE, forged[i], "0");
                g_autofree char *outsider = call_as(f, POLKIT_TEST_OUTSIDER, TRUE, "Grant", DEVICE, forged[i], "0");
                /* The member may grant to itself, but this is a grant to somebody else. */
                assert_prefix(member, INTERACTIVE_REQUIRED);
                assert_contains(member, "org.vfio.passthrough.grant-other");
                assert_prefix(outsider, ACCESS_DENIED);
                assert_contains(outsider, "org.vfio.passthrough.grant-other");
        }
        harness_assert_nothing_changed(&f->h, &before);

        /* Its own uid, spelt out, is a grant to itself: decided by identity, not by spelling. */
        self = call_as(f, POLKIT_TEST_MEMBER, FALSE, "Grant", DEVICE, member_uid, "0");
        assert_prefix(self, OK);
        assert_granted(f, polkit_test_uid(POLKIT_TEST_MEMBER));
}

/* ---- the real clients ---------------------------------------------------------------------- */

static int run_ctl_as(Fixture *f, const char *user, const char *verb, char **ret_err) {
        struct harness_caller buf;
        g_autofree char *out = NULL;
        int status = harness_run_ctl_as(&f->h, caller_for(user, &buf), &out, ret_err, "--no-ask-password", verb,
                                        "59:00.0", NULL);
        g_test_message("vfio-passthroughctl --no-ask-password %s as %s: %d, %s", verb, user, status, *ret_err);
        return status;
}

/* One line on stderr, nothing else. */
static void assert_one_line(const char *text) {
        g_assert_true(g_str_has_suffix(text, "\n"));
        g_assert_cmpstr(strchr(text, '\n') + 1, ==, "");
}

static void test_ctl_no_ask_password(Fixture *f, gconstpointer data) {
        g_autofree char *denied = NULL, *challenged = NULL;
        struct harness_before before;

        start_world(f, WORLD_ACTIVE_SESSION, NULL);
        harness_remember(&f->h, &before);
        /* In an active session a password would do; --no-ask-password says not to ask. */
        g_assert_cmpint(run_ctl_as(f, POLKIT_TEST_OUTSIDER, "attach", &challenged), ==, 3);
        assert_one_line(challenged);
        assert_contains(challenged, "vfio-passthroughctl: attach needs authentication");
        assert_contains(challenged, "--no-ask-password");
        harness_assert_nothing_changed(&f->h, &before);
        stop_world(f);

        /* Outside a session nothing would do: polkit's refusal, with what to do about it. */
        start_world(f, WORLD_EXAMPLE_RULE, NULL);
        harness_remember(&f->h, &before);
        g_assert_cmpint(run_ctl_as(f, POLKIT_TEST_OUTSIDER, "detach", &denied), ==, 3);
        assert_one_line(denied);
        assert_contains(denied, "vfio-passthroughctl: access denied: Not authorized by polkit for "
                                "org.vfio.passthrough.detach");
        harness_assert_nothing_changed(&f->h, &before);
}

static void test_busctl(Fixture *f, gconstpointer data) {
        struct harness_caller outsider = { .uid = polkit_test_uid(POLKIT_TEST_OUTSIDER) };
        g_autofree char *out = NULL, *err = NULL;
        struct harness_before before;

        start_world(f, WORLD_ACTIVE_SESSION, NULL);
        harness_remember(&f->h, &before);
        g_assert_cmpint(harness_run_busctl_as(&f->h, &outsider, &out, &err, "--allow-interactive-authorization=no",
                                              "call", VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE,
                                              "Detach", "st", "59:00.0", "0", NULL),
                        !=, 0);
        g_test_message("busctl: %s", err);
        assert_contains(err, "Authentication is required for org.vfio.passthrough.detach");
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        /* busctl allows interactive authorization by default; no agent answers. (busctl shows
         * AccessDenied by its errno, "Access denied", without the message.) */
        g_assert_cmpint(harness_run_busctl_as(&f->h, &outsider, &out, &err, "call", VFIO_PT_BUS_NAME,
                                              VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE, "Attach", "st", "59:00.0", "0",
                                              NULL),
                        !=, 0);
        g_test_message("busctl: %s", err);
        assert_contains(err, "Access denied");
        harness_assert_nothing_changed(&f->h, &before);
}

/* ---- polkitd goes away --------------------------------------------------------------------- */

static void test_polkitd_crashed(Fixture *f, gconstpointer data) {
        g_autofree char *before_crash = NULL, *after_crash = NULL, *root = NULL;
        struct harness_before before;

        start_world(f, WORLD_EXAMPLE_RULE, NULL);
        before_crash = call_as(f, POLKIT_TEST_MEMBER, FALSE, "Attach", DEVICE, NULL, "0");
        assert_prefix(before_crash, OK);
        harness_kill_polkitd(&f->h);

        harness_remember(&f->h, &before);
        after_crash = call_as(f, POLKIT_TEST_MEMBER, FALSE, "Restore", DEVICE, NULL, "0");
        assert_prefix(after_crash, NO_POLKIT);
        harness_assert_nothing_changed(&f->h, &before);
        root = call_as(f, NULL, FALSE, "Restore", DEVICE, NULL, "0");
        assert_prefix(root, OK);
}

static void skip(Fixture *f, gconstpointer reason) {
        g_test_skip(reason);
}

int main(int argc, char *argv[]) {
        static struct cell cells[G_N_ELEMENTS(rows)][N_CALLS];

        g_test_init(&argc, &argv, NULL);
        if (polkit_test_unavailable()) {
                g_test_add("/authorization/skipped", Fixture, polkit_test_unavailable(), NULL, skip, fixture_teardown);
                return g_test_run();
        }
        polkit_test_users_ensure();

        for (size_t r = 0; r < G_N_ELEMENTS(rows); r++)
                for (size_t c = 0; c < N_CALLS; c++) {
                        g_autofree char *path = g_strdup_printf("/authorization/matrix/%s/%s", rows[r].name,
                                                                calls[c].name);
                        cells[r][c] = (struct cell) { &rows[r], &calls[c], rows[r].expected[c] };
                        g_test_add(path, Fixture, &cells[r][c], NULL, test_cell, fixture_teardown);
                }

#define ADD(path, func) g_test_add(path, Fixture, NULL, NULL, func, fixture_teardown)
        ADD("/authorization/per-device-rule", test_per_device_rule);
        ADD("/authorization/spoof/outsider-connection-in-root-process", test_outsider_connection_in_root_process);
        ADD("/authorization/spoof/root-connection-after-drop", test_root_connection_after_drop);
        ADD("/authorization/spoof/forged-uid-in-arguments", test_forged_uid_in_arguments);
        ADD("/authorization/ctl/no-ask-password", test_ctl_no_ask_password);
        ADD("/authorization/busctl", test_busctl);
        ADD("/authorization/polkitd-crashed", test_polkitd_crashed);
#undef ADD
        return g_test_run();
}
