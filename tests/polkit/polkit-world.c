/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "polkit-world.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-process.h"

#ifndef PROJECT_BUS_POLICY
#error "PROJECT_BUS_POLICY must be defined by meson"
#endif

static char **world_environment(struct polkit_world *w) {
        char **env = g_get_environ();
        env = g_environ_setenv(env, "DBUS_SYSTEM_BUS_ADDRESS", w->bus.address, TRUE);
        env = g_environ_unsetenv(env, "LD_PRELOAD");
        env = g_environ_unsetenv(env, "DBUS_SESSION_BUS_ADDRESS");
        return env;
}

void polkit_world_wait_for_name(struct polkit_world *w, const char *name, gboolean owned) {
        private_bus_wait_for_name(&w->bus, name, owned);
}

void polkit_world_kill_polkitd(struct polkit_world *w) {
        polkitd_kill(&w->bus, &w->polkitd_pid);
}

void polkit_world_start(struct polkit_world *w, const char *const *rules, gboolean run_polkitd) {
        const char *policies[] = { PROJECT_BUS_POLICY, POLKIT_BUS_POLICY, NULL };
        g_autoptr(GError) error = NULL;

        memset(w, 0, sizeof(*w));
        w->tmpdir = g_dir_make_tmp("vfio-pt-polkit-XXXXXX", &error);
        g_assert_no_error(error);
        /* polkitd and the test users must reach the bus socket inside. */
        g_assert_cmpint(g_chmod(w->tmpdir, 0755), ==, 0);

        private_bus_start(&w->bus, w->tmpdir, policies);
        if (run_polkitd)
                w->polkitd_pid = polkitd_start(&w->bus, w->tmpdir, rules);
}

void polkit_world_start_service(struct polkit_world *w, const char *program) {
        g_auto(GStrv) env = world_environment(w);
        g_autoptr(GError) error = NULL;
        const char *argv[] = { program, NULL };
        int log_fd = test_open_log(w->tmpdir, "service.log", &w->service_log);

        env = g_environ_setenv(env, "ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1", FALSE);
        g_assert_true(g_spawn_async_with_fds(NULL, (char **) argv, env, G_SPAWN_DO_NOT_REAP_CHILD,
                                             test_child_die_with_parent, NULL, &w->service_pid, -1, log_fd, log_fd,
                                             &error));
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
        status = test_stop_child(w->service_pid);
        w->service_pid = 0;
        return status;
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
                test_stop_child(w->polkitd_pid);
        private_bus_stop(&w->bus);
        if (w->tmpdir)
                test_remove_tree(w->tmpdir);
        g_free(w->tmpdir);
        g_free(w->service_log);
        memset(w, 0, sizeof(*w));
}

/* ---- callers ---- */

int polkit_world_run_as(struct polkit_world *w, const char *user, const char *const *argv, char **ret_stdout,
                        char **ret_stderr) {
        g_auto(GStrv) env = world_environment(w);
        g_autoptr(GError) error = NULL;
        struct test_identity id;
        int status;

        if (user)
                test_identity_of_user(user, &id);
        g_assert_true(g_spawn_sync("/", (char **) argv, env, G_SPAWN_SEARCH_PATH,
                                   user ? test_child_become : test_child_die_with_parent, user ? &id : NULL,
                                   ret_stdout, ret_stderr, &status, &error));
        g_assert_no_error(error);
        g_assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

GPid polkit_world_spawn_as(struct polkit_world *w, const char *user, const char *const *argv, int *ret_stdout_fd) {
        g_auto(GStrv) env = world_environment(w);
        g_autoptr(GError) error = NULL;
        struct test_identity id;
        GPid pid;

        if (user)
                test_identity_of_user(user, &id);
        g_assert_true(g_spawn_async_with_pipes("/", (char **) argv, env, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                               user ? test_child_become : test_child_die_with_parent,
                                               user ? &id : NULL, &pid, NULL, ret_stdout_fd, NULL, &error));
        g_assert_no_error(error);
        return pid;
}
