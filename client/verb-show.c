/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address-argument.h"
#include "bus-call.h"
#include "device-description.h"
#include "device-format.h"
#include "device-info.h"
#include "json.h"
#include "log.h"
#include "macro.h"
#include "table.h"
#include "terminal.h"
#include "verbs.h"

/* "Intel Corporation (8086)", or "unknown (8086)" when the hardware database has no name.
 * Parentheses, not lspci's brackets: hardware database names often end in "[...]" themselves. */
static void print_named_id(const char *label, const char *name, unsigned id, int digits) {
        printf("%-18s%s (%0*x)\n", label, name ?: "unknown", digits, id);
}

static void print_field(const char *label, const char *value) {
        printf("%-18s%s\n", label, value ?: "none");
}

static void print_number_field(const char *label, int32_t value) {
        if (value < 0)
                print_field(label, NULL);
        else
                printf("%-18s%d\n", label, (int) value);
}

/* "alice (uid 1000)", or "uid 1000" for a uid without a name. Looked up here, for the reader: the
 * daemon decides by uid. */
static void format_user(uint32_t uid, char *buf, size_t size) {
        struct passwd *pw = getpwuid(uid);

        if (pw && pw->pw_name)
                snprintf(buf, size, "%s (uid %u)", pw->pw_name, (unsigned) uid);
        else
                snprintf(buf, size, "uid %u", (unsigned) uid);
}

static void print_record(const struct device_info *d) {
        char owner[96], grantee[96], managed[256];

        if (d->interrupted)
                printf("%-18s%s, cut off by a stop of the daemon; being finished or rolled back\n",
                       "Interrupted:", d->interrupted);
        if (d->recovery)
                print_field("Recovery:", d->recovery);

        if (d->record_problem) {
                printf("%-18s%s (an administrator can drop it: vfio-passthroughctl forget %s)\n", "Record:",
                       d->record_problem, d->address);
                return;
        }
        if (!d->has_owner) {
                print_field("Managed:", "no");
                return;
        }
        format_user(d->owner, owner, sizeof(owner));
        snprintf(managed, sizeof(managed), "yes, for %s; came from %s", owner, d->original_driver ?: "no driver");
        print_field("Managed:", managed);
        if (d->has_grantee) {
                format_user(d->grantee, grantee, sizeof(grantee));
                print_field("Granted to:", grantee);
        }
}

static void print_device(const struct device_info *d) {
        char subsystem[DEVICE_ID_STRING_MAX];

        print_field("Address:", d->address);
        print_named_id("Vendor:", d->vendor_name, d->vendor_id, 4);
        print_named_id("Device:", d->device_name, d->device_id, 4);
        snprintf(subsystem, sizeof(subsystem), "%04x:%04x", (unsigned) d->subsystem_vendor_id,
                 (unsigned) d->subsystem_device_id);
        print_field("Subsystem:", d->subsystem_vendor_id || d->subsystem_device_id ? subsystem : NULL);
        print_named_id("Class:", d->class_name, d->class_code & 0xffffff, 6);
        print_field("Driver:", d->driver);
        print_field("Driver override:", d->busy ? "(not read: an operation on its IOMMU group is running)"
                                                : d->driver_override);
        print_field("Host use:", d->busy ? "(not read: an operation on its IOMMU group is running)"
                         : !d->host_use_known ? "(unknown)"
                         : d->host_use);
        print_record(d);
        print_number_field("NUMA node:", d->numa_node);
        print_number_field("IOMMU group:", d->iommu_group);
}

/* The other members the host uses: a group moves only when none of them is in use. */
static void print_members_in_use(const struct device_description *d) {
        for (size_t i = 0; i < d->n_members; i++) {
                const struct device_info *m = &d->members[i];

                if (m->host_use && !streq_ptr(m->address, d->device.address))
                        printf("  %s is used by the host: %s.\n", m->address, m->host_use);
        }
}

static int add_member_row(struct table *t, const struct device_info *m) {
        _cleanup_(freep) char *name = NULL, *driver = NULL, *vfio = NULL;
        const char *verdict = m->vfio_ready > 0 ? "ok" : m->vfio_ready == 0 ? "blocks" : "unknown";
        int r;

        name = device_format_name(m);
        driver = device_format_driver(m);
        if (m->vfio_note)
                r = asprintf(&vfio, "%s: %s", verdict, m->vfio_note);
        else
                r = asprintf(&vfio, "%s", verdict);
        if (!name || !driver || r < 0)
                return -ENOMEM;

        r = table_add_cell(t, m->address);
        if (r >= 0)
                r = table_add_cell(t, name);
        if (r >= 0)
                r = table_add_cell(t, driver);
        if (r >= 0)
                r = table_add_cell(t, vfio);
        return r;
}

