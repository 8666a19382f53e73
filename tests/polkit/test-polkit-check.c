/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/polkit.c against the real polkitd: who may call which privileged method, decided by
 * the project's .policy and rules, for callers that really are those users. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "polkit-world.h"

#define DEVICE "0000:59:00.0"  /* IOMMU group 6 in the service's fake topology */
#define DEVICE2 "0000:5a:00.0" /* group 7 */

#define ACCESS_DENIED "error org.freedesktop.DBus.Error.AccessDenied"
#define INTERACTIVE_REQUIRED "error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"

/* Per-device rule: the details reach polkit. */
static const char group6_rule[] =
        "polkit.addRule(function(action, subject) {\n"
        "    if (action.id == 'org.vfio.passthrough.attach' && subject.user == '" POLKIT_TEST_OUTSIDER "' &&\n"
        "        action.lookup('iommu_group') == '6' && action.lookup('device') == '" DEVICE "' &&\n"
        "        action.lookup('operation') == 'attach')\n"
        "        return polkit.Result.YES;\n"
        "});\n";

/* Calls METHOD as user (NULL: root) through polkit-test-caller; returns its one-line verdict. */
static char *call_as(struct polkit_world *w, const char *user, gboolean interactive, const char *method,
                     const char *device, const char *grant_to, const char *flags) {
        const char *argv[8];
        g_autofree char *out = NULL, *err = NULL;
        int n = 0;

        argv[n++] = CALLER_PATH;
        if (interactive)
                argv[n++] = "--interactive";
        argv[n++] = method;
        argv[n++] = device;
        if (grant_to)
                argv[n++] = grant_to;
        argv[n++] = flags;
        argv[n] = NULL;
        g_assert_cmpint(polkit_world_run_as(w, user, argv, &out, &err), ==, 0);
        g_strchomp(out);
        if (g_test_verbose())
                g_printerr("%s %s%s %s %s %s → %s\n", user ? user : "root", interactive ? "(interactive) " : "",
                           method, device, grant_to ? grant_to : "", flags, out);
        return g_steal_pointer(&out);
}

#define assert_prefix(text, prefix)                                                             \
        do {                                                                                    \
                if (!g_str_has_prefix((text), (prefix)))                                        \
                        g_error("expected \"%s…\", got \"%s\"", (prefix), (text));              \
        } while (0)

static void assert_call(struct polkit_world *w, const char *user, gboolean interactive, const char *method,
                        const char *grant_to, const char *flags, const char *expected) {
        g_autofree char *verdict = call_as(w, user, interactive, method, DEVICE, grant_to, flags);
        assert_prefix(verdict, expected);
}

/* The four privileged methods with the arguments that make each plain action. */
static const struct {
        const char *method;
        const char *grant_to; /* Grant's user argument: "" = the caller */
        const char *action;
} plain_calls[] = {
        { "Detach", NULL, "org.vfio.passthrough.detach" },
        { "Attach", NULL, "org.vfio.passthrough.attach" },
        { "Restore", NULL, "org.vfio.passthrough.restore" },
        { "Grant", "", "org.vfio.passthrough.grant" },
};

/* The service logs every decision; a denied caller must never have reached the operation. */
static void assert_never_allowed(struct polkit_world *w, const char *user) {
        g_autofree char *log = polkit_world_service_log(w);
        g_auto(GStrv) lines = g_strsplit(log, "\n", -1);
        g_autofree char *needle = g_strdup_printf(" uid=%u ", (unsigned) polkit_test_uid(user));
        unsigned decisions = 0;

        for (char **l = lines; *l; l++)
                if (g_str_has_prefix(*l, "DECISION") && strstr(*l, needle)) {
                        decisions++;
                        if (g_str_has_suffix(*l, " allowed"))
                                g_error("%s was allowed: %s", user, *l);
                }
        g_assert_cmpuint(decisions, >, 0);
}

/* ---- the matrix ---- */

