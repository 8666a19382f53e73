/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-passthroughctl as a user runs it, against the real daemon on a private bus over the fake
 * PCI tree: the table, the group report, the JSON, and errors as one line with the right status. */
#include <json-glib/json-glib.h>
#include <string.h>

#include "harness.h"
#include "pci-tree.h"

typedef struct {
        struct harness h;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
        harness_start(&f->h);
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

static void test_daemon_not_running(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;

        /* Stop the daemon but keep the bus: the name then has no owner and nothing can activate it. */
        harness_stop_daemon(&f->h);
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "list", NULL), ==, 1);
        assert_one_line(err);
        g_assert_nonnull(strstr(err, "vfio-passthroughd is not running"));
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
#undef ADD
        return g_test_run();
}
