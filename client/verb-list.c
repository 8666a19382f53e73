/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-call.h"
#include "device-format.h"
#include "device-info.h"
#include "json.h"
#include "log.h"
#include "macro.h"
#include "object-tree.h"
#include "table.h"
#include "verbs.h"

enum {
        COLUMN_ADDRESS,
        COLUMN_ID,
        COLUMN_CLASS,
        COLUMN_DEVICE,
        COLUMN_DRIVER,
        COLUMN_IN_USE,
        COLUMN_GROUP,
        COLUMN_COUNT,
};

static int add_row(struct table *t, const struct device_info *d) {
        _cleanup_(freep) char *name = NULL, *driver = NULL;
        char id[DEVICE_ID_STRING_MAX], class[DEVICE_CLASS_STRING_MAX], group[16] = "-";
        int r;

        name = device_format_name(d);
        driver = device_format_driver(d);
        if (!name || !driver)
                return -ENOMEM;
        if (d->iommu_group >= 0)
                snprintf(group, sizeof(group), "%d", (int) d->iommu_group);

        r = table_add_cell(t, d->address);
        if (r >= 0)
                r = table_add_cell(t, device_format_id(d, id));
        if (r >= 0)
                r = table_add_cell(t, device_format_class(d, class));
        if (r >= 0)
                r = table_add_cell(t, name);
        if (r >= 0)
                r = table_add_cell(t, driver);
        /* "yes": the host uses it, and 'show' says how; "?": the daemon could not tell (busy). */
        if (r >= 0)
                r = table_add_cell(t, !d->host_use_known ? "?" : d->host_use ? "yes" : "-");
        if (r >= 0)
                r = table_add_cell(t, group);
        return r;
}

static int print_table(const struct device_info *devices, size_t n, const struct options *options) {
        static const char *const headers[COLUMN_COUNT] = {
                [COLUMN_ADDRESS] = "ADDRESS", [COLUMN_ID] = "ID",         [COLUMN_CLASS] = "CLASS",
                [COLUMN_DEVICE] = "DEVICE",   [COLUMN_DRIVER] = "DRIVER", [COLUMN_GROUP] = "GROUP",
                [COLUMN_IN_USE] = "IN USE",
        };
        _cleanup_(table_freep) struct table *t = NULL;
        int r;

        if (n == 0) {
                printf("No PCI devices.\n");
                return 0;
        }

        r = table_new(&t, COLUMN_COUNT, headers);
        if (r < 0)
                return r;
        /* Names are long and the least essential part of a row; the address, ids, driver and
         * group are what a user acts on, so the names give way first, and on a very narrow
         * terminal (60 columns) the driver's long names ("snd_hda_intel") a little too. */
        table_set_shrinkable(t, COLUMN_DEVICE, (struct table_shrink) { .first_to = 12, .min = 4 });
        table_set_shrinkable(t, COLUMN_CLASS, (struct table_shrink) { .first_to = 12, .min = 4 });
        table_set_shrinkable(t, COLUMN_DRIVER, (struct table_shrink) { .min = 8 });
        for (size_t i = 0; i < n; i++) {
                r = add_row(t, &devices[i]);
                if (r < 0)
                        return r;
        }
        return table_print(t, stdout, 0, options->columns, options->colors);
}

static int print_json(const struct device_info *devices, size_t n) {
        struct json_writer w;

        json_writer_init(&w, stdout);
        json_begin_array(&w);
        for (size_t i = 0; i < n; i++)
                device_write_json(&w, &devices[i]);
        json_end_array(&w);
        return json_writer_finish(&w);
}

int verb_list(int argc, char *argv[], const struct options *options) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(object_tree_done) struct object_tree tree = {};
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;
        r = object_tree_load(bus, &reply, &tree);
        if (r < 0)
                return r;

        r = options->json ? print_json(tree.devices, tree.n_devices) : print_table(tree.devices, tree.n_devices, options);
        /* A write error is reported once, by main(), which checks stdout for all verbs. */
        if (r < 0 && !ferror(stdout))
                log_error(NULL, "failed to print the device list: %s", strerror(-r));
        return r < 0 ? -EIO : 0;
}
