/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"
#include "object-tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-call.h"
#include "bus-path.h"
#include "macro.h"
#include "pci-address.h"
#include "strv.h"
#include "vfio-passthrough-bus.h"

static void group_info_done(struct group_info *g) {
        free(g->members);
        free(g->blocker_paths);
        free(g->blocker_reasons);
}

void object_tree_done(struct object_tree *t) {
        free(t->devices);
        for (size_t i = 0; i < t->n_groups; i++)
                group_info_done(&t->groups[i]);
        free(t->groups);
        *t = (struct object_tree) {};
}

static int push(const char ***list, size_t *n, const char *s) {
        const char **p = reallocarray(*list, *n + 2, sizeof(char *));
        if (!p)
                return -ENOMEM;
        p[(*n)++] = s;
        p[*n] = NULL;
        *list = p;
        return 0;
}

static int read_members(sd_bus_message *m, struct group_info *g) {
        size_t n = 0;
        const char *path;
        int r;

        r = sd_bus_message_enter_container(m, 'v', "ao");
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "o");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "o", &path)) > 0) {
                r = push((const char ***) &g->members, &n, path);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_blockers(sd_bus_message *m, struct group_info *g) {
        size_t n = 0, k = 0;
        const char *path, *reason;
        int r;

        r = sd_bus_message_enter_container(m, 'v', "a(os)");
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "(os)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(os)", &path, &reason)) > 0) {
                r = push((const char ***) &g->blocker_paths, &n, path);
                if (r >= 0)
                        r = push((const char ***) &g->blocker_reasons, &k, reason);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_group_value(sd_bus_message *m, const char *key, void *userdata) {
        struct group_info *g = userdata;
        int viable, r;

        if (streq_ptr(key, "Id"))
                return sd_bus_message_read(m, "v", "i", &g->id);
        if (streq_ptr(key, "Viable")) {
                r = sd_bus_message_read(m, "v", "b", &viable);
                g->viable = viable;
                return r;
        }
        if (streq_ptr(key, "Members"))
                return read_members(m, g);
        if (streq_ptr(key, "Blockers"))
                return read_blockers(m, g);
        return sd_bus_message_skip(m, "v");
}

static int read_group(sd_bus_message *m, struct group_info *ret) {
        struct group_info g = { .id = -1 };
        int r;

        r = bus_read_dictionary(m, read_group_value, &g);
        if (r < 0) {
                group_info_done(&g);
                return r;
        }
        *ret = g;
        return 0;
}

static int compare_devices(const void *a, const void *b) {
        const struct device_info *x = a, *y = b;
        struct pci_address pa, pb;

        if (pci_address_parse(x->address, &pa) < 0 || pci_address_parse(y->address, &pb) < 0)
                return strcmp(x->address, y->address);
        return pci_address_compare(&pa, &pb);
}

static int read_tree(sd_bus_message *m, struct object_tree *t) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
                const char *path;

                r = sd_bus_message_read(m, "o", &path);
                if (r < 0)
                        return r;
                r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
                if (r < 0)
                        return r;
                while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
                        const char *interface;

                        r = sd_bus_message_read(m, "s", &interface);
                        if (r < 0)
                                return r;
                        if (streq_ptr(interface, VFIO_PT_DEVICE_INTERFACE)) {
                                struct device_info *p = reallocarray(t->devices, t->n_devices + 1, sizeof(*p));
                                if (!p)
                                        return -ENOMEM;
                                t->devices = p;
                                r = device_info_read_object(m, &t->devices[t->n_devices]);
                                if (r >= 0)
                                        t->n_devices++;
                        } else if (streq_ptr(interface, VFIO_PT_GROUP_INTERFACE)) {
                                struct group_info *p = reallocarray(t->groups, t->n_groups + 1, sizeof(*p));
                                if (!p)
                                        return -ENOMEM;
                                t->groups = p;
                                r = read_group(m, &t->groups[t->n_groups]);
                                if (r >= 0)
                                        t->n_groups++;
                        } else
                                r = sd_bus_message_skip(m, "a{sv}");
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                        if (r < 0)
                                return r;
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        if (t->n_devices > 1)
                qsort(t->devices, t->n_devices, sizeof(*t->devices), compare_devices);
        return 0;
}

int object_tree_load(sd_bus *bus, sd_bus_message **ret_reply, struct object_tree *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        struct object_tree t = {};
        int r;

        r = sd_bus_message_new_method_call(bus, &call, VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH,
                                           "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
        if (r < 0) {
                log_error(NULL, "failed to create the GetManagedObjects call: %s", strerror(-r));
                return r;
        }
        r = bus_call(bus, call, &reply);
        if (r < 0)
                return r;
        r = read_tree(reply, &t);
        if (r < 0) {
                object_tree_done(&t);
                return bus_log_parse_error(r);
        }
        *ret_reply = TAKE_PTR(reply);
        *ret = t;
        return 0;
}

int read_device_paths(sd_bus_message *m, char ***ret) {
        _cleanup_(strv_freep) char **addresses = NULL;
        size_t n = 0;
        const char *path;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "o");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "o", &path)) > 0) {
                struct pci_address a;
                char name[PCI_ADDRESS_STRING_MAX];
                char **p;

                if (bus_device_path_parse(path, &a) < 0)
                        return -EBADMSG;
                p = reallocarray(addresses, n + 2, sizeof(char *));
                if (!p)
                        return -ENOMEM;
                addresses = p;
                addresses[n] = strdup(pci_address_format(&a, name));
                if (!addresses[n])
                        return -ENOMEM;
                addresses[++n] = NULL;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        if (!addresses && !(addresses = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = TAKE_PTR(addresses);
        return 0;
}