static void start_with_rules(struct polkit_world *w, gboolean active_session) {
        g_autofree char *example = polkit_test_example_rule();
        const char *rules[] = {
                POLKIT_TEST_EXAMPLE_RULES, example,
                active_session ? POLKIT_TEST_ACTIVE_SESSION_RULES : NULL, polkit_test_active_session_rule,
                NULL,
        };
        polkit_world_start(w, rules, TRUE);
        polkit_world_start_service(w, SERVICE_PATH);
}

static void test_root(void) {
        struct polkit_world w;

        start_with_rules(&w, TRUE);
        for (size_t i = 0; i < G_N_ELEMENTS(plain_calls); i++) {
                g_autofree char *expected = g_strdup_printf("ok authorized by %s", plain_calls[i].action);
                assert_call(&w, NULL, FALSE, plain_calls[i].method, plain_calls[i].grant_to, "0", expected);
        }
        assert_call(&w, NULL, FALSE, "Grant", POLKIT_TEST_OUTSIDER, "0", "ok authorized by org.vfio.passthrough.grant-other");
        assert_call(&w, NULL, FALSE, "Detach", NULL, "1", "ok authorized by org.vfio.passthrough.force");
        assert_call(&w, NULL, FALSE, "Attach", NULL, "1", "ok authorized by org.vfio.passthrough.force");
        polkit_world_stop(&w);
}

static void test_member_with_example_rule(void) {
        struct polkit_world w;

        start_with_rules(&w, TRUE);
        for (size_t i = 0; i < G_N_ELEMENTS(plain_calls); i++) {
                g_autofree char *expected = g_strdup_printf("ok authorized by %s", plain_calls[i].action);
                /* No password, with or without interaction allowed. */
                assert_call(&w, POLKIT_TEST_MEMBER, FALSE, plain_calls[i].method, plain_calls[i].grant_to, "0", expected);
                assert_call(&w, POLKIT_TEST_MEMBER, TRUE, plain_calls[i].method, plain_calls[i].grant_to, "0", expected);
        }
        /* Naming oneself is still a grant to oneself. */
        assert_call(&w, POLKIT_TEST_MEMBER, FALSE, "Grant", POLKIT_TEST_MEMBER, "0",
                    "ok authorized by org.vfio.passthrough.grant");
        /* The example rule stops at grant-other and force: those still need an admin. */
        assert_call(&w, POLKIT_TEST_MEMBER, FALSE, "Grant", POLKIT_TEST_OUTSIDER, "0", INTERACTIVE_REQUIRED);
        assert_call(&w, POLKIT_TEST_MEMBER, FALSE, "Detach", NULL, "1", INTERACTIVE_REQUIRED);
        assert_call(&w, POLKIT_TEST_MEMBER, FALSE, "Attach", NULL, "1", INTERACTIVE_REQUIRED);
        /* Allowed to try interactively, but there is no agent to ask the password: denied. */
        assert_call(&w, POLKIT_TEST_MEMBER, TRUE, "Grant", POLKIT_TEST_OUTSIDER, "0", ACCESS_DENIED);
        assert_call(&w, POLKIT_TEST_MEMBER, TRUE, "Attach", NULL, "1", ACCESS_DENIED);
        polkit_world_stop(&w);
}

static void test_outsider(void) {
        struct polkit_world w;

        start_with_rules(&w, TRUE);
        for (size_t i = 0; i < G_N_ELEMENTS(plain_calls); i++) {
                /* An active session would be asked for the admin password … */
                assert_call(&w, POLKIT_TEST_OUTSIDER, FALSE, plain_calls[i].method, plain_calls[i].grant_to, "0",
                            INTERACTIVE_REQUIRED);
                /* … and with interaction allowed but no agent registered, polkit says no. */
                assert_call(&w, POLKIT_TEST_OUTSIDER, TRUE, plain_calls[i].method, plain_calls[i].grant_to, "0",
                            ACCESS_DENIED);
        }
        assert_call(&w, POLKIT_TEST_OUTSIDER, FALSE, "Grant", POLKIT_TEST_MEMBER, "0", INTERACTIVE_REQUIRED);
        assert_call(&w, POLKIT_TEST_OUTSIDER, FALSE, "Detach", NULL, "1", INTERACTIVE_REQUIRED);
        assert_never_allowed(&w, POLKIT_TEST_OUTSIDER);
        polkit_world_stop(&w);
}

