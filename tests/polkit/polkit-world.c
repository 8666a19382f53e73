/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "polkit-world.h"

#include <errno.h>
#include <fcntl.h>
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

#ifndef POLKITD_PATH
#define POLKITD_PATH "/usr/lib/polkit-1/polkitd"
#endif
#ifndef POLKIT_BUS_POLICY
#define POLKIT_BUS_POLICY "/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf"
#endif
#if !defined(POLICY_FILE) || !defined(PROJECT_BUS_POLICY) || !defined(BUS_CONFIG_TEMPLATE)
#error "POLICY_FILE, PROJECT_BUS_POLICY and BUS_CONFIG_TEMPLATE must be defined by meson"
#endif

/* Where polkitd looks; inside its namespace these show the test's files only. */
#define SYSTEM_ACTIONS_DIR "/usr/share/polkit-1/actions"
#define SYSTEM_RULES_DIR "/etc/polkit-1/rules.d"
#define VENDOR_RULES_DIR "/usr/share/polkit-1/rules.d"

#define STARTUP_TIMEOUT_USEC (20 * G_USEC_PER_SEC)

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

void polkit_test_users_ensure(void) {
        if (!getgrnam(POLKIT_TEST_GROUP))
                run_checked((const char *[]) { "groupadd", "--system", POLKIT_TEST_GROUP, NULL });
        if (!getpwnam(POLKIT_TEST_MEMBER))
                run_checked((const char *[]) { "useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                                               "--shell", "/usr/sbin/nologin", "--groups", POLKIT_TEST_GROUP,
                                               POLKIT_TEST_MEMBER, NULL });
        if (!user_in_group(POLKIT_TEST_MEMBER, POLKIT_TEST_GROUP))
                run_checked((const char *[]) { "usermod", "--append", "--groups", POLKIT_TEST_GROUP,
                                               POLKIT_TEST_MEMBER, NULL });
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

/* ---- children ---- */

static void fail_in_child(const char *what) {
        /* Only async-signal-safe calls between fork and exec. */
        const char *reason = strerror(errno);
        (void) !write(STDERR_FILENO, what, strlen(what));
        (void) !write(STDERR_FILENO, ": ", 2);
        (void) !write(STDERR_FILENO, reason, strlen(reason));
        (void) !write(STDERR_FILENO, "\n", 1);
        _exit(127);
}

static void die_with_parent(gpointer data) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
}

struct identity {
        uid_t uid;
        gid_t gid;
        gid_t groups[64];
        int n_groups;
};

static void become(gpointer data) {
        const struct identity *id = data;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (setgroups(id->n_groups, id->groups) < 0)
                fail_in_child("setgroups");
        if (setresgid(id->gid, id->gid, id->gid) < 0)
                fail_in_child("setresgid");
        if (setresuid(id->uid, id->uid, id->uid) < 0)
                fail_in_child("setresuid");
}

/* Looked up before fork: NSS is not safe between fork and exec. */
static void identity_of(const char *user, struct identity *id) {
        struct passwd *pw = getpwnam(user);

        g_assert_nonnull(pw);
        id->uid = pw->pw_uid;
        id->gid = pw->pw_gid;
        id->n_groups = G_N_ELEMENTS(id->groups);
        g_assert_cmpint(getgrouplist(user, pw->pw_gid, id->groups, &id->n_groups), >=, 0);
}

struct polkitd_mounts {
        char *actions, *rules, *empty;
};

static void bind_read_only(const char *source, const char *target) {
        if (mount(source, target, NULL, MS_BIND, NULL) < 0)
                fail_in_child(target);
        if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
                fail_in_child(target);
}

/* polkitd's private view of the file system: a mount namespace of its own, with propagation
 * to the host cut first, so the bind mounts exist only for polkitd. */
static void enter_polkit_namespace(gpointer data) {
        const struct polkitd_mounts *mounts = data;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (unshare(CLONE_NEWNS) < 0)
                fail_in_child("unshare(CLONE_NEWNS)");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                fail_in_child("making / private");
        bind_read_only(mounts->actions, SYSTEM_ACTIONS_DIR);
        bind_read_only(mounts->rules, SYSTEM_RULES_DIR);
        bind_read_only(mounts->empty, VENDOR_RULES_DIR);
}

static int open_log(struct polkit_world *w, const char *name, char **ret_path) {
        g_autofree char *path = g_build_filename(w->tmpdir, name, NULL);
        int fd = g_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        g_assert_cmpint(fd, >=, 0);
        if (ret_path)
                *ret_path = g_steal_pointer(&path);
        return fd;
}