static int print_members(const struct device_description *d, const struct options *options) {
        static const char *const headers[] = { "ADDRESS", "DEVICE", "DRIVER", "VFIO" };
        _cleanup_(table_freep) struct table *t = NULL;
        int r;

        r = table_new(&t, ELEMENTSOF(headers), headers);
        if (r < 0)
                return r;
        table_set_shrinkable(t, 1, (struct table_shrink) { .first_to = 12, .min = 4 });
        for (size_t i = 0; i < d->n_members; i++) {
                r = add_member_row(t, &d->members[i]);
                if (r < 0)
                        return r;
        }
        return table_print(t, stdout, 2, options->columns, options->colors);
}

/* Names the members that keep VFIO from using the group, and what would change that. The
 * advice stays generic on purpose: it must hold whichever tool the user moves devices with. */
static void print_blockers(const struct device_description *d) {
        size_t n_blocking = 0, shown = 0;

        for (size_t i = 0; i < d->n_members; i++)
                if (d->members[i].vfio_ready == 0)
                        n_blocking++;
        if (n_blocking == 0) {
                printf("\nVFIO cannot use this group as it is now, but no member was reported as the cause.\n");
                return;
        }

        printf("\nBlocked by ");
        for (size_t i = 0; i < d->n_members; i++) {
                const struct device_info *m = &d->members[i];

                if (m->vfio_ready != 0)
                        continue;
                shown++;
                printf("%s%s (%s%s)", shown == 1 ? "" : shown == n_blocking ? " and " : ", ", m->address,
                       m->driver ?: "no driver", streq_ptr(m->address, d->device.address) ? ", this device" : "");
        }
        printf(".\nVFIO can use a group only when no member is held by a host driver: %s, "
               "or move the whole group to vfio-pci.\n",
               n_blocking == 1 ? "unbind it from its host driver" : "unbind them from their host drivers");
}

static int print_text(const struct device_description *d, const struct options *options) {
        int r;

        print_device(&d->device);
        printf("\n");

        if (d->iommu_group < 0) {
                printf("No IOMMU group (IOMMU off or unsupported): VFIO cannot use this device.\n");
                return ferror(stdout) ? -EIO : 0;
        }

        /* The verdict is what the reader looks for: green when VFIO can have the group, red not. */
        printf("IOMMU group %d: %s%s%s\n", (int) d->iommu_group,
               !options->colors ? "" : d->group_viable ? ANSI_GREEN : ANSI_RED,
               d->group_viable ? "viable" : "not viable", options->colors ? ANSI_RESET : "");
        if (d->n_members == 0) {
                printf("  (the daemon could not list the group's members)\n");
                return ferror(stdout) ? -EIO : 0;
        }
        r = print_members(d, options);
        if (r < 0)
                return r;
        print_members_in_use(d);
        if (!d->group_viable)
                print_blockers(d);
        return ferror(stdout) ? -EIO : 0;
}

static int print_json(const struct device_description *d) {
        struct json_writer w;

        json_writer_init(&w, stdout);
        json_begin_object(&w);
        json_key(&w, "device");
        device_write_json(&w, &d->device);
        json_key(&w, "iommu_group");
        if (d->iommu_group < 0)
                json_null(&w);
        else
                json_int(&w, d->iommu_group);
        json_key(&w, "group_viable");
        json_bool(&w, d->group_viable);
        json_key(&w, "group_members");
        json_begin_array(&w);
        for (size_t i = 0; i < d->n_members; i++)
                device_write_json(&w, &d->members[i]);
        json_end_array(&w);
        json_end_object(&w);
        return json_writer_finish(&w);
}

int verb_show(int argc, char *argv[], const struct options *options) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(device_description_done) struct device_description description = {};
        char address[PCI_ADDRESS_STRING_MAX];
        int r;

        r = address_argument_parse(argv[1], address);
        if (r < 0)
                return r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;
        r = device_describe(bus, address, &reply, &description);
        if (r < 0)
                return r;

        r = options->json ? print_json(&description) : print_text(&description, options);
        /* A write error is reported once, by main(), which checks stdout for all verbs. */
        if (r < 0 && !ferror(stdout))
                log_error(NULL, "failed to print the device: %s", strerror(-r));
        return r < 0 ? -EIO : 0;
}