static void test_outside_any_session(void) {
        struct polkit_world w;

        /* Only the example rule: callers without an active session (ssh, cron, services) get
         * allow_any = no, a plain denial, no password question. */
        start_with_rules(&w, FALSE);
        for (size_t i = 0; i < G_N_ELEMENTS(plain_calls); i++) {
                g_autofree char *expected = g_strdup_printf("ok authorized by %s", plain_calls[i].action);
                assert_call(&w, POLKIT_TEST_OUTSIDER, FALSE, plain_calls[i].method, plain_calls[i].grant_to, "0",
                            ACCESS_DENIED);
                assert_call(&w, POLKIT_TEST_OUTSIDER, TRUE, plain_calls[i].method, plain_calls[i].grant_to, "0",
                            ACCESS_DENIED);
                assert_call(&w, POLKIT_TEST_MEMBER, FALSE, plain_calls[i].method, plain_calls[i].grant_to, "0", expected);
        }
        assert_call(&w, POLKIT_TEST_MEMBER, FALSE, "Grant", POLKIT_TEST_OUTSIDER, "0", ACCESS_DENIED);
        assert_call(&w, POLKIT_TEST_MEMBER, FALSE, "Detach", NULL, "1", ACCESS_DENIED);
        assert_call(&w, POLKIT_TEST_MEMBER, FALSE, "Attach", NULL, "1", ACCESS_DENIED);
        assert_never_allowed(&w, POLKIT_TEST_OUTSIDER);
        polkit_world_stop(&w);
}

static void test_per_device_rule(void) {
        struct polkit_world w;
        const char *rules[] = { "50-group6.rules", group6_rule, NULL };
        g_autofree char *other = NULL;

        polkit_world_start(&w, rules, TRUE);
        polkit_world_start_service(&w, SERVICE_PATH);
        assert_call(&w, POLKIT_TEST_OUTSIDER, FALSE, "Attach", NULL, "0", "ok authorized by org.vfio.passthrough.attach");
        other = call_as(&w, POLKIT_TEST_OUTSIDER, FALSE, "Attach", DEVICE2, NULL, "0");
        assert_prefix(other, ACCESS_DENIED);
        assert_call(&w, POLKIT_TEST_OUTSIDER, FALSE, "Detach", NULL, "0", ACCESS_DENIED);
        polkit_world_stop(&w);
}

static void test_without_polkit(void) {
        struct polkit_world w;

        polkit_world_start(&w, NULL, FALSE);
        polkit_world_start_service(&w, SERVICE_PATH);
        for (size_t i = 0; i < G_N_ELEMENTS(plain_calls); i++) {
                g_autofree char *expected = g_strdup_printf("ok authorized by %s", plain_calls[i].action);
                /* Root never needs polkit … */
                assert_call(&w, NULL, FALSE, plain_calls[i].method, plain_calls[i].grant_to, "0", expected);
                /* … everybody else gets a denial that says why, never an allow. */
                assert_call(&w, POLKIT_TEST_MEMBER, FALSE, plain_calls[i].method, plain_calls[i].grant_to, "0",
                            ACCESS_DENIED ": polkit is not available");
                assert_call(&w, POLKIT_TEST_OUTSIDER, TRUE, plain_calls[i].method, plain_calls[i].grant_to, "0",
                            ACCESS_DENIED ": polkit is not available");
        }
        polkit_world_stop(&w);
}

static void test_polkit_crashed(void) {
        struct polkit_world w;

        start_with_rules(&w, TRUE);
        assert_call(&w, POLKIT_TEST_MEMBER, FALSE, "Attach", NULL, "0", "ok authorized by org.vfio.passthrough.attach");
        polkit_world_kill_polkitd(&w);
        assert_call(&w, POLKIT_TEST_MEMBER, FALSE, "Attach", NULL, "0", ACCESS_DENIED ": polkit is not available");
        assert_call(&w, NULL, FALSE, "Attach", NULL, "0", "ok authorized by org.vfio.passthrough.attach");
        polkit_world_stop(&w);
}