static char **world_environment(struct polkit_world *w) {
        char **env = g_get_environ();
        env = g_environ_setenv(env, "DBUS_SYSTEM_BUS_ADDRESS", w->bus_address, TRUE);
        env = g_environ_unsetenv(env, "LD_PRELOAD");
        env = g_environ_unsetenv(env, "DBUS_SESSION_BUS_ADDRESS");
        return env;
}

/* Stops a child and returns its wait status; a child that ignores SIGTERM gets SIGKILL. */
static int stop_child(GPid pid) {
        int status = 0;

        kill(pid, SIGTERM);
        for (int i = 0; i < 1000; i++) {
                if (waitpid(pid, &status, WNOHANG) == pid)
                        return status;
                g_usleep(10000);
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return status;
}

static char *make_dir(struct polkit_world *w, const char *name) {
        char *path = g_build_filename(w->tmpdir, name, NULL);
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

/* ---- the bus ---- */

static char *replace(const char *text, const char *token, const char *value) {
        g_auto(GStrv) parts = g_strsplit(text, token, -1);
        return g_strjoinv(value, parts);
}

static void start_bus(struct polkit_world *w) {
        g_autofree char *socket_path = g_build_filename(w->tmpdir, "system_bus_socket", NULL);
        g_autofree char *config_path = g_build_filename(w->tmpdir, "bus.conf", NULL);
        g_autofree char *template = NULL, *step1 = NULL, *step2 = NULL, *config = NULL;
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) env = g_environ_unsetenv(g_get_environ(), "LD_PRELOAD");
        const char *argv[] = { "dbus-daemon", "--nofork", "--nopidfile", "--nosyslog", "--config-file", config_path,
                               NULL };
        gint64 deadline = g_get_monotonic_time() + STARTUP_TIMEOUT_USEC;
        int log_fd;

        g_assert_true(g_file_get_contents(BUS_CONFIG_TEMPLATE, &template, NULL, &error));
        g_assert_no_error(error);
        step1 = replace(template, "@BUS_SOCKET@", socket_path);
        step2 = replace(step1, "@PROJECT_POLICY@", PROJECT_BUS_POLICY);
        config = replace(step2, "@POLKIT_POLICY@", POLKIT_BUS_POLICY);
        g_assert_true(g_file_set_contents(config_path, config, -1, &error));
        g_assert_no_error(error);

        log_fd = open_log(w, "bus.log", NULL);
        g_assert_true(g_spawn_async_with_fds(NULL, (char **) argv, env, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                             die_with_parent, NULL, &w->bus_pid, -1, log_fd, log_fd, &error));
        g_assert_no_error(error);
        close(log_fd);
        w->bus_address = g_strdup_printf("unix:path=%s", socket_path);

        while (!g_file_test(socket_path, G_FILE_TEST_EXISTS)) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(10000);
        }
        w->connection = g_dbus_connection_new_for_address_sync(
                w->bus_address,
                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL,
                NULL, &error);
        g_assert_no_error(error);
}

static gboolean name_has_owner(struct polkit_world *w, const char *name) {
        g_autoptr(GVariant) reply = NULL;
        gboolean owned = FALSE;

        reply = g_dbus_connection_call_sync(w->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                            "org.freedesktop.DBus", "NameHasOwner", g_variant_new("(s)", name),
                                            G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
        if (reply)
                g_variant_get(reply, "(b)", &owned);
        return owned;
}

void polkit_world_wait_for_name(struct polkit_world *w, const char *name, gboolean owned) {
        gint64 deadline = g_get_monotonic_time() + STARTUP_TIMEOUT_USEC;

        while (name_has_owner(w, name) != owned) {
                if (g_get_monotonic_time() > deadline)
                        g_error("%s was not %s on the test bus in time", name, owned ? "owned" : "released");
                g_usleep(20000);
        }
}

/* ---- polkitd ---- */

static void start_polkitd(struct polkit_world *w, const char *const *rules) {
        struct polkitd_mounts mounts = {
                .actions = make_dir(w, "actions"),
                .rules = make_dir(w, "rules.d"),
                .empty = make_dir(w, "vendor-rules.d"),
        };
        g_autofree char *policy = NULL;
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) env = world_environment(w);
        /* polkitd starts as root and switches to the polkitd user itself. */
        const char *argv[] = { POLKITD_PATH, "--no-debug", NULL };
        int log_fd;

        g_assert_true(g_file_get_contents(POLICY_FILE, &policy, NULL, &error));
        g_assert_no_error(error);
        write_file(mounts.actions, "org.vfio.passthrough.policy", policy);
        for (const char *const *r = rules; r && r[0]; r += 2)
                write_file(mounts.rules, r[0], r[1]);

        log_fd = open_log(w, "polkitd.log", NULL);
        g_assert_true(g_spawn_async_with_fds(NULL, (char **) argv, env, G_SPAWN_DO_NOT_REAP_CHILD,
                                             enter_polkit_namespace, &mounts, &w->polkitd_pid, -1, log_fd, log_fd,
                                             &error));
        g_assert_no_error(error);
        close(log_fd);
        g_free(mounts.actions);
        g_free(mounts.rules);
        g_free(mounts.empty);

        polkit_world_wait_for_name(w, "org.freedesktop.PolicyKit1", TRUE);
}

