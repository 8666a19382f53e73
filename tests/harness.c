/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pci-tree.h"
#include "vfio-passthrough-bus.h"

/* Paths of the programs under test, set by meson so the tests run the freshly built binaries. */
#ifndef DAEMON_PATH
#error "DAEMON_PATH must be defined"
#endif

#define STARTUP_TIMEOUT_USEC (20 * G_USEC_PER_SEC)

/* Children of a test that aborts must not outlive it and hold its output open. */
static void die_with_parent(gpointer data) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static int open_log(struct harness *h, const char *name, char **ret_path) {
        g_autofree char *path = g_build_filename(h->tmpdir, name, NULL);
        int fd = g_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        g_assert_cmpint(fd, >=, 0);
        if (ret_path)
                *ret_path = g_steal_pointer(&path);
        return fd;
}

static char *write_bus_config(const char *tmpdir, const char *socket_path) {
        g_autofree char *template = NULL;
        g_autofree char *config = NULL;
        g_autoptr(GError) error = NULL;
        char *path = g_build_filename(tmpdir, "system-bus.conf", NULL);
        g_auto(GStrv) parts = NULL;

        g_assert_true(g_file_get_contents(TEST_DATA_DIR "/system-bus.conf.in", &template, NULL, &error));
        g_assert_no_error(error);
        parts = g_strsplit(template, "@BUS_SOCKET@", -1);
        config = g_strjoinv(socket_path, parts);
        g_strfreev(parts);
        parts = g_strsplit(config, "@POLICY_FILE@", -1);
        g_free(config);
        config = g_strjoinv(BUS_POLICY_FILE, parts);

        g_assert_true(g_file_set_contents(path, config, -1, &error));
        g_assert_no_error(error);
        return path;
}

static void start_bus(struct harness *h) {
        g_autofree char *socket_path = g_build_filename(h->tmpdir, "system_bus_socket", NULL);
        g_autofree char *config = write_bus_config(h->tmpdir, socket_path);
        g_autoptr(GError) error = NULL;
        /* The bus prints its address once it listens: reading it is the readiness signal
         * (the socket file alone exists before listen(), and a connect then is refused). */
        const char *argv[] = { "dbus-daemon", "--nofork", "--nopidfile", "--nosyslog", "--print-address",
                               "--config-file", config, NULL };
        g_auto(GStrv) env = g_environ_unsetenv(g_get_environ(), "LD_PRELOAD");
        int log_fd = open_log(h, "bus.log", NULL);
        char address[4096];
        int ready[2];
        ssize_t n;

        g_assert_cmpint(pipe2(ready, O_CLOEXEC), ==, 0);
        g_assert_true(g_spawn_async_with_fds(NULL, (char **) argv, env, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                             die_with_parent, NULL, &h->bus_pid, -1, ready[1], log_fd, &error));
        g_assert_no_error(error);
        close(log_fd);
        close(ready[1]);
        do
                n = read(ready[0], address, sizeof(address) - 1);
        while (n < 0 && errno == EINTR);
        close(ready[0]);
        if (n <= 0)
                g_error("dbus-daemon did not start; see %s/bus.log", h->tmpdir);
        h->bus_address = g_strdup_printf("unix:path=%s", socket_path);

        g_assert_cmpint(g_chmod(socket_path, 0777), ==, 0);
        h->connection = g_dbus_connection_new_for_address_sync(
                h->bus_address,
                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                NULL, NULL, &error);
        g_assert_no_error(error);
}

