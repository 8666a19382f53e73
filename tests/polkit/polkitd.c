/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "polkitd.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-process.h"

#if !defined(POLKITD_PATH) || !defined(POLICY_FILE) || !defined(EXAMPLE_RULES_FILE)
#error "POLKITD_PATH, POLICY_FILE and EXAMPLE_RULES_FILE must be defined by meson"
#endif

/* Where polkitd looks; inside its namespace these show the test's files only. */
#define SYSTEM_ACTIONS_DIR "/usr/share/polkit-1/actions"
#define SYSTEM_RULES_DIR "/etc/polkit-1/rules.d"
#define VENDOR_RULES_DIR "/usr/share/polkit-1/rules.d"

const char polkit_test_active_session_rule[] =
        "polkit.addRule(function(action, subject) {\n"
        "    if (action.id == 'org.vfio.passthrough.grant-other' || action.id == 'org.vfio.passthrough.force')\n"
        "        return polkit.Result.AUTH_ADMIN;\n"
        "    if (action.id.indexOf('org.vfio.passthrough.') == 0)\n"
        "        return polkit.Result.AUTH_ADMIN_KEEP;\n"
        "});\n";

char *polkit_test_example_rule(void) {
        g_autoptr(GError) error = NULL;
        char *text = NULL;

        g_assert_true(g_file_get_contents(EXAMPLE_RULES_FILE, &text, NULL, &error));
        g_assert_no_error(error);
        return text;
}

const char *polkit_test_unavailable(void) {
        /* polkitd must start as root, and the callers must really be other users. */
        if (geteuid() != 0)
                return "needs root (run by .ci/run as root)";
        if (access(POLKITD_PATH, X_OK) < 0)
                return POLKITD_PATH " is missing: install polkitd";
        return NULL;
}

/* ---- test users ---- */

static void run_checked(const char *const *argv) {
        g_autoptr(GError) error = NULL;
        g_autofree char *err = NULL;
        int status;

        g_assert_true(g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                                   NULL, NULL, &err, &status, &error));
        g_assert_no_error(error);
        if (!g_spawn_check_wait_status(status, NULL))
                g_error("%s failed: %s", argv[0], err);
}

static gboolean user_in_group(const char *user, const char *group) {
        struct group *gr = getgrnam(group);
        if (!gr)
                return FALSE;
        for (char **m = gr->gr_mem; m && *m; m++)
                if (strcmp(*m, user) == 0)
                        return TRUE;
        return FALSE;
}

static void member_ensure(const char *user) {
        if (!getpwnam(user))
                run_checked((const char *[]) { "useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                                               "--shell", "/usr/sbin/nologin", "--groups", POLKIT_TEST_GROUP, user,
                                               NULL });
        if (!user_in_group(user, POLKIT_TEST_GROUP))
                run_checked((const char *[]) { "usermod", "--append", "--groups", POLKIT_TEST_GROUP, user, NULL });
}

void polkit_test_users_ensure(void) {
        if (!getgrnam(POLKIT_TEST_GROUP))
                run_checked((const char *[]) { "groupadd", "--system", POLKIT_TEST_GROUP, NULL });
        member_ensure(POLKIT_TEST_MEMBER);
        member_ensure(POLKIT_TEST_MEMBER2);
        if (!getpwnam(POLKIT_TEST_OUTSIDER))
                run_checked((const char *[]) { "useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                                               "--shell", "/usr/sbin/nologin", POLKIT_TEST_OUTSIDER, NULL });
        /* An outsider that is in the group would make every "outsider" case meaningless. */
        g_assert_false(user_in_group(POLKIT_TEST_OUTSIDER, POLKIT_TEST_GROUP));
}

uid_t polkit_test_uid(const char *user) {
        struct passwd *pw = getpwnam(user);
        g_assert_nonnull(pw);
        return pw->pw_uid;
}

/* ---- polkitd ---- */

struct polkitd_mounts {
        char *actions, *rules, *empty;
};

static void bind_read_only(const char *source, const char *target) {
        if (mount(source, target, NULL, MS_BIND, NULL) < 0)
                test_child_fail(target);
        if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
                test_child_fail(target);
}

/* polkitd's private view of the file system: a mount namespace of its own, with propagation
 * to the host cut first, so the bind mounts exist only for polkitd. */
static void enter_polkit_namespace(gpointer data) {
        const struct polkitd_mounts *mounts = data;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (unshare(CLONE_NEWNS) < 0)
                test_child_fail("unshare(CLONE_NEWNS)");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                test_child_fail("making / private");
        bind_read_only(mounts->actions, SYSTEM_ACTIONS_DIR);
        bind_read_only(mounts->rules, SYSTEM_RULES_DIR);
        bind_read_only(mounts->empty, VENDOR_RULES_DIR);
}

static char *make_dir(const char *parent, const char *name) {
        char *path = g_build_filename(parent, name, NULL);
        g_assert_cmpint(g_mkdir(path, 0755), ==, 0);
        return path;
}

static void write_file(const char *dir, const char *name, const char *text) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autoptr(GError) error = NULL;

        g_assert_true(g_file_set_contents(path, text, -1, &error));
        g_assert_no_error(error);
        g_assert_cmpint(g_chmod(path, 0644), ==, 0); /* polkitd reads it as its own user */
}

static char **polkitd_environment(struct private_bus *bus) {
        char **env = g_get_environ();
        env = g_environ_setenv(env, "DBUS_SYSTEM_BUS_ADDRESS", bus->address, TRUE);
        /* umockdev's preload is for the daemon under test only. */
        env = g_environ_unsetenv(env, "LD_PRELOAD");
        env = g_environ_unsetenv(env, "DBUS_SESSION_BUS_ADDRESS");
        return env;
}

GPid polkitd_start(struct private_bus *bus, const char *dir, const char *const *rules) {
        g_autofree char *root = make_dir(dir, "polkit");
        struct polkitd_mounts mounts = {
                .actions = make_dir(root, "actions"),
                .rules = make_dir(root, "rules.d"),
                .empty = make_dir(root, "vendor-rules.d"),
        };
        g_autofree char *policy = NULL;
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) env = polkitd_environment(bus);
        /* polkitd starts as root and switches to the polkitd user itself. */
        const char *argv[] = { POLKITD_PATH, "--no-debug", NULL };
        GPid pid;
        int log_fd;

        g_assert_true(g_file_get_contents(POLICY_FILE, &policy, NULL, &error));
        g_assert_no_error(error);
        write_file(mounts.actions, "org.vfio.passthrough.policy", policy);
        for (const char *const *r = rules; r && r[0]; r += 2)
                write_file(mounts.rules, r[0], r[1]);

        log_fd = test_open_log(dir, "polkitd.log", NULL);
        g_assert_true(g_spawn_async_with_fds(NULL, (char **) argv, env, G_SPAWN_DO_NOT_REAP_CHILD,
                                             enter_polkit_namespace, &mounts, &pid, -1, log_fd, log_fd, &error));
        g_assert_no_error(error);
        close(log_fd);
        g_free(mounts.actions);
        g_free(mounts.rules);
        g_free(mounts.empty);

        private_bus_wait_for_name(bus, POLKIT_BUS_NAME, TRUE);
        return pid;
}

void polkitd_kill(struct private_bus *bus, GPid *pid) {
        int status;

        g_assert_cmpint(*pid, >, 0);
        kill(*pid, SIGKILL);
        waitpid(*pid, &status, 0);
        *pid = 0;
        private_bus_wait_for_name(bus, POLKIT_BUS_NAME, FALSE);
}
