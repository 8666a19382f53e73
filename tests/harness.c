/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "harness.h"

#include <acl/libacl.h>
#include <fcntl.h>
#include <sys/acl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pci-tree.h"
#include "polkitd.h"
#include "test-process.h"
#include "test-watchdog.h"
#include "vfio-passthrough-bus.h"

/* Paths of the programs under test, set by meson so the tests run the freshly built binaries. */
#ifndef DAEMON_PATH
#error "DAEMON_PATH must be defined"
#endif

#define STARTUP_TIMEOUT_USEC (20 * G_USEC_PER_SEC)

static int open_log(struct harness *h, const char *name, char **ret_path) {
        return test_open_log(h->tmpdir, name, ret_path);
}

static void start_bus(struct harness *h) {
        /* Both policies as installed: only root owns our name, only polkitd owns polkit's. */
        const char *policies[] = { BUS_POLICY_FILE, POLKIT_BUS_POLICY, NULL };
        private_bus_start(&h->bus, h->tmpdir, policies);
}

static gboolean name_has_owner(struct harness *h) {
        return private_bus_name_has_owner(&h->bus, VFIO_PT_BUS_NAME);
}

static char **daemon_environment(struct harness *h) {
        g_autofree char *root = umockdev_testbed_get_root_dir(h->testbed);
        char **env = g_get_environ();
        env = g_environ_setenv(env, "UMOCKDEV_DIR", root, TRUE);
        if (h->options.daemon_preload) {
                g_autofree char *preload = g_strdup_printf("%s:%s", UMOCKDEV_PRELOAD, h->options.daemon_preload);
                env = g_environ_setenv(env, "LD_PRELOAD", preload, TRUE);
        } else
                env = g_environ_setenv(env, "LD_PRELOAD", UMOCKDEV_PRELOAD, TRUE);
        for (const char *const *e = h->options.daemon_env; e && *e; e++) {
                g_autofree char *name = g_strndup(*e, strcspn(*e, "="));
                env = g_environ_setenv(env, name, strchr(*e, '=') + 1, TRUE);
        }
        env = g_environ_setenv(env, "DBUS_SYSTEM_BUS_ADDRESS", h->bus.address, TRUE);
        env = g_environ_setenv(env, "VFIO_PASSTHROUGHD_DEBUG", "1", TRUE);
        if (h->options.capture_journal) {
                g_autofree char *dir = g_build_filename(h->tmpdir, "journal", NULL);
                env = g_environ_setenv(env, "VFIO_PT_TEST_JOURNAL_DIR", dir, TRUE);
        }
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
                                             G_SPAWN_DO_NOT_REAP_CHILD, test_child_die_with_parent, NULL, &h->daemon_pid,
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
                g_usleep(2000); /* fine-grained: the start-up benchmark reads this wait */
        }
}

/* The socket sd_journal_send() writes to, as journald's: /run/systemd/journal/socket in the
 * daemon's namespace (ro-sys-exec binds this directory there). */
static void open_journal(struct harness *h) {
        g_autofree char *dir = g_build_filename(h->tmpdir, "journal", NULL);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
        g_assert_cmpint(snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/socket", dir), <, (int) sizeof(sa.sun_path));
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), ==, 0);
        h->journal_fd = fd;
}

GPtrArray *harness_journal_entries(struct harness *h) {
        GPtrArray *entries = g_ptr_array_new_with_free_func(g_free);
        char buf[65536];
        ssize_t n;

        g_assert_cmpint(h->journal_fd, >=, 0);
        /* The native protocol: KEY=VALUE lines; the daemon's values have no newlines, which would
         * need the binary form. */
        while ((n = recv(h->journal_fd, buf, sizeof(buf) - 1, 0)) > 0) {
                buf[n] = '\0';
                g_ptr_array_add(entries, g_strdup(buf));
        }
        return entries;
}

void harness_start(struct harness *h) {
        static const struct harness_options defaults = {};
        harness_start_with(h, &defaults);
}

#define TEST_WATCHDOG_SEC 300

