/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-passthroughctl as a user runs it, against the real daemon on a private bus over the fake
 * PCI tree: the table, the group report, the JSON, and errors as one line with the right status. */
#include <json-glib/json-glib.h>
#include <pty.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "pci-tree.h"

typedef struct {
        struct harness h;
} Fixture;

/* The read-only tree is enough for list and show; the verbs that change devices need the
 * kernel emulator. */
static const struct harness_options emulated_kernel = { .emulate_kernel = TRUE };

#define NOBODY 65534

static void fixture_setup(Fixture *f, gconstpointer data) {
        if (data)
                harness_start_with(&f->h, data);
        else
                harness_start(&f->h);
}

/* Runs vfio-passthroughctl on the harness' bus like harness_run_ctl(), with env (NAME=VALUE, …,
 * NULL) on top of the test's environment: a bus address, a terminal width, a pager. */
static int run_ctl_env(struct harness *h, const char *const *env, char **ret_stdout, char **ret_stderr,
                       const char *first_arg, ...) G_GNUC_NULL_TERMINATED;
static int run_ctl_env(struct harness *h, const char *const *env, char **ret_stdout, char **ret_stderr,
                       const char *first_arg, ...) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_auto(GStrv) envp = g_get_environ();
        g_autoptr(GError) error = NULL;
        va_list ap;
        int status;

        g_ptr_array_add(argv, (char *) CTL_PATH);
        va_start(ap, first_arg);
        for (const char *a = first_arg; a; a = va_arg(ap, const char *))
                g_ptr_array_add(argv, (char *) a);
        va_end(ap);
        g_ptr_array_add(argv, NULL);

        envp = g_environ_setenv(envp, "DBUS_SYSTEM_BUS_ADDRESS", h->bus.address, TRUE);
        envp = g_environ_unsetenv(envp, "LD_PRELOAD");
        for (; env && *env; env++) {
                g_auto(GStrv) kv = g_strsplit(*env, "=", 2);
                envp = g_environ_setenv(envp, kv[0], kv[1], TRUE);
        }
        g_assert_true(g_spawn_sync("/", (char **) argv->pdata, envp, 0, NULL, NULL, ret_stdout, ret_stderr, &status,
                                   &error));
        g_assert_no_error(error);
        g_assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        g_assert_true(f->h.daemon_pid == 0 || harness_daemon_alive(&f->h));
        harness_stop(&f->h);
}

static char *find_line(const char *text, const char *prefix) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++)
                if (g_str_has_prefix(*l, prefix))
                        return g_strdup(*l);
        return NULL;
}

static void test_list_table(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;
        g_auto(GStrv) lines = NULL;
        int status;

        status = harness_run_ctl(&f->h, &out, &err, "list", NULL);
        g_assert_cmpint(status, ==, 0);
        g_assert_cmpstr(err, ==, "");

        lines = g_strsplit(out, "\n", -1);
        g_assert_true(g_str_has_prefix(lines[0], "ADDRESS"));
        g_assert_nonnull(strstr(lines[0], "DRIVER"));
        g_assert_nonnull(strstr(lines[0], "GROUP"));
        g_assert_nonnull(strstr(lines[0], "IN USE"));
        /* Header, one row per device, and the final empty string after the last newline. */
        g_assert_cmpuint(g_strv_length(lines), ==, fake_pci_tree_size + 2);

        for (size_t i = 0; i < fake_pci_tree_size; i++) {
                const struct fake_pci_device *d = &fake_pci_tree[i];
                g_autofree char *row = find_line(out, d->address);
                g_autofree char *ids = g_strdup_printf(" %04x:%04x ", d->vendor, d->device);
                g_autofree char *group = g_strdup_printf(" %d", d->iommu_group);
                /* The boot GPU and the bridges are the tree's only devices the host needs. */
                gboolean in_use = d->boot_vga == 1 || (d->class_code >> 16) == 0x06;
                g_autofree char *in_use_cell = g_strdup_printf(" %s +%d$", in_use ? "yes" : "-", d->iommu_group);
                g_auto(GStrv) words = NULL;

                g_test_message("row %s", row);
                g_assert_nonnull(row);
                g_assert_nonnull(strstr(row, ids));
                g_assert_true(g_str_has_suffix(g_strchomp(row), group));
                g_assert_true(g_regex_match_simple(in_use_cell, row, 0, 0));
                words = g_strsplit_set(row, " ", -1);
                g_assert_true(g_strv_contains((const char *const *) words, d->driver ?: "-"));
        }

        /* Names from the hardware database, as lspci shows them. */
        {
                g_autofree char *gpu = find_line(out, "0000:01:00.0");
                g_assert_nonnull(strstr(gpu, "NVIDIA Corporation GP104 [GeForce GTX 1080]"));
                g_assert_nonnull(strstr(gpu, "VGA compatible controller"));
        }
}