/* busctl, as an unprivileged user would type it, gets the named denial's message. */
static void test_busctl(void) {
        struct polkit_world w;
        g_autofree char *address = NULL;
        g_autofree char *out = NULL, *err = NULL;

        start_with_rules(&w, TRUE);
        address = g_strdup_printf("--address=%s", w.bus.address);
        {
                const char *argv[] = { "busctl", address, "--allow-interactive-authorization=no", "call",
                                       "org.vfio.Passthrough1", "/org/vfio/Passthrough1", "org.vfio.Passthrough1",
                                       "Detach", "st", DEVICE, "0", NULL };
                g_assert_cmpint(polkit_world_run_as(&w, POLKIT_TEST_OUTSIDER, argv, &out, &err), !=, 0);
                g_assert_nonnull(strstr(err, "Authentication is required for org.vfio.passthrough.detach"));
        }
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        {
                /* busctl allows interactive authorization by default; no agent → denied. (busctl
                 * shows AccessDenied as "Access denied", without the error's message.) */
                const char *argv[] = { "busctl", address, "call", "org.vfio.Passthrough1", "/org/vfio/Passthrough1",
                                       "org.vfio.Passthrough1", "Grant", "sst", DEVICE, "", "0", NULL };
                g_assert_cmpint(polkit_world_run_as(&w, POLKIT_TEST_OUTSIDER, argv, &out, &err), !=, 0);
                if (!strstr(err, "Access denied"))
                        g_error("busctl said: %s", err);
        }
        assert_never_allowed(&w, POLKIT_TEST_OUTSIDER);
        polkit_world_stop(&w);
}

/* ---- spoofing ---- */

static void test_forged_uid_in_arguments(void) {
        struct polkit_world w;

        start_with_rules(&w, FALSE);
        /* "Grant it to uid 0 / root" is a grant to somebody else, not a claim to be root. */
        assert_call(&w, POLKIT_TEST_OUTSIDER, FALSE, "Grant", "0", "0", ACCESS_DENIED);
        assert_call(&w, POLKIT_TEST_OUTSIDER, FALSE, "Grant", "root", "0", ACCESS_DENIED);
        assert_call(&w, POLKIT_TEST_MEMBER, FALSE, "Grant", "0", "0", ACCESS_DENIED);
        {
                g_autofree char *log = polkit_world_service_log(&w);
                g_autofree char *expected = g_strdup_printf(
                        "DECISION Grant " DEVICE " org.vfio.passthrough.grant-other uid=%u "
                        "org.freedesktop.DBus.Error.AccessDenied",
                        (unsigned) polkit_test_uid(POLKIT_TEST_OUTSIDER));
                g_assert_nonnull(strstr(log, expected));
        }
        assert_never_allowed(&w, POLKIT_TEST_OUTSIDER);
        polkit_world_stop(&w);
}

static void test_judged_by_connection(void) {
        struct polkit_world w;
        g_autofree char *drop = NULL;

        start_with_rules(&w, FALSE);
        drop = g_strdup_printf("--drop-to=%u", (unsigned) polkit_test_uid(POLKIT_TEST_OUTSIDER));
        {
                /* Root's connection, used by a process that is the outsider by the time it calls:
                 * the decision follows the connection the bus authenticated, not the process'
                 * current uid or its pid (a pid subject would have seen the outsider here, and an
                 * outsider exec'ing a setuid binary would have been seen as root). */
                const char *argv[] = { CALLER_PATH, drop, "Detach", DEVICE, "0", NULL };
                g_autofree char *out = NULL;
                g_assert_cmpint(polkit_world_run_as(&w, NULL, argv, &out, NULL), ==, 0);
                assert_prefix(out, "ok authorized by org.vfio.passthrough.detach");
        }
        {
                /* The outsider's call relayed by root-owned parents (the test itself, busctl's
                 * parent) is still the outsider's. */
                g_autofree char *verdict = call_as(&w, POLKIT_TEST_OUTSIDER, FALSE, "Detach", DEVICE, NULL, "0");
                assert_prefix(verdict, ACCESS_DENIED);
        }
        polkit_world_stop(&w);
}