/* VFIO_PT_TEST_WATCHDOG_SEC shortens it, to see what a hang reports. */
static unsigned watchdog_seconds(void) {
        const char *setting = g_getenv("VFIO_PT_TEST_WATCHDOG_SEC");
        guint64 seconds;

        if (setting && g_ascii_string_to_unsigned(setting, 10, 1, 3600, &seconds, NULL))
                return (unsigned) seconds;
        return TEST_WATCHDOG_SEC;
}

/* From the watchdog's thread, with the test's own thread stuck somewhere: what the daemon and the
 * bus said last. */
static void report_hang(void *userdata) {
        struct harness *h = userdata;

        g_autofree char *bus_log = h->tmpdir ? g_build_filename(h->tmpdir, "bus.log", NULL) : NULL;

        test_watchdog_print_tail("daemon log", h->daemon_log, 80);
        test_watchdog_print_tail("bus log", bus_log, 20);
}

void harness_start_with(struct harness *h, const struct harness_options *options) {
        g_autoptr(GError) error = NULL;

        memset(h, 0, sizeof(*h));
        test_watchdog_arm(watchdog_seconds(), report_hang, h);
        h->options = *options;
        h->tmpdir = g_dir_make_tmp("vfio-pt-test-XXXXXX", &error);
        g_assert_no_error(error);
        /* Callers running as another user must reach the bus socket inside. */
        g_assert_cmpint(g_chmod(h->tmpdir, 0755), ==, 0);

        h->testbed = umockdev_testbed_new();
        if (options->without_default_tree)
                fake_pci_tree_add_skeleton(h->testbed);
        else
                fake_pci_tree_add(h->testbed);
        if (options->populate)
                options->populate(h->testbed, options->populate_data);
        if (options->emulate_kernel) {
                h->state_dir = g_build_filename(h->tmpdir, "state", NULL);
                h->kmod_dir = g_build_filename(h->tmpdir, "no-modules", NULL);
                g_assert_cmpint(g_mkdir(h->state_dir, 0755), ==, 0);
                g_assert_cmpint(g_mkdir(h->kmod_dir, 0755), ==, 0);
                if (!options->without_vfio_pci)
                        fake_pci_driver_add(h->testbed, "vfio-pci");
                h->emulator = kernel_emulator_new(h->testbed, options->cdev_kernel);
        }
        h->journal_fd = -1;
        if (options->capture_journal)
                open_journal(h);
        start_bus(h);
        /* Before the daemon, as on a booted system: its first call may need polkit. */
        if (options->with_polkit)
                h->polkitd_pid = polkitd_start(&h->bus, h->tmpdir, options->polkit_rules);
        start_daemon(h);
}

void harness_kill_polkitd(struct harness *h) {
        polkitd_kill(&h->bus, &h->polkitd_pid);
}

/* The bus must have dropped the old owner before a new one can be recognized. Bounded: a process
 * that inherited the daemon's bus connection would keep the name forever. */
static void wait_name_released(struct harness *h) {
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

        while (name_has_owner(h)) {
                if (g_get_monotonic_time() > deadline)
                        g_error("%s is still owned 30 s after its daemon exited", VFIO_PT_BUS_NAME);
                g_usleep(10000);
        }
}

void harness_restart_daemon(struct harness *h) {
        int status;

        g_assert_cmpint(h->daemon_pid, >, 0);
        kill(h->daemon_pid, SIGKILL);
        g_assert_cmpint(waitpid(h->daemon_pid, &status, 0), ==, h->daemon_pid);
        h->daemon_pid = 0;
        wait_name_released(h);
        start_daemon(h);
}

void harness_set_daemon_env(struct harness *h, const char *const *env) {
        h->options.daemon_env = env;
}

int harness_wait_daemon_exit(struct harness *h) {
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
        int status;

        g_assert_cmpint(h->daemon_pid, >, 0);
        while (waitpid(h->daemon_pid, &status, WNOHANG) != h->daemon_pid) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(10000);
        }
        h->daemon_pid = 0;
        return status;
}

void harness_start_daemon(struct harness *h) {
        g_assert_cmpint(h->daemon_pid, ==, 0);
        wait_name_released(h);
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

void harness_stop_daemon(struct harness *h) {
        int status;

        if (h->daemon_pid <= 0)
                return;
        /* A daemon worker blocked in a hanging unbind gets through, so the daemon can exit. */
        if (h->emulator)
                kernel_emulator_release_all(h->emulator);
        status = test_stop_child(h->daemon_pid);
        h->daemon_pid = 0;
        /* A clean exit on SIGTERM; a sanitizer or valgrind finding shows up as a failure here. */
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                g_autofree char *log = harness_daemon_log(h);
                g_error("vfio-passthroughd did not exit cleanly (status 0x%x):\n%s", status, log);
        }
}