static JsonNode *parse_json(const char *text) {
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;

        g_assert_true(json_parser_load_from_data(parser, text, -1, &error));
        g_assert_no_error(error);
        return json_node_copy(json_parser_get_root(parser));
}

static void test_list_json(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonArray *devices;

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "--json", "list", NULL), ==, 0);
        root = parse_json(out);
        g_assert_true(JSON_NODE_HOLDS_ARRAY(root));
        devices = json_node_get_array(root);
        g_assert_cmpuint(json_array_get_length(devices), ==, fake_pci_tree_size);

        for (guint i = 0; i < json_array_get_length(devices); i++) {
                JsonObject *o = json_array_get_object_element(devices, i);
                const char *address = json_object_get_string_member(o, "address");
                const struct fake_pci_device *d = NULL;
                g_autofree char *vendor = NULL, *class_code = NULL;

                for (size_t j = 0; j < fake_pci_tree_size; j++)
                        if (g_str_equal(fake_pci_tree[j].address, address))
                                d = &fake_pci_tree[j];
                g_assert_nonnull(d);
                vendor = g_strdup_printf("%04x", d->vendor);
                class_code = g_strdup_printf("%06x", d->class_code);
                g_assert_cmpstr(json_object_get_string_member(o, "vendor_id"), ==, vendor);
                g_assert_cmpstr(json_object_get_string_member(o, "class"), ==, class_code);
                if (d->driver)
                        g_assert_cmpstr(json_object_get_string_member(o, "driver"), ==, d->driver);
                else
                        g_assert_true(json_object_get_null_member(o, "driver"));
                g_assert_cmpint(json_object_get_int_member(o, "iommu_group"), ==, d->iommu_group);
                g_assert_true(json_object_get_null_member(o, "numa_node"));
                g_assert_false(json_object_get_boolean_member(o, "busy"));
        }
}

static void test_show_group(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "show", "01:00.1", NULL), ==, 0);
        g_test_message("%s", out);
        g_assert_nonnull(strstr(out, "Address:          0000:01:00.1\n"));
        g_assert_nonnull(strstr(out, "Driver:           snd_hda_intel\n"));
        g_assert_nonnull(strstr(out, "IOMMU group 1: not viable\n"));
        g_assert_nonnull(strstr(out, "Blocked by 0000:01:00.0 (nouveau) and 0000:01:00.1 (snd_hda_intel, this device)."));
        g_assert_nonnull(strstr(out, "ok: PCIe port driver, which VFIO allows"));

        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "show", "0000:03:00.0", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "IOMMU group 12: viable\n"));
        g_assert_null(strstr(out, "Blocked by"));
}

static void test_show_json(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonObject *o, *device;
        JsonArray *members;

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "show", "--json", "01:00.0", NULL), ==, 0);
        root = parse_json(out);
        o = json_node_get_object(root);
        device = json_object_get_object_member(o, "device");
        g_assert_cmpstr(json_object_get_string_member(device, "address"), ==, "0000:01:00.0");
        g_assert_cmpstr(json_object_get_string_member(device, "device_name"), ==, "GP104 [GeForce GTX 1080]");
        g_assert_cmpint(json_object_get_int_member(o, "iommu_group"), ==, 1);
        g_assert_false(json_object_get_boolean_member(o, "group_viable"));
        members = json_object_get_array_member(o, "group_members");
        g_assert_cmpuint(json_array_get_length(members), ==, 3);
        g_assert_true(json_object_get_boolean_member(json_array_get_object_element(members, 0), "vfio_ready"));
        g_assert_false(json_object_get_boolean_member(json_array_get_object_element(members, 1), "vfio_ready"));
}

static void assert_one_line(const char *text) {
        g_assert_true(g_str_has_suffix(text, "\n"));
        g_assert_cmpint(strchr(text, '\n') - text, ==, (gssize) strlen(text) - 1);
}