/* A caller that leaves before polkit answers cannot leave its name for somebody else. */
static void test_caller_gone(void) {
        struct polkit_world w;
        g_autofree char *address = NULL;
        gint64 deadline;

        start_with_rules(&w, TRUE);
        address = g_strdup_printf("--address=%s", w.bus.address);
        {
                const char *argv[] = { "busctl", address, "--expect-reply=no", "call", "org.vfio.Passthrough1",
                                       "/org/vfio/Passthrough1", "org.vfio.Passthrough1", "Attach", "st", DEVICE2,
                                       "0", NULL };
                g_assert_cmpint(polkit_world_run_as(&w, POLKIT_TEST_OUTSIDER, argv, NULL, NULL), ==, 0);
        }
        deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        for (;;) {
                g_autofree char *log = polkit_world_service_log(&w);
                const char *decision = strstr(log, "DECISION Attach " DEVICE2);
                if (decision) {
                        g_autofree char *line = g_strndup(decision, strcspn(decision, "\n"));
                        if (g_test_verbose())
                                g_printerr("%s\n", line);
                        g_assert_false(g_str_has_suffix(line, " allowed"));
                        break;
                }
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(20000);
        }
        polkit_world_stop(&w);
}

/* ---- asynchronous, and clean when the daemon stops mid-check ---- */

static guint32 pending_checks(struct polkit_world *w) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        guint32 n;

        reply = g_dbus_connection_call_sync(w->bus.connection, "org.vfio.Passthrough1", "/org/vfio/Passthrough1",
                                            "org.vfio.Passthrough1", "PendingChecks", NULL, G_VARIANT_TYPE("(u)"),
                                            G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(u)", &n);
        return n;
}

static void wait_for_pending(struct polkit_world *w, guint32 n) {
        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        while (pending_checks(w) != n) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(20000);
        }
}

static char *read_all(int fd) {
        GString *s = g_string_new(NULL);
        char buf[256];
        ssize_t n;

        while ((n = read(fd, buf, sizeof(buf))) > 0)
                g_string_append_len(s, buf, n);
        close(fd);
        return g_string_free(s, FALSE);
}

static void test_bus_served_while_polkit_thinks(void) {
        struct polkit_world w;
        const char *argv[] = { CALLER_PATH, "Attach", DEVICE, "0", NULL };
        g_autofree char *verdict = NULL;
        int status, out_fd;
        GPid caller;

        start_with_rules(&w, FALSE);
        /* polkitd frozen: its answers wait, the service must not. */
        kill(w.polkitd_pid, SIGSTOP);
        caller = polkit_world_spawn_as(&w, POLKIT_TEST_MEMBER, argv, &out_fd);
        wait_for_pending(&w, 1); /* answered while a check is pending */
        assert_call(&w, NULL, FALSE, "Detach", NULL, "0", "ok authorized by org.vfio.passthrough.detach");
        kill(w.polkitd_pid, SIGCONT);
        verdict = read_all(out_fd);
        waitpid(caller, &status, 0);
        assert_prefix(verdict, "ok authorized by org.vfio.passthrough.attach");
        g_assert_cmpuint(pending_checks(&w), ==, 0);
        polkit_world_stop(&w);
}