void harness_stop(struct harness *h) {
        harness_stop_daemon(h);
        if (h->polkitd_pid > 0)
                test_stop_child(h->polkitd_pid);
        private_bus_stop(&h->bus);
        g_clear_pointer(&h->emulator, kernel_emulator_free);
        g_clear_object(&h->testbed);
        g_free(h->state_dir);
        g_free(h->kmod_dir);
        if (h->journal_fd >= 0)
                close(h->journal_fd);
        if (h->tmpdir)
                test_remove_tree(h->tmpdir);
        g_free(h->tmpdir);
        g_free(h->daemon_log);
        test_watchdog_disarm();
        memset(h, 0, sizeof(*h));
}

static void append_args(GPtrArray *argv, const char *first, va_list ap) {
        for (const char *a = first; a; a = va_arg(ap, const char *))
                g_ptr_array_add(argv, (char *) a);
        g_ptr_array_add(argv, NULL);
}

/* What the child of run_tool() becomes, looked up before fork. */
struct caller_setup {
        rlim_t memlock;
        gboolean change_identity;
        struct test_identity identity;
};

/* Runs in the child between fork and exec: become the caller the test asked for. */
static void become_caller(gpointer data) {
        const struct caller_setup *setup = data;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (setup->memlock > 0) {
                struct rlimit limit = { setup->memlock, setup->memlock };
                if (setrlimit(RLIMIT_MEMLOCK, &limit) < 0)
                        _exit(125);
        }
        if (setup->change_identity)
                test_become(&setup->identity);
}

/* Runs a client tool as the tests' user would: on the harness' bus, without umockdev. */
static int run_tool(struct harness *h, const struct harness_caller *caller, GPtrArray *argv, char **ret_stdout,
                    char **ret_stderr) {
        g_auto(GStrv) env = g_get_environ();
        g_autoptr(GError) error = NULL;
        struct caller_setup setup = {};
        int status;

        if (caller) {
                setup.memlock = caller->memlock;
                setup.change_identity = caller->uid > 0;
                if (setup.change_identity)
                        test_identity_of_uid(caller->uid, &setup.identity);
        }
        env = g_environ_setenv(env, "DBUS_SYSTEM_BUS_ADDRESS", h->bus.address, TRUE);
        env = g_environ_unsetenv(env, "LD_PRELOAD");
        /* A COLUMNS exported by the shell running the tests would cut the tables they check. */
        env = g_environ_unsetenv(env, "COLUMNS");
        g_assert_true(g_spawn_sync("/", (char **) argv->pdata, env, G_SPAWN_SEARCH_PATH, become_caller, &setup,
                                   ret_stdout, ret_stderr, &status, &error));
        g_assert_no_error(error);
        g_assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

int harness_run_as(struct harness *h, const struct harness_caller *caller, const char *const *argv,
                   char **ret_stdout, char **ret_stderr) {
        g_autoptr(GPtrArray) args = g_ptr_array_new();

        for (const char *const *a = argv; *a; a++)
                g_ptr_array_add(args, (char *) *a);
        g_ptr_array_add(args, NULL);
        return run_tool(h, caller, args, ret_stdout, ret_stderr);
}

char *harness_device_driver(struct harness *h, const char *address) {
        g_autofree char *root = umockdev_testbed_get_root_dir(h->testbed);
        g_autofree char *syspath = fake_pci_device_syspath(address);
        g_autofree char *link = g_strdup_printf("%s%s/driver", root, syspath);
        g_autofree char *target = g_file_read_link(link, NULL);

        return target ? g_path_get_basename(target) : g_strdup("");
}

char *harness_device_override(struct harness *h, const char *address) {
        g_autofree char *root = umockdev_testbed_get_root_dir(h->testbed);
        g_autofree char *syspath = fake_pci_device_syspath(address);
        g_autofree char *path = g_strdup_printf("%s%s/driver_override", root, syspath);
        char *contents = NULL;

        g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
        return g_strchomp(contents);
}

/* Runs prefix followed by the variadic arguments, as caller (NULL: as the test itself). */
static int run_prefixed(struct harness *h, const struct harness_caller *caller, const char *const *prefix,
                        char **ret_stdout, char **ret_stderr, const char *first_arg, va_list ap) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        for (; *prefix; prefix++)
                g_ptr_array_add(argv, (char *) *prefix);
        append_args(argv, first_arg, ap);
        return run_tool(h, caller, argv, ret_stdout, ret_stderr);
}

