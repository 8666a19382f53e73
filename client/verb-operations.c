/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* detach, attach and restore: the verbs that move a device between drivers. They share their
 * flow (check the address, call the daemon, print) and the shape of their text output: one
 * "ADDRESS: BEFORE -> AFTER" line per device that moved, the named device first. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "address-argument.h"
#include "bus-call.h"
#include "device-description.h"
#include "json.h"
#include "log.h"
#include "macro.h"
#include "object-tree.h"
#include "operation-call.h"
#include "strv.h"
#include "verbs.h"
#include "vfio-passthrough-bus.h"

#define VFIO_DRIVER "vfio-pci"

/* The text stand-in for "no driver" on either side of an arrow. */
#define NO_DRIVER "unbound"

/* What a verb's printer gets. The descriptions of the device and its group before and after
 * the call exist only for text output, which names drivers the replies do not carry; JSON
 * prints the reply alone. The one after is read only when the reply does not say enough (other
 * members moved, a group still not viable): each is one more call to the daemon. A description
 * that could not be had has no members. */
struct operation {
        const char *address; /* canonical */
        const struct options *options;
        const struct device_description *before;
        sd_bus *bus;
        bool after_read;
        sd_bus_message *after_reply;
        struct device_description after_description;
};

/* The description after the call, read on first use. */
static const struct device_description *after(struct operation *op) {
        if (!op->after_read) {
                op->after_read = true;
                (void) device_describe(op->bus, op->address, &op->after_reply, &op->after_description);
        }
        return &op->after_description;
}

/* Reads the reply and prints it, as text or JSON as the options say; with --quiet only the
 * warnings. */
typedef int (*operation_printer)(sd_bus_message *reply, struct operation *op);

static const char *driver_or_unbound(const char *driver) {
        return driver && *driver ? driver : NO_DRIVER;
}

static const struct device_info *find_member(const struct device_description *d, const char *address) {
        for (size_t i = 0; i < d->n_members; i++)
                if (streq_ptr(d->members[i].address, address))
                        return &d->members[i];
        return NULL;
}

/* The driver a group member had in a description; "?" when the description lacks it. */
static const char *member_driver(const struct device_description *d, const char *address) {
        const struct device_info *m = find_member(d, address);

        return m ? driver_or_unbound(m->driver) : "?";
}

/* "ADDRESS: BEFORE -> AFTER", or "ADDRESS: already on DRIVER" when nothing changed; the caller
 * ends the line. "?" is a driver nobody could tell, never "already". */
static void print_change(const char *address, const char *before, const char *after) {
        if (strcmp(before, after) != 0 || strcmp(before, "?") == 0)
                printf("%s: %s -> %s", address, before, after);
        else if (strcmp(after, NO_DRIVER) == 0)
                printf("%s: already " NO_DRIVER, address);
        else
                printf("%s: already on %s", address, after);
}

/* One line per other group member the call moved. after_driver is where they went when the
 * verb knows it (attach); otherwise the description after the call tells. */
static void print_member_moves(struct operation *op, char *const *moved, const char *after_driver) {
        for (; moved && *moved; moved++)
                if (!streq_ptr(*moved, op->address)) {
                        print_change(*moved, member_driver(op->before, *moved),
                                     after_driver ?: member_driver(after(op), *moved));
                        putchar('\n');
                }
}

static int finish_json(struct json_writer *w) {
        json_end_object(w);
        return json_writer_finish(w);
}

static void begin_json(struct json_writer *w, const struct operation *op) {
        json_writer_init(w, stdout);
        json_begin_object(w);
        json_key(w, "address");
        json_string(w, op->address);
}

/* "" from the daemon is null in JSON, as absent values are in "show --json". */
static void json_string_or_null(struct json_writer *w, const char *key, const char *value) {
        json_key(w, key);
        json_string(w, value && *value ? value : NULL);
}

static int print_detach(sd_bus_message *reply, struct operation *op) {
        const char *previous_driver;
        struct json_writer w;
        int r;

        r = sd_bus_message_read(reply, "s", &previous_driver);
        if (r < 0)
                return bus_log_parse_error(r);

        if (op->options->json && !op->options->quiet) {
                begin_json(&w, op);
                json_string_or_null(&w, "previous_driver", previous_driver);
                return finish_json(&w);
        }
        if (op->options->quiet)
                return 0;

        if (*previous_driver)
                printf("%s: %s -> " NO_DRIVER ", reserved for " VFIO_DRIVER "\n", op->address, previous_driver);
        else
                printf("%s: already " NO_DRIVER ", reserved for " VFIO_DRIVER "\n", op->address);

        /* Detach does not list the group members it moved; the descriptions tell which did. */
        for (size_t i = 0; i < op->before->n_members; i++) {
                const struct device_info *m = &op->before->members[i];
                const struct device_info *now = streq_ptr(m->address, op->address) ? NULL
                                                                                    : find_member(after(op), m->address);

                if (!streq_ptr(m->address, op->address) && now && !streq_ptr(m->driver, now->driver))
                        printf("%s: %s -> %s\n", m->address, driver_or_unbound(m->driver),
                               driver_or_unbound(now->driver));
        }
        return 0;
}

/* Why the group is still not usable, on stderr: it does not undo the attach, but the VM will
 * not start until it is dealt with. */