static void test_errors(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "show", "zz:00.0", NULL), ==, 2);
        g_assert_cmpstr(out, ==, "");
        assert_one_line(err);
        g_assert_true(g_str_has_prefix(err, "vfio-passthroughctl: 'zz:00.0' is not a PCI address."));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "show", "42:00.0", NULL), ==, 4);
        assert_one_line(err);
        g_assert_cmpstr(err, ==,
                        "vfio-passthroughctl: No PCI device at 0000:42:00.0. "
                        "'vfio-passthroughctl list' shows the devices present.\n");
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "frobnicate", NULL), ==, 2);
        g_assert_nonnull(strstr(err, "unknown command 'frobnicate'"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "--help", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "list"));
        g_assert_nonnull(strstr(out, "show"));
}

/* Asserts that o has exactly the keys the man page documents for it, no more and no fewer. */
static void assert_keys(JsonObject *o, const char *const *keys) {
        g_autoptr(GList) members = json_object_get_members(o);

        for (const char *const *k = keys; *k; k++)
                g_assert_true(json_object_has_member(o, *k));
        g_assert_cmpuint(g_list_length(members), ==, g_strv_length((char **) keys));
}

/* Parses output that must be one JSON object and nothing else. */
static JsonObject *parse_object(const char *text, JsonNode **ret_root) {
        *ret_root = parse_json(text);
        g_assert_true(JSON_NODE_HOLDS_OBJECT(*ret_root));
        return json_node_get_object(*ret_root);
}

static void assert_array_is(JsonArray *a, const char *only) {
        g_assert_cmpuint(json_array_get_length(a), ==, 1);
        g_assert_cmpstr(json_array_get_string_element(a, 0), ==, only);
}

#define assert_driver(f, address, expected)                                \
        do {                                                               \
                g_autofree char *_d = harness_device_driver(&(f)->h, address); \
                g_assert_cmpstr(_d, ==, expected);                         \
        } while (0)

/* A failure with --json: exactly one object on stdout naming the error, the status it exits
 * with in it too; the person's line still on stderr. */
static void assert_json_error(int status, const char *out, const char *err, const char *name, int expected_status) {
        g_autoptr(JsonNode) root = NULL;
        JsonObject *o;

        g_test_message("out: %s err: %s", out, err);
        g_assert_cmpint(status, ==, expected_status);
        assert_one_line(out);
        o = parse_object(out, &root);
        assert_keys(o, (const char *const[]) { "error", "message", "exit_status", NULL });
        g_assert_cmpstr(json_object_get_string_member(o, "error"), ==, name);
        g_assert_cmpint(json_object_get_int_member(o, "exit_status"), ==, expected_status);
        g_assert_cmpstr(json_object_get_string_member(o, "message"), !=, "");
        g_assert_true(g_str_has_prefix(err, "vfio-passthroughctl: "));
        g_assert_nonnull(strstr(err, json_object_get_string_member(o, "message")));
}