static void test_stop_with_pending_checks(void) {
        struct polkit_world w;
        const char *argv[] = { CALLER_PATH, "Attach", DEVICE, "0", NULL };
        g_autofree char *verdict = NULL, *log = NULL;
        int status, out_fd;
        GPid caller;

        start_with_rules(&w, FALSE);
        kill(w.polkitd_pid, SIGSTOP);
        caller = polkit_world_spawn_as(&w, POLKIT_TEST_MEMBER, argv, &out_fd);
        wait_for_pending(&w, 1);
        /* A clean exit (and, under ASan/valgrind, no leak) with a check in flight. */
        status = polkit_world_stop_service(&w);
        log = polkit_world_service_log(&w);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                g_error("service exit status 0x%x:\n%s", status, log);
        g_assert_nonnull(strstr(log, "EXIT with 1 checks pending"));
        /* The caller is not left allowed: it gets no success, only the bus' error. */
        verdict = read_all(out_fd);
        waitpid(caller, &status, 0);
        g_assert_false(g_str_has_prefix(verdict, "ok"));
        kill(w.polkitd_pid, SIGCONT);
        polkit_world_stop(&w);
}

/* ---- the host stays untouched ---- */

static int compare_names(gconstpointer a, gconstpointer b) {
        return g_strcmp0(*(char *const *) a, *(char *const *) b);
}

static char *listing(const char *dir) {
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;
        struct stat st;

        g_assert_nonnull(d);
        while ((name = g_dir_read_name(d)))
                g_ptr_array_add(names, g_strdup(name));
        g_ptr_array_sort(names, compare_names);
        g_ptr_array_add(names, NULL);
        g_assert_cmpint(stat(dir, &st), ==, 0);
        g_autofree char *joined = g_strjoinv(",", (char **) names->pdata);
        return g_strdup_printf("%s mtime=%ld.%09ld", joined, (long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static void test_host_untouched(void) {
        g_autofree char *actions_before = listing("/usr/share/polkit-1/actions");
        g_autofree char *rules_before = listing("/etc/polkit-1/rules.d");
        g_autofree char *actions_after = NULL, *rules_after = NULL, *out = NULL;
        struct polkit_world w;

        start_with_rules(&w, TRUE);
        {
                /* polkitd sees the project's actions … */
                const char *argv[] = { "pkaction", "--action-id", "org.vfio.passthrough.grant-other", "--verbose", NULL };
                g_assert_cmpint(polkit_world_run_as(&w, NULL, argv, &out, NULL), ==, 0);
                if (!strstr(out, "implicit active:   auth_admin\n"))
                        g_error("pkaction said: %s", out);
        }
        /* … while the host's directories, seen from here, are what they were. */
        actions_after = listing("/usr/share/polkit-1/actions");
        rules_after = listing("/etc/polkit-1/rules.d");
        g_assert_cmpstr(actions_before, ==, actions_after);
        g_assert_cmpstr(rules_before, ==, rules_after);
        polkit_world_stop(&w);
}

static void skip(gconstpointer reason) {
        g_test_skip(reason);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        if (polkit_test_unavailable()) {
                g_test_add_data_func("/polkit/skipped", polkit_test_unavailable(), skip);
                return g_test_run();
        }
        polkit_test_users_ensure();

        g_test_add_func("/polkit/host-untouched", test_host_untouched);
        g_test_add_func("/polkit/root", test_root);
        g_test_add_func("/polkit/member-with-example-rule", test_member_with_example_rule);
        g_test_add_func("/polkit/outsider", test_outsider);
        g_test_add_func("/polkit/outside-any-session", test_outside_any_session);
        g_test_add_func("/polkit/per-device-rule", test_per_device_rule);
        g_test_add_func("/polkit/without-polkit", test_without_polkit);
        g_test_add_func("/polkit/polkit-crashed", test_polkit_crashed);
        g_test_add_func("/polkit/busctl", test_busctl);
        g_test_add_func("/polkit/spoof/forged-uid-in-arguments", test_forged_uid_in_arguments);
        g_test_add_func("/polkit/spoof/judged-by-connection", test_judged_by_connection);
        g_test_add_func("/polkit/spoof/caller-gone", test_caller_gone);
        g_test_add_func("/polkit/async/bus-served-while-polkit-thinks", test_bus_served_while_polkit_thinks);
        g_test_add_func("/polkit/async/stop-with-pending-checks", test_stop_with_pending_checks);
        return g_test_run();
}