static void warn_not_viable(struct operation *op, const char *group) {
        const struct device_description *now = after(op);
        size_t n_blocking = 0, shown = 0;

        for (size_t i = 0; i < now->n_members; i++)
                if (now->members[i].vfio_ready == 0)
                        n_blocking++;

        fprintf(stderr, "vfio-passthroughctl: warning: IOMMU group %s is not viable yet", group);
        for (size_t i = 0; i < now->n_members; i++) {
                const struct device_info *m = &now->members[i];

                if (m->vfio_ready != 0)
                        continue;
                shown++;
                fprintf(stderr, "%s%s (%s)", shown == 1 ? ": " : shown == n_blocking ? " and " : ", ", m->address,
                        m->driver ?: m->vfio_note ?: NO_DRIVER);
        }
        fprintf(stderr, "%s. ", n_blocking == 0 ? "" : n_blocking == 1 ? " blocks it" : " block it");
        if (!(op->options->operation_flags & VFIO_PT_FLAG_GROUP))
                fprintf(stderr, "'vfio-passthroughctl attach --group %s' moves the whole group; ", op->address);
        fprintf(stderr, "'vfio-passthroughctl show %s' shows every member.\n", op->address);
}

static int print_attach(sd_bus_message *reply, struct operation *op) {
        _cleanup_(strv_freep) char **moved = NULL;
        const char *group_path, *group;
        char group_node[32];
        struct json_writer w;
        int viable, r;

        r = sd_bus_message_read(reply, "ob", &group_path, &viable);
        if (r >= 0)
                r = read_device_paths(reply, &moved);
        if (r < 0)
                return bus_log_parse_error(r);
        /* The group's object path ends in its number. */
        group = strrchr(group_path, '/') + 1;
        snprintf(group_node, sizeof(group_node), "/dev/vfio/%s", group);

        if (op->options->json && !op->options->quiet) {
                begin_json(&w, op);
                json_key(&w, "group_node");
                json_string(&w, group_node);
                json_key(&w, "group_viable");
                json_bool(&w, viable);
                json_key(&w, "moved");
                json_string_array(&w, moved);
                return finish_json(&w);
        }
        /* Quiet or not, a group the VM cannot use yet is worth a warning. */
        if (op->options->quiet) {
                if (!viable)
                        warn_not_viable(op, group);
                return 0;
        }

        /* Not in moved: it was on vfio-pci already, whatever the description before said. */
        print_change(op->address,
                     strv_contains(moved, op->address) ? driver_or_unbound(op->before->device.driver) : VFIO_DRIVER,
                     VFIO_DRIVER);
        printf("; group node %s (group %s %s)\n", group_node, group, viable ? "viable" : "not viable");
        print_member_moves(op, moved, VFIO_DRIVER);

        if (!viable) {
                /* Let the lines above reach a shared terminal before the warning. */
                fflush(stdout);
                warn_not_viable(op, group);
        }
        return 0;
}

static int print_restore(sd_bus_message *reply, struct operation *op) {
        _cleanup_(strv_freep) char **restored = NULL;
        const char *driver;
        struct json_writer w;
        int r;

        r = sd_bus_message_read(reply, "s", &driver);
        if (r >= 0)
                r = read_device_paths(reply, &restored);
        if (r < 0)
                return bus_log_parse_error(r);

        if (op->options->json && !op->options->quiet) {
                begin_json(&w, op);
                json_string_or_null(&w, "driver", driver);
                json_key(&w, "restored");
                json_string_array(&w, restored);
                return finish_json(&w);
        }
        if (op->options->quiet)
                return 0;

        print_change(op->address, driver_or_unbound(op->before->device.driver), driver_or_unbound(driver));
        putchar('\n');
        print_member_moves(op, restored, NULL);
        return 0;
}

static int run_operation(const char *method, const char *device, const struct options *options,
                         operation_printer print) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *before_reply = NULL;
        _cleanup_(device_description_done) struct device_description before = {};
        char address[PCI_ADDRESS_STRING_MAX];
        struct operation op;
        int r;

        r = address_argument_parse(device, address);
        if (r < 0)
                return r;
        r = bus_connect(&bus);
        if (r < 0)
                return r;

        /* Text names the drivers on both sides of the arrow, which the replies do not all carry:
         * ask before (and after, when needed: see struct operation). The first also answers a
         * wrong address before any password prompt; the second is only for the printout, which
         * makes do without it. Neither JSON nor --quiet prints them. */
        if (!options->json && !options->quiet) {
                r = device_describe(bus, address, &before_reply, &before);
                if (r < 0)
                        return r;
        }

        r = operation_call(bus, options, method, address, NULL, &reply);
        if (r < 0)
                return r;

        op = (struct operation) {
                .address = address,
                .options = options,
                .before = &before,
                .bus = bus,
        };
        r = print(reply, &op);
        device_description_done(&op.after_description);
        sd_bus_message_unref(op.after_reply);
        if (r == -EBADMSG)
                return r; /* reported by bus_log_parse_error() */
        /* A write error is reported once, by main(), which checks stdout for all verbs. */
        if (r < 0 && !ferror(stdout))
                log_error(NULL, "failed to print the result: %s", strerror(-r));
        return r < 0 ? -EIO : 0;
}

int verb_detach(int argc, char *argv[], const struct options *options) {
        return run_operation("Detach", argv[1], options, print_detach);
}

int verb_attach(int argc, char *argv[], const struct options *options) {
        return run_operation("Attach", argv[1], options, print_attach);
}

int verb_restore(int argc, char *argv[], const struct options *options) {
        return run_operation("Restore", argv[1], options, print_restore);
}