/* Every verb that changes a device, with --json, checked against the testbed's sysfs. */
static void test_operations_json(Fixture *f, gconstpointer data) {
        const char *dev = "0000:59:00.0";

        {
                g_autofree char *out = NULL, *err = NULL;
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o;

                g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "detach", "59:00.0", "--json", NULL), ==, 0);
                kernel_emulator_settle(f->h.emulator);
                o = parse_object(out, &root);
                assert_keys(o, (const char *const[]) { "address", "previous_driver", NULL });
                g_assert_cmpstr(json_object_get_string_member(o, "address"), ==, dev);
                g_assert_cmpstr(json_object_get_string_member(o, "previous_driver"), ==, "igb");
                assert_driver(f, dev, "");
        }
        {
                g_autofree char *out = NULL, *err = NULL;
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o;

                g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "--json", "attach", "59:00.0", NULL), ==, 0);
                kernel_emulator_settle(f->h.emulator);
                o = parse_object(out, &root);
                assert_keys(o, (const char *const[]) { "address", "group_node", "group_viable", "moved", NULL });
                g_assert_cmpstr(json_object_get_string_member(o, "address"), ==, dev);
                g_assert_cmpstr(json_object_get_string_member(o, "group_node"), ==, "/dev/vfio/6");
                g_assert_true(json_object_get_boolean_member(o, "group_viable"));
                assert_array_is(json_object_get_array_member(o, "moved"), dev);
                assert_driver(f, dev, "vfio-pci");
        }
        {
                g_autofree char *out = NULL, *err = NULL;
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o;
                JsonArray *nodes;

                g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "--json", "grant", "59:00.0", "nobody", NULL), ==, 0);
                o = parse_object(out, &root);
                assert_keys(o, (const char *const[]) { "address", "group_node", "uid", "nodes", "memlock_limit",
                                                       "memlock_minimum", NULL });
                g_assert_cmpstr(json_object_get_string_member(o, "group_node"), ==, "/dev/vfio/6");
                g_assert_cmpint(json_object_get_int_member(o, "uid"), ==, NOBODY);
                nodes = json_object_get_array_member(o, "nodes");
                g_assert_cmpstr(json_array_get_string_element(nodes, 0), ==, "/dev/vfio/6");
                g_assert_cmpint(json_object_get_int_member(o, "memlock_minimum"), >, 0);
                g_assert_true(harness_node_acl_grants(&f->h, "vfio/6", NOBODY));
        }
        {
                g_autofree char *out = NULL, *err = NULL;
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o;

                g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "--json", "restore", "59:00.0", NULL), ==, 0);
                kernel_emulator_settle(f->h.emulator);
                o = parse_object(out, &root);
                assert_keys(o, (const char *const[]) { "address", "driver", "restored", NULL });
                g_assert_cmpstr(json_object_get_string_member(o, "driver"), ==, "igb");
                assert_array_is(json_object_get_array_member(o, "restored"), dev);
                assert_driver(f, dev, "igb");
        }
        {
                g_autofree char *out = NULL, *err = NULL, *record = NULL;
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o;

                g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "--json", "attach", "59:00.0", NULL), ==, 0);
                kernel_emulator_settle(f->h.emulator);
                record = harness_record(&f->h, dev);
                g_assert_nonnull(record);
                g_clear_pointer(&out, g_free);
                g_clear_pointer(&err, g_free);

                g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "--json", "forget", "59:00.0", NULL), ==, 0);
                o = parse_object(out, &root);
                assert_keys(o, (const char *const[]) { "address", NULL });
                g_assert_cmpstr(json_object_get_string_member(o, "address"), ==, dev);
                g_clear_pointer(&record, g_free);
                record = harness_record(&f->h, dev);
                g_assert_null(record);
                assert_driver(f, dev, "vfio-pci");
        }
        {
                /* Nothing to restore now: the daemon's error, as one object. */
                g_autofree char *out = NULL, *err = NULL;
                int status = harness_run_ctl(&f->h, &out, &err, "--json", "restore", "59:00.0", NULL);

                assert_json_error(status, out, err, "org.vfio.Passthrough1.Error.NotManaged", 5);
                assert_driver(f, dev, "vfio-pci");
        }
}

static void test_errors_json(Fixture *f, gconstpointer data) {
        const struct harness_caller nobody = { .uid = NOBODY };

        {
                g_autofree char *out = NULL, *err = NULL;
                int status = harness_run_ctl(&f->h, &out, &err, "--json", "show", "zz:00.0", NULL);
                assert_json_error(status, out, err, "org.vfio.Passthrough1.Error.InvalidAddress", 2);
        }
        {
                g_autofree char *out = NULL, *err = NULL;
                int status = harness_run_ctl(&f->h, &out, &err, "attach", "42:00.0", "--json", NULL);
                assert_json_error(status, out, err, "org.vfio.Passthrough1.Error.NoSuchDevice", 4);
        }
        {
                /* Without polkit on this bus, anyone but root is refused. */
                g_autofree char *out = NULL, *err = NULL;
                int status = harness_run_ctl_as(&f->h, &nobody, &out, &err, "--json", "detach", "59:00.0", NULL);
                assert_json_error(status, out, err, "org.freedesktop.DBus.Error.AccessDenied", 3);
                assert_driver(f, "0000:59:00.0", "igb");
        }
        {
                /* The host uses it: the boot graphics device. */
                g_autofree char *out = NULL, *err = NULL;
                int status = harness_run_ctl(&f->h, &out, &err, "--json", "attach", "00:02.0", NULL);
                assert_json_error(status, out, err, "org.vfio.Passthrough1.Error.DeviceBusy", 5);
                assert_driver(f, "0000:00:02.0", "i915");
        }
        {
                g_autofree char *out = NULL, *err = NULL;
                int status = harness_run_ctl(&f->h, &out, &err, "--json", "frobnicate", NULL);
                assert_json_error(status, out, err, "org.vfio.Passthrough1.Error.InvalidArgument", 2);
        }
        {
                /* --json after the bad option still applies. */
                g_autofree char *out = NULL, *err = NULL;
                int status = harness_run_ctl(&f->h, &out, &err, "--bogus", "list", "--json", NULL);
                assert_json_error(status, out, err, "org.vfio.Passthrough1.Error.InvalidArgument", 2);
        }
}