int harness_run_ctl_as(struct harness *h, const struct harness_caller *caller, char **ret_stdout,
                       char **ret_stderr, const char *first_arg, ...) {
        const char *const prefix[] = { CTL_PATH, NULL };
        va_list ap;
        int r;

        va_start(ap, first_arg);
        r = run_prefixed(h, caller, prefix, ret_stdout, ret_stderr, first_arg, ap);
        va_end(ap);
        return r;
}

int harness_run_busctl_as(struct harness *h, const struct harness_caller *caller, char **ret_stdout,
                          char **ret_stderr, const char *first_arg, ...) {
        g_autofree char *address = g_strdup_printf("--address=%s", h->bus.address);
        const char *const prefix[] = { "busctl", address, NULL };
        va_list ap;
        int r;

        va_start(ap, first_arg);
        r = run_prefixed(h, caller, prefix, ret_stdout, ret_stderr, first_arg, ap);
        va_end(ap);
        return r;
}

GVariant *harness_call(struct harness *h, const char *method, GVariant *parameters, const char *reply_type,
                       GError **error) {
        return g_dbus_connection_call_sync(h->bus.connection, VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE,
                                           method, parameters, reply_type ? G_VARIANT_TYPE(reply_type) : NULL,
                                           G_DBUS_CALL_FLAGS_NONE, 30000, NULL, error);
}

void assert_dbus_error(GError *error, const char *name) {
        g_autofree char *remote = NULL;

        g_assert_nonnull(error);
        remote = g_dbus_error_get_remote_error(error);
        g_test_message("error %s: %s", remote, error->message);
        g_assert_cmpstr(remote, ==, name);
}

static int compare_names(gconstpointer a, gconstpointer b) {
        return g_strcmp0(*(char *const *) a, *(char *const *) b);
}

/* Every entry under dir, with owner, mode and (for files) contents, in a stable order. */
static void describe_tree(GString *out, const char *dir, const char *shown) {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        const char *name;

        while (d && (name = g_dir_read_name(d)))
                g_ptr_array_add(names, g_strdup(name));
        g_ptr_array_sort(names, compare_names);
        for (guint i = 0; i < names->len; i++) {
                g_autofree char *path = g_build_filename(dir, names->pdata[i], NULL);
                g_autofree char *label = g_build_filename(shown, names->pdata[i], NULL);
                g_autofree char *contents = NULL;
                struct stat st;

                g_assert_cmpint(lstat(path, &st), ==, 0);
                g_string_append_printf(out, "%s %u:%u %o", label, st.st_uid, st.st_gid, st.st_mode);
                if (S_ISREG(st.st_mode) && g_file_get_contents(path, &contents, NULL, NULL))
                        g_string_append_printf(out, " [%s]", contents);
                g_string_append_c(out, '\n');
                if (S_ISDIR(st.st_mode))
                        describe_tree(out, path, label);
        }
}

char *harness_snapshot(struct harness *h) {
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree char *root = umockdev_testbed_get_root_dir(h->testbed);
        g_autofree char *dev_vfio = g_build_filename(root, "dev", "vfio", NULL);

        if (h->emulator)
                kernel_emulator_settle(h->emulator);
        for (size_t i = 0; i < fake_pci_tree_size; i++) {
                g_autofree char *driver = harness_device_driver(h, fake_pci_tree[i].address);
                g_autofree char *override = harness_device_override(h, fake_pci_tree[i].address);
                g_string_append_printf(out, "%s driver=%s override=%s\n", fake_pci_tree[i].address, driver, override);
        }
        describe_tree(out, dev_vfio, "/dev/vfio");
        if (h->state_dir)
                describe_tree(out, h->state_dir, "state");
        return g_string_free(g_steal_pointer(&out), FALSE);
}