static gboolean name_has_owner(struct harness *h) {
        g_autoptr(GVariant) reply = NULL;
        gboolean owned = FALSE;

        reply = g_dbus_connection_call_sync(h->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                            "org.freedesktop.DBus", "NameHasOwner",
                                            g_variant_new("(s)", VFIO_PT_BUS_NAME), G_VARIANT_TYPE("(b)"),
                                            G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
        if (reply)
                g_variant_get(reply, "(b)", &owned);
        return owned;
}

static char **daemon_environment(struct harness *h) {
        g_autofree char *root = umockdev_testbed_get_root_dir(h->testbed);
        char **env = g_get_environ();
        env = g_environ_setenv(env, "UMOCKDEV_DIR", root, TRUE);
        env = g_environ_setenv(env, "LD_PRELOAD", UMOCKDEV_PRELOAD, TRUE);
        env = g_environ_setenv(env, "DBUS_SYSTEM_BUS_ADDRESS", h->bus_address, TRUE);
        env = g_environ_setenv(env, "VFIO_PASSTHROUGHD_DEBUG", "1", TRUE);
        /* The sanitizer runtime would insist on being first in LD_PRELOAD. */
        env = g_environ_setenv(env, "ASAN_OPTIONS", "verify_asan_link_order=0:detect_leaks=1:abort_on_error=1", FALSE);
        return env;
}

static void start_daemon(struct harness *h) {
        g_auto(GStrv) env = daemon_environment(h);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        const char *wrapper = g_getenv("VFIO_PT_TEST_DAEMON_WRAPPER"); /* e.g. valgrind */
        gint64 deadline;
        int log_fd;

        /* A restarted daemon appends to the same log, so a test sees both lives. */
        if (h->daemon_log) {
                log_fd = g_open(h->daemon_log, O_WRONLY | O_APPEND | O_CLOEXEC, 0);
                g_assert_cmpint(log_fd, >=, 0);
        } else
                log_fd = open_log(h, "daemon.log", &h->daemon_log);

        g_ptr_array_add(argv, g_strdup(RO_SYS_EXEC_PATH));
        if (wrapper && *wrapper) {
                g_auto(GStrv) words = NULL;
                g_assert_true(g_shell_parse_argv(wrapper, NULL, &words, &error));
                for (char **w = words; *w; w++)
                        g_ptr_array_add(argv, g_strdup(*w));
        }
        g_ptr_array_add(argv, g_strdup(DAEMON_PATH));
        if (h->options.emulate_kernel) {
                g_ptr_array_add(argv, g_strdup_printf("--state-dir=%s", h->state_dir));
                g_ptr_array_add(argv, g_strdup_printf("--kmod-dir=%s", h->kmod_dir));
        }
        if (h->options.operation_timeout > 0)
                g_ptr_array_add(argv, g_strdup_printf("--operation-timeout=%d", h->options.operation_timeout));
        g_ptr_array_add(argv, NULL);

        g_assert_true(g_spawn_async_with_fds(NULL, (char **) argv->pdata, env,
                                             G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent, NULL, &h->daemon_pid,
                                             -1, log_fd, log_fd, &error));
        g_assert_no_error(error);
        close(log_fd);

        deadline = g_get_monotonic_time() + STARTUP_TIMEOUT_USEC * (wrapper ? 6 : 1);
        while (!name_has_owner(h)) {
                int status;
                if (waitpid(h->daemon_pid, &status, WNOHANG) == h->daemon_pid) {
                        g_autofree char *log = harness_daemon_log(h);
                        h->daemon_pid = 0;
                        g_error("vfio-passthroughd exited during start-up (status %d):\n%s", status, log);
                }
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(20000);
        }
}

void harness_start(struct harness *h) {
        static const struct harness_options defaults = {};
        harness_start_with(h, &defaults);
}

void harness_start_with(struct harness *h, const struct harness_options *options) {
        g_autoptr(GError) error = NULL;

        memset(h, 0, sizeof(*h));
        h->options = *options;
        h->tmpdir = g_dir_make_tmp("vfio-pt-test-XXXXXX", &error);
        g_assert_no_error(error);
        /* Callers running as another user must reach the bus socket inside. */
        g_assert_cmpint(g_chmod(h->tmpdir, 0755), ==, 0);

        h->testbed = umockdev_testbed_new();
        fake_pci_tree_add(h->testbed);
        if (options->emulate_kernel) {
                h->state_dir = g_build_filename(h->tmpdir, "state", NULL);
                h->kmod_dir = g_build_filename(h->tmpdir, "no-modules", NULL);
                g_assert_cmpint(g_mkdir(h->state_dir, 0755), ==, 0);
                g_assert_cmpint(g_mkdir(h->kmod_dir, 0755), ==, 0);
                if (!options->without_vfio_pci)
                        fake_pci_driver_add(h->testbed, "vfio-pci");
                h->emulator = kernel_emulator_new(h->testbed, options->cdev_kernel);
        }
        start_bus(h);
        start_daemon(h);
}

void harness_restart_daemon(struct harness *h) {
        int status;

        g_assert_cmpint(h->daemon_pid, >, 0);
        kill(h->daemon_pid, SIGKILL);
        g_assert_cmpint(waitpid(h->daemon_pid, &status, 0), ==, h->daemon_pid);
        h->daemon_pid = 0;
        /* The bus must have dropped the old owner before a new one can be recognized. */
        while (name_has_owner(h))
                g_usleep(10000);
        start_daemon(h);
}

gboolean harness_daemon_alive(struct harness *h) {
        int status;
        return h->daemon_pid > 0 && waitpid(h->daemon_pid, &status, WNOHANG) == 0;
}

char *harness_daemon_log(struct harness *h) {
        char *log = NULL;
        if (!g_file_get_contents(h->daemon_log, &log, NULL, NULL))
                return g_strdup("(no log)");
        return log;
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

/* The harness' scratch directory: files, the bus socket, the state directory. */
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

void harness_stop_daemon(struct harness *h) {
        int status;

        if (h->daemon_pid <= 0)
                return;
        /* A daemon worker blocked in a hanging unbind gets through, so the daemon can exit. */
        if (h->emulator)
                kernel_emulator_release_all(h->emulator);
        status = stop_child(h->daemon_pid);
        h->daemon_pid = 0;
        /* A clean exit on SIGTERM; a sanitizer or valgrind finding shows up as a failure here. */
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                g_autofree char *log = harness_daemon_log(h);
                g_error("vfio-passthroughd did not exit cleanly (status 0x%x):\n%s", status, log);
        }
}

void harness_stop(struct harness *h) {
        harness_stop_daemon(h);
        g_clear_object(&h->connection);
        if (h->bus_pid > 0)
                stop_child(h->bus_pid);
        g_clear_pointer(&h->emulator, kernel_emulator_free);
        g_clear_object(&h->testbed);
        g_free(h->state_dir);
        g_free(h->kmod_dir);
        if (h->tmpdir)
                remove_tree(h->tmpdir);
        g_free(h->tmpdir);
        g_free(h->bus_address);
        g_free(h->daemon_log);
        memset(h, 0, sizeof(*h));
}

static void append_args(GPtrArray *argv, const char *first, va_list ap) {
        for (const char *a = first; a; a = va_arg(ap, const char *))
                g_ptr_array_add(argv, (char *) a);
        g_ptr_array_add(argv, NULL);
}

/* Runs in the child between fork and exec: become the caller the test asked for. */
static void become_caller(gpointer data) {
        const struct harness_caller *caller = data;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (!caller)
                return;
        if (caller->memlock > 0) {
                struct rlimit limit = { caller->memlock, caller->memlock };
                if (setrlimit(RLIMIT_MEMLOCK, &limit) < 0)
                        _exit(125);
        }
        if (caller->uid > 0 && (setgroups(0, NULL) < 0 || setgid(caller->uid) < 0 || setuid(caller->uid) < 0))
                _exit(125);
}

/* Runs a client tool as the tests' user would: on the harness' bus, without umockdev. */
static int run_tool(struct harness *h, const struct harness_caller *caller, GPtrArray *argv, char **ret_stdout,
                    char **ret_stderr) {
        g_auto(GStrv) env = g_get_environ();
        g_autoptr(GError) error = NULL;
        int status;

        env = g_environ_setenv(env, "DBUS_SYSTEM_BUS_ADDRESS", h->bus_address, TRUE);
        env = g_environ_unsetenv(env, "LD_PRELOAD");
        g_assert_true(g_spawn_sync(NULL, (char **) argv->pdata, env, G_SPAWN_SEARCH_PATH, become_caller,
                                   (gpointer) caller, ret_stdout, ret_stderr, &status, &error));
        g_assert_no_error(error);
        g_assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

int harness_run_ctl(struct harness *h, char **ret_stdout, char **ret_stderr, const char *first_arg, ...) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        va_list ap;

        g_ptr_array_add(argv, (char *) CTL_PATH);
        va_start(ap, first_arg);
        append_args(argv, first_arg, ap);
        va_end(ap);
        return run_tool(h, NULL, argv, ret_stdout, ret_stderr);
}

int harness_run_ctl_as(struct harness *h, const struct harness_caller *caller, char **ret_stdout,
                       char **ret_stderr, const char *first_arg, ...) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        va_list ap;

        g_ptr_array_add(argv, (char *) CTL_PATH);
        va_start(ap, first_arg);
        append_args(argv, first_arg, ap);
        va_end(ap);
        return run_tool(h, caller, argv, ret_stdout, ret_stderr);
}