/* In text, each error says what to do next, chosen by the error's name. */
static void test_error_hints(Fixture *f, gconstpointer data) {
        const struct harness_caller nobody = { .uid = NOBODY };
        g_autofree char *out = NULL, *err = NULL;

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "attach", "00:02.0", NULL), ==, 5);
        assert_one_line(err);
        g_assert_nonnull(strstr(err, "add --force if the host can do without it."));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "restore", "59:00.0", NULL), ==, 5);
        assert_one_line(err);
        g_assert_true(g_str_has_suffix(err, " Its driver now: vfio-passthroughctl show 0000:59:00.0\n"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        g_assert_cmpint(harness_run_ctl_as(&f->h, &nobody, &out, &err, "detach", "59:00.0", NULL), ==, 3);
        assert_one_line(err);
        g_assert_true(g_str_has_prefix(err, "vfio-passthroughctl: access denied: "));
        g_assert_nonnull(strstr(err, "An administrator can allow it with a polkit rule"));
}

static void test_daemon_not_running(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;
        g_autoptr(JsonNode) root = NULL;
        const char *name;
        int status;

        /* Stop the daemon but keep the bus: the name then has no owner and nothing can activate it
         * (the private bus has no activation files). */
        harness_stop_daemon(&f->h);
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "list", NULL), ==, 1);
        g_test_message("%s", err);
        assert_one_line(err);
        g_assert_true(g_str_has_prefix(err, "vfio-passthroughctl: vfio-passthroughd is not running and could not be "
                                            "activated"));
        g_assert_nonnull(strstr(err, "systemctl status vfio-passthroughd"));
        g_assert_null(strstr(err, "system bus at"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        status = harness_run_ctl(&f->h, &out, &err, "--json", "show", "59:00.0", NULL);
        g_assert_cmpint(status, ==, 1);
        name = json_object_get_string_member(parse_object(out, &root), "error");
        g_assert_true(g_str_equal(name, "org.freedesktop.DBus.Error.ServiceUnknown") ||
                      g_str_equal(name, "org.freedesktop.DBus.Error.NameHasNoOwner"));
        assert_json_error(status, out, err, name, 1);
}

/* No bus at all: a different message, and a different next step, from no daemon. */
static void test_no_bus(Fixture *f, gconstpointer data) {
        g_autofree char *socket = g_build_filename(f->h.tmpdir, "no-such-socket", NULL);
        g_autofree char *address = g_strdup_printf("DBUS_SYSTEM_BUS_ADDRESS=unix:path=%s", socket);
        const char *const env[] = { address, NULL };
        g_autofree char *out = NULL, *err = NULL;
        int status;

        g_assert_cmpint(run_ctl_env(&f->h, env, &out, &err, "list", NULL), ==, 1);
        g_test_message("%s", err);
        assert_one_line(err);
        g_assert_cmpstr(out, ==, "");
        g_assert_true(g_str_has_prefix(err, "vfio-passthroughctl: cannot connect to the system bus at unix:path="));
        g_assert_nonnull(strstr(err, socket));
        g_assert_nonnull(strstr(err, "systemctl start dbus"));
        g_assert_null(strstr(err, "vfio-passthroughd is not running"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        status = run_ctl_env(&f->h, env, &out, &err, "attach", "59:00.0", "--json", NULL);
        assert_json_error(status, out, err, "org.freedesktop.DBus.Error.NoServer", 1);
}



/* COLUMNS is the width to fit, also for a pipe: the names give way, marked with "…", and no line
 * is wider, counted in characters. */
static void test_list_columns(Fixture *f, gconstpointer data) {
        const char *const env[] = { "COLUMNS=60", NULL };
        g_autofree char *out = NULL, *err = NULL, *full = NULL;
        g_auto(GStrv) lines = NULL;
        gboolean cut = FALSE;

        g_assert_cmpint(run_ctl_env(&f->h, env, &out, &err, "list", NULL), ==, 0);
        g_test_message("%s", out);
        lines = g_strsplit(out, "\n", -1);
        g_assert_cmpuint(g_strv_length(lines), ==, fake_pci_tree_size + 2);
        for (char **l = lines; *l; l++) {
                g_assert_true(g_utf8_validate(*l, -1, NULL));
                g_assert_cmpint(g_utf8_strlen(*l, -1), <=, 60);
                cut = cut || strstr(*l, "\u2026") != NULL;
        }
        g_assert_true(cut);
        /* What a user acts on is never cut. */
        for (size_t i = 0; i < fake_pci_tree_size; i++) {
                g_autofree char *row = find_line(out, fake_pci_tree[i].address);
                g_assert_nonnull(row);
        }

        /* Without COLUMNS, a pipe gets whole lines. */
        g_assert_cmpint(run_ctl_env(&f->h, (const char *const[]) { "COLUMNS=", NULL }, &full, NULL, "list", NULL), ==, 0);
        g_assert_null(strstr(full, "\u2026"));
        g_assert_nonnull(strstr(full, "NVIDIA Corporation GP104 [GeForce GTX 1080]"));
}

/* Runs vfio-passthroughctl on a terminal of the given width, as a person would (TERM=xterm,
 * NO_COLOR and COLUMNS unset, then env on top), and returns everything it wrote there. */
static char *run_ctl_pty(struct harness *h, unsigned short width, const char *const *env, const char *const *args) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_auto(GStrv) envp = g_get_environ();
        g_autoptr(GString) output = g_string_new(NULL);
        struct winsize ws = { .ws_row = 24, .ws_col = width };
        char buf[4096];
        ssize_t n;
        int master, status;
        pid_t pid;

        g_ptr_array_add(argv, (char *) CTL_PATH);
        for (; *args; args++)
                g_ptr_array_add(argv, (char *) *args);
        g_ptr_array_add(argv, NULL);
        envp = g_environ_setenv(envp, "DBUS_SYSTEM_BUS_ADDRESS", h->bus.address, TRUE);
        envp = g_environ_setenv(envp, "TERM", "xterm", TRUE);
        envp = g_environ_unsetenv(envp, "LD_PRELOAD");
        envp = g_environ_unsetenv(envp, "NO_COLOR");
        envp = g_environ_unsetenv(envp, "COLUMNS");
        envp = g_environ_unsetenv(envp, "PAGER");
        envp = g_environ_unsetenv(envp, "VFIO_PASSTHROUGHCTL_PAGER");
        for (; env && *env; env++) {
                g_auto(GStrv) kv = g_strsplit(*env, "=", 2);
                envp = g_environ_setenv(envp, kv[0], kv[1], TRUE);
        }

        pid = forkpty(&master, NULL, NULL, &ws);
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
                execve(CTL_PATH, (char **) argv->pdata, envp);
                _exit(127);
        }
        /* Until the last process on the terminal closes it: EIO on Linux. */
        while ((n = read(master, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
                if (n > 0)
                        g_string_append_len(output, buf, n);
        close(master);
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
        return g_string_free(g_steal_pointer(&output), FALSE);
}

/* On a terminal: cut to its width, colours unless NO_COLOR. */
static void test_terminal_output(Fixture *f, gconstpointer data) {
        g_autofree char *out = run_ctl_pty(&f->h, 70, NULL, (const char *const[]) { "list", "--no-pager", NULL });
        g_autofree char *plain = NULL, *no_color = NULL;
        g_auto(GStrv) lines = NULL;
        g_autoptr(GRegex) sgr = g_regex_new("\033\\[[0-9;]*m|\r", 0, 0, NULL);

        g_test_message("%s", out);
        g_assert_nonnull(strstr(out, "\033[1mADDRESS"));
        plain = g_regex_replace_literal(sgr, out, -1, 0, "", 0, NULL);
        lines = g_strsplit(plain, "\n", -1);
        g_assert_cmpuint(g_strv_length(lines), ==, fake_pci_tree_size + 2);
        for (char **l = lines; *l; l++)
                g_assert_cmpint(g_utf8_strlen(*l, -1), <=, 70);
        g_assert_nonnull(strstr(plain, "\u2026"));

        no_color = run_ctl_pty(&f->h, 70, (const char *const[]) { "NO_COLOR=1", NULL },
                               (const char *const[]) { "show", "01:00.0", "--no-pager", NULL });
        g_assert_nonnull(strstr(no_color, "not viable"));
        g_assert_null(strchr(no_color, '\033'));
}

/* The pager runs on a terminal only, from the variable split on blanks, without a shell. */
static void test_pager(Fixture *f, gconstpointer data) {
        g_autofree char *paged = g_build_filename(f->h.tmpdir, "paged", NULL);
        g_autofree char *pager = g_strdup_printf("VFIO_PASSTHROUGHCTL_PAGER=tee  %s", paged);
        const char *const env[] = { pager, "PAGER=false", NULL };
        g_autofree char *out = NULL, *contents = NULL, *piped = NULL;

        out = run_ctl_pty(&f->h, 200, env, (const char *const[]) { "list", NULL });
        g_assert_true(g_file_get_contents(paged, &contents, NULL, NULL));
        g_test_message("%s", contents);
        g_assert_true(g_str_has_prefix(contents, "\033[1mADDRESS"));
        g_assert_nonnull(strstr(contents, "0000:59:00.1"));
        g_assert_cmpint(unlink(paged), ==, 0);

        g_clear_pointer(&out, g_free);
        out = run_ctl_pty(&f->h, 200, env, (const char *const[]) { "--no-pager", "list", NULL });
        g_assert_nonnull(strstr(out, "0000:59:00.1"));
        g_assert_false(g_file_test(paged, G_FILE_TEST_EXISTS));

        /* "cat" means no pager. */
        g_clear_pointer(&out, g_free);
        out = run_ctl_pty(&f->h, 200, (const char *const[]) { "PAGER=cat", NULL }, (const char *const[]) { "list", NULL });
        g_assert_nonnull(strstr(out, "0000:59:00.1"));

        /* A pipe never pages. */
        g_assert_cmpint(run_ctl_env(&f->h, env, &piped, NULL, "list", NULL), ==, 0);
        g_assert_nonnull(strstr(piped, "0000:59:00.1"));
        g_assert_false(g_file_test(paged, G_FILE_TEST_EXISTS));
}

/* --quiet: nothing on success from the verbs that change devices; errors still. */
static void test_quiet(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "-q", "attach", "59:00.0", NULL), ==, 0);
        kernel_emulator_settle(f->h.emulator);
        g_assert_cmpstr(out, ==, "");
        g_assert_cmpstr(err, ==, "");
        assert_driver(f, "0000:59:00.0", "vfio-pci");
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "restore", "--quiet", "59:00.0", NULL), ==, 0);
        kernel_emulator_settle(f->h.emulator);
        g_assert_cmpstr(out, ==, "");
        assert_driver(f, "0000:59:00.0", "igb");
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "restore", "--quiet", "59:00.0", NULL), ==, 5);
        g_assert_cmpstr(out, ==, "");
        assert_one_line(err);
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        /* Quiet wins over --json on success; a failure is still the one object. */
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "-q", "--json", "detach", "59:00.0", NULL), ==, 0);
        kernel_emulator_settle(f->h.emulator);
        g_assert_cmpstr(out, ==, "");
        assert_driver(f, "0000:59:00.0", "");
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "-q", "--json", "restore", "59:00.1", NULL), ==, 5);
        assert_json_error(5, out, err, "org.vfio.Passthrough1.Error.NotManaged", 5);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
        ADD("/client/list/table", test_list_table);
        ADD("/client/list/json", test_list_json);
        ADD("/client/show/group", test_show_group);
        ADD("/client/show/json", test_show_json);
        ADD("/client/errors", test_errors);
        ADD("/client/daemon-not-running", test_daemon_not_running);
        ADD("/client/no-bus", test_no_bus);
        ADD("/client/list/columns", test_list_columns);
        ADD("/client/terminal", test_terminal_output);
        ADD("/client/pager", test_pager);
#define ADD_EMULATED(path, func) g_test_add(path, Fixture, &emulated_kernel, fixture_setup, func, fixture_teardown)
        ADD_EMULATED("/client/operations/json", test_operations_json);
        ADD_EMULATED("/client/errors/json", test_errors_json);
        ADD_EMULATED("/client/errors/hints", test_error_hints);
        ADD_EMULATED("/client/quiet", test_quiet);
#undef ADD_EMULATED
#undef ADD
        return g_test_run();
}