void harness_remember(struct harness *h, struct harness_before *b) {
        b->snapshot = harness_snapshot(h);
        b->journal = h->emulator ? kernel_emulator_journal(h->emulator) : g_strdup("");
}

void harness_assert_nothing_changed(struct harness *h, struct harness_before *b) {
        g_autofree char *now = harness_snapshot(h);
        g_autofree char *journal = h->emulator ? kernel_emulator_journal(h->emulator) : g_strdup("");

        g_assert_cmpstr(now, ==, b->snapshot);
        g_assert_cmpstr(journal, ==, b->journal);
        g_clear_pointer(&b->snapshot, g_free);
        g_clear_pointer(&b->journal, g_free);
}

static char *node_path(struct harness *h, const char *node) {
        g_autofree char *root = umockdev_testbed_get_root_dir(h->testbed);
        return g_strdup_printf("%s/dev/%s", root, node);
}

uid_t harness_node_owner(struct harness *h, const char *node) {
        g_autofree char *path = node_path(h, node);
        struct stat st;

        g_assert_cmpint(lstat(path, &st), ==, 0);
        return st.st_uid;
}

/* The permissions of the ACL_USER entry for uid, or of every user entry (uid -1: counted). */
static guint acl_users(struct harness *h, const char *node, uid_t uid, gboolean *ret_rw) {
        g_autofree char *path = node_path(h, node);
        acl_t acl = acl_get_file(path, ACL_TYPE_ACCESS);
        acl_permset_t mask = NULL;
        acl_entry_t e;
        guint n = 0;

        g_assert_nonnull(acl);
        for (int id = ACL_FIRST_ENTRY; acl_get_entry(acl, id, &e) == 1; id = ACL_NEXT_ENTRY) {
                acl_tag_t tag;
                g_assert_cmpint(acl_get_tag_type(e, &tag), ==, 0);
                if (tag == ACL_MASK)
                        g_assert_cmpint(acl_get_permset(e, &mask), ==, 0);
        }
        for (int id = ACL_FIRST_ENTRY; acl_get_entry(acl, id, &e) == 1; id = ACL_NEXT_ENTRY) {
                acl_tag_t tag;
                acl_permset_t p;
                uid_t *q;

                g_assert_cmpint(acl_get_tag_type(e, &tag), ==, 0);
                if (tag != ACL_USER)
                        continue;
                n++;
                q = acl_get_qualifier(e);
                if (*q == uid && ret_rw) {
                        g_assert_cmpint(acl_get_permset(e, &p), ==, 0);
                        *ret_rw = acl_get_perm(p, ACL_READ) == 1 && acl_get_perm(p, ACL_WRITE) == 1 && mask &&
                                  acl_get_perm(mask, ACL_READ) == 1 && acl_get_perm(mask, ACL_WRITE) == 1;
                }
                acl_free(q);
        }
        acl_free(acl);
        return n;
}

gboolean harness_node_acl_grants(struct harness *h, const char *node, uid_t uid) {
        gboolean rw = FALSE;
        (void) acl_users(h, node, uid, &rw);
        return rw;
}

guint harness_node_acl_users(struct harness *h, const char *node) {
        return acl_users(h, node, (uid_t) -1, NULL);
}

char *harness_record(struct harness *h, const char *address) {
        g_autofree char *path = g_build_filename(h->state_dir, address, NULL);
        char *text = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return NULL;
        return text;
}

void harness_write_record(struct harness *h, const char *address, const char *text) {
        g_autofree char *path = g_build_filename(h->state_dir, address, NULL);
        g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

void harness_set_record_owner(struct harness *h, const char *address, uid_t uid) {
        g_autofree char *text = harness_record(h, address);
        g_autofree char *owner = g_strdup_printf("owner_uid=%u", (unsigned) uid);
        g_autoptr(GRegex) re = g_regex_new("^owner_uid=[0-9]+$", G_REGEX_MULTILINE, 0, NULL);
        g_autofree char *edited = NULL;

        g_assert_nonnull(text);
        edited = g_regex_replace_literal(re, text, -1, 0, owner, 0, NULL);
        g_assert_cmpstr(edited, !=, text);
        harness_write_record(h, address, edited);
}
