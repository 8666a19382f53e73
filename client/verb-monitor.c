/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* monitor: one line per change the daemon announces, as it happens — for people watching a VM
 * start and for scripts (--json: one object per line). Nothing is polled: the daemon's
 * PropertiesChanged, InterfacesAdded and InterfacesRemoved are the whole input. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bus-call.h"
#include "bus-path.h"
#include "json.h"
#include "log.h"
#include "macro.h"
#include "verbs.h"
#include "vfio-passthrough-bus.h"

/* "0000:59:00.0" for a Device object, "group 6" for a Group object. */
static const char *object_name(const char *path, char buf[static 32]) {
        struct pci_address a;
        int group;

        if (bus_device_path_parse(path, &a) >= 0)
                return pci_address_format(&a, buf);
        if (bus_group_path_parse(path, &group) >= 0) {
                snprintf(buf, 32, "group %d", group);
                return buf;
        }
        return path;
}

/* Prints one property value (the variant's contents) as text, or as JSON. */
static int print_value(sd_bus_message *m, struct json_writer *w) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (type == 'a') {
                bool first = true;

                r = sd_bus_message_enter_container(m, 'a', contents);
                if (r < 0)
                        return r;
                if (w)
                        json_begin_array(w);
                while ((r = sd_bus_message_at_end(m, false)) == 0) {
                        if (!w && !first)
                                putchar(',');
                        first = false;
                        if (contents[0] == '(') {
                                const char *path, *reason;
                                char name[32];

                                r = sd_bus_message_read(m, "(os)", &path, &reason);
                                if (r < 0)
                                        return r;
                                if (w) {
                                        json_begin_object(w);
                                        json_key(w, "object");
                                        json_string(w, path);
                                        json_key(w, "reason");
                                        json_string(w, reason);
                                        json_end_object(w);
                                } else
                                        printf("%s (%s)", object_name(path, name), reason);
                                continue;
                        }
                        r = print_value(m, w);
                        if (r < 0)
                                return r;
                }
                if (r < 0)
                        return r;
                if (w)
                        json_end_array(w);
                return sd_bus_message_exit_container(m);
        }

        switch (type) {
        case 's':
        case 'o': {
                const char *s;
                char name[32];

                r = sd_bus_message_read_basic(m, type, &s);
                if (r < 0)
                        return r;
                if (w)
                        json_string(w, s);
                else if (type == 'o')
                        fputs(object_name(s, name), stdout);
                else
                        printf("'%s'", s);
                return 0;
        }
        case 'b': {
                int b;

                r = sd_bus_message_read_basic(m, 'b', &b);
                if (r < 0)
                        return r;
                if (w)
                        json_bool(w, b);
                else
                        fputs(b ? "yes" : "no", stdout);
                return 0;
        }
        case 'u':
        case 'q':
        case 'i': {
                union {
                        uint32_t u;
                        uint16_t q;
                        int32_t i;
                } v;
                int64_t n;

                r = sd_bus_message_read_basic(m, type, &v);
                if (r < 0)
                        return r;
                n = type == 'u' ? (int64_t) v.u : type == 'q' ? (int64_t) v.q : (int64_t) v.i;
                if (w)
                        json_int(w, n);
                else
                        printf("%" PRId64, n);
                return 0;
        }
        default:
                return sd_bus_message_skip(m, NULL);
        }
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const struct options *options = userdata;
        const char *interface, *path = sd_bus_message_get_path(m);
        struct json_writer w;
        char name[32];
        int r;

        r = sd_bus_message_read(m, "s", &interface);
        if (r < 0 || (strcmp(interface, VFIO_PT_DEVICE_INTERFACE) != 0 && strcmp(interface, VFIO_PT_GROUP_INTERFACE) != 0))
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return bus_log_parse_error(r);
        if (options->json) {
                json_writer_init_compact(&w, stdout);
                json_begin_object(&w);
                json_key(&w, "object");
                json_string(&w, path);
                json_key(&w, "changed");
                json_begin_object(&w);
        } else
                printf("%s:", object_name(path, name));
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *property, *contents;

                r = sd_bus_message_read(m, "s", &property);
                if (r >= 0)
                        r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r >= 0)
                        r = sd_bus_message_enter_container(m, 'v', contents);
                if (r < 0)
                        return bus_log_parse_error(r);
                if (options->json)
                        json_key(&w, property);
                else
                        printf(" %s=", property);
                r = print_value(m, options->json ? &w : NULL);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return bus_log_parse_error(r);
        }
        if (options->json) {
                json_end_object(&w);
                json_end_object(&w);
                (void) json_writer_finish(&w);
        } else
                putchar('\n');
        fflush(stdout);
        return 0;
}

static int on_interfaces(sd_bus_message *m, void *userdata, bool added) {
        const struct options *options = userdata;
        const char *path;
        char name[32];
        int r;

        r = sd_bus_message_read(m, "o", &path);
        if (r < 0)
                return bus_log_parse_error(r);
        if (options->json) {
                struct json_writer w;

                json_writer_init_compact(&w, stdout);
                json_begin_object(&w);
                json_key(&w, "object");
                json_string(&w, path);
                json_key(&w, added ? "added" : "removed");
                json_bool(&w, true);
                json_end_object(&w);
                (void) json_writer_finish(&w);
        } else
                printf("%s: %s\n", object_name(path, name), added ? "appeared" : "gone");
        fflush(stdout);
        return 0;
}

static int on_added(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return on_interfaces(m, userdata, true);
}

static int on_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return on_interfaces(m, userdata, false);
}

int verb_monitor(int argc, char *argv[], const struct options *options) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;
        r = sd_bus_match_signal(bus, NULL, VFIO_PT_BUS_NAME, NULL, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", on_properties_changed, (void *) options);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH,
                                        "org.freedesktop.DBus.ObjectManager", "InterfacesAdded", on_added,
                                        (void *) options);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH,
                                        "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved", on_removed,
                                        (void *) options);
        if (r < 0) {
                log_error(NULL, "cannot watch vfio-passthroughd's signals: %s", strerror(-r));
                return r;
        }
        /* Until interrupted, or until stdout goes away (a pipe closed by its reader). */
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        log_error(NULL, "lost the system bus: %s", strerror(-r));
                        return r;
                }
                if (ferror(stdout))
                        return -EIO;
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0 && r != -EINTR) {
                        log_error(NULL, "lost the system bus: %s", strerror(-r));
                        return r;
                }
        }
}