void polkit_world_kill_polkitd(struct polkit_world *w) {
        int status;

        g_assert_cmpint(w->polkitd_pid, >, 0);
        kill(w->polkitd_pid, SIGKILL);
        waitpid(w->polkitd_pid, &status, 0);
        w->polkitd_pid = 0;
        polkit_world_wait_for_name(w, "org.freedesktop.PolicyKit1", FALSE);
}

/* ---- the world ---- */

void polkit_world_start(struct polkit_world *w, const char *const *rules, gboolean run_polkitd) {
        g_autoptr(GError) error = NULL;

        memset(w, 0, sizeof(*w));
        w->tmpdir = g_dir_make_tmp("vfio-pt-polkit-XXXXXX", &error);
        g_assert_no_error(error);
        /* polkitd and the test users must reach the bus socket inside. */
        g_assert_cmpint(g_chmod(w->tmpdir, 0755), ==, 0);

        start_bus(w);
        if (run_polkitd)
                start_polkitd(w, rules);
}

void polkit_world_start_service(struct polkit_world *w, const char *program) {
        g_auto(GStrv) env = world_environment(w);
        g_autoptr(GError) error = NULL;
        const char *argv[] = { program, NULL };
        int log_fd = open_log(w, "service.log", &w->service_log);

        env = g_environ_setenv(env, "ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1", FALSE);
        g_assert_true(g_spawn_async_with_fds(NULL, (char **) argv, env, G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent,
                                             NULL, &w->service_pid, -1, log_fd, log_fd, &error));
        g_assert_no_error(error);
        close(log_fd);
        polkit_world_wait_for_name(w, "org.vfio.Passthrough1", TRUE);
}

char *polkit_world_service_log(struct polkit_world *w) {
        char *log = NULL;
        if (!w->service_log || !g_file_get_contents(w->service_log, &log, NULL, NULL))
                return g_strdup("");
        return log;
}

int polkit_world_stop_service(struct polkit_world *w) {
        int status;

        g_assert_cmpint(w->service_pid, >, 0);
        status = stop_child(w->service_pid);
        w->service_pid = 0;
        return status;
}

static void remove_tree(const char *path) {
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
                g_autofree char *child = g_build_filename(path, name, NULL);
                if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
                        remove_tree(child);
                else
                        g_unlink(child);
        }
        g_rmdir(path);
}

void polkit_world_stop(struct polkit_world *w) {
        if (w->service_pid > 0) {
                int status = polkit_world_stop_service(w);
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        g_autofree char *log = polkit_world_service_log(w);
                        g_error("the service did not exit cleanly (status 0x%x):\n%s", status, log);
                }
        }
        if (w->polkitd_pid > 0)
                stop_child(w->polkitd_pid);
        g_clear_object(&w->connection);
        if (w->bus_pid > 0)
                stop_child(w->bus_pid);
        if (w->tmpdir)
                remove_tree(w->tmpdir);
        g_free(w->tmpdir);
        g_free(w->bus_address);
        g_free(w->service_log);
        memset(w, 0, sizeof(*w));
}

/* ---- callers ---- */

int polkit_world_run_as(struct polkit_world *w, const char *user, const char *const *argv, char **ret_stdout,
                        char **ret_stderr) {
        g_auto(GStrv) env = world_environment(w);
        g_autoptr(GError) error = NULL;
        struct identity id;
        int status;

        if (user)
                identity_of(user, &id);
        g_assert_true(g_spawn_sync("/", (char **) argv, env, G_SPAWN_SEARCH_PATH, user ? become : die_with_parent,
                                   user ? &id : NULL, ret_stdout, ret_stderr, &status, &error));
        g_assert_no_error(error);
        g_assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

GPid polkit_world_spawn_as(struct polkit_world *w, const char *user, const char *const *argv, int *ret_stdout_fd) {
        g_auto(GStrv) env = world_environment(w);
        g_autoptr(GError) error = NULL;
        struct identity id;
        GPid pid;

        if (user)
                identity_of(user, &id);
        g_assert_true(g_spawn_async_with_pipes("/", (char **) argv, env, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                               user ? become : die_with_parent, user ? &id : NULL, &pid, NULL,
                                               ret_stdout_fd, NULL, &error));
        g_assert_no_error(error);
        return pid;
}
