/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "private-bus.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "test-process.h"

#ifndef TEST_DATA_DIR
#error "TEST_DATA_DIR must be defined"
#endif

#define NAME_TIMEOUT_USEC (20 * G_USEC_PER_SEC)

static char *replace(const char *text, const char *token, const char *value) {
        g_auto(GStrv) parts = g_strsplit(text, token, -1);
        return g_strjoinv(value, parts);
}

static char *write_config(const char *dir, const char *socket_path, const char *const *policies) {
        g_autofree char *template = NULL, *with_socket = NULL, *config = NULL;
        g_autoptr(GString) includes = g_string_new(NULL);
        g_autoptr(GError) error = NULL;
        char *path = g_build_filename(dir, "system-bus.conf", NULL);

        for (const char *const *p = policies; p && *p; p++)
                g_string_append_printf(includes, "  <include ignore_missing=\"yes\">%s</include>\n", *p);
        g_assert_true(g_file_get_contents(TEST_DATA_DIR "/system-bus.conf.in", &template, NULL, &error));
        g_assert_no_error(error);
        with_socket = replace(template, "@BUS_SOCKET@", socket_path);
        config = replace(with_socket, "@INCLUDES@\n", includes->str);
        g_assert_true(g_file_set_contents(path, config, -1, &error));
        g_assert_no_error(error);
        return path;
}

void private_bus_start(struct private_bus *bus, const char *dir, const char *const *policies) {
        g_autofree char *socket_path = g_build_filename(dir, "system_bus_socket", NULL);
        g_autofree char *config = write_config(dir, socket_path, policies);
        g_autoptr(GError) error = NULL;
        /* The bus prints its address once it listens: reading it is the readiness signal
         * (the socket file alone exists before listen(), and a connect then is refused). */
        const char *argv[] = { "dbus-daemon", "--nofork", "--nopidfile", "--nosyslog", "--print-address",
                               "--config-file", config, NULL };
        /* umockdev's preload is for the daemon under test only. */
        g_auto(GStrv) env = g_environ_unsetenv(g_get_environ(), "LD_PRELOAD");
        int log_fd = test_open_log(dir, "bus.log", NULL);
        char address[4096];
        int ready[2];
        ssize_t n;

        memset(bus, 0, sizeof(*bus));
        g_assert_cmpint(pipe2(ready, O_CLOEXEC), ==, 0);
        g_assert_true(g_spawn_async_with_fds(NULL, (char **) argv, env, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                             test_child_die_with_parent, NULL, &bus->pid, -1, ready[1], log_fd,
                                             &error));
        g_assert_no_error(error);
        close(log_fd);
        close(ready[1]);
        do
                n = read(ready[0], address, sizeof(address) - 1);
        while (n < 0 && errno == EINTR);
        close(ready[0]);
        if (n <= 0)
                g_error("dbus-daemon did not start; see %s/bus.log", dir);
        bus->address = g_strdup_printf("unix:path=%s", socket_path);

        /* Callers of every test user connect to it. */
        g_assert_cmpint(g_chmod(socket_path, 0777), ==, 0);
        bus->connection = g_dbus_connection_new_for_address_sync(
                bus->address,
                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL,
                NULL, &error);
        g_assert_no_error(error);
}

void private_bus_stop(struct private_bus *bus) {
        g_clear_object(&bus->connection);
        if (bus->pid > 0)
                test_stop_child(bus->pid);
        g_free(bus->address);
        memset(bus, 0, sizeof(*bus));
}

gboolean private_bus_name_has_owner(struct private_bus *bus, const char *name) {
        g_autoptr(GVariant) reply = NULL;
        gboolean owned = FALSE;

        reply = g_dbus_connection_call_sync(bus->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                            "org.freedesktop.DBus", "NameHasOwner", g_variant_new("(s)", name),
                                            G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
        if (reply)
                g_variant_get(reply, "(b)", &owned);
        return owned;
}

void private_bus_wait_for_name(struct private_bus *bus, const char *name, gboolean owned) {
        gint64 deadline = g_get_monotonic_time() + NAME_TIMEOUT_USEC;

        while (private_bus_name_has_owner(bus, name) != owned) {
                if (g_get_monotonic_time() > deadline)
                        g_error("%s was not %s on the test bus in time", name, owned ? "owned" : "released");
                g_usleep(10000);
        }
}