int harness_run_busctl_as(struct harness *h, const struct harness_caller *caller, char **ret_stdout,
                          char **ret_stderr, const char *first_arg, ...) {
        g_autofree char *address = g_strdup_printf("--address=%s", h->bus_address);
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        va_list ap;

        g_ptr_array_add(argv, (char *) "busctl");
        g_ptr_array_add(argv, address);
        va_start(ap, first_arg);
        append_args(argv, first_arg, ap);
        va_end(ap);
        return run_tool(h, caller, argv, ret_stdout, ret_stderr);
}

int harness_run_busctl(struct harness *h, char **ret_stdout, char **ret_stderr, const char *first_arg, ...) {
        g_autofree char *address = g_strdup_printf("--address=%s", h->bus_address);
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        va_list ap;

        g_ptr_array_add(argv, (char *) "busctl");
        g_ptr_array_add(argv, address);
        va_start(ap, first_arg);
        append_args(argv, first_arg, ap);
        va_end(ap);
        return run_tool(h, NULL, argv, ret_stdout, ret_stderr);
}

GVariant *harness_call(struct harness *h, const char *method, GVariant *parameters, const char *reply_type,
                       GError **error) {
        return g_dbus_connection_call_sync(h->connection, VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE,
                                           method, parameters, reply_type ? G_VARIANT_TYPE(reply_type) : NULL,
                                           G_DBUS_CALL_FLAGS_NONE, 30000, NULL, error);
}
