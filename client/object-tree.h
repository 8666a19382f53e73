/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "device-info.h"

/* Everything the daemon shows, from one GetManagedObjects call: its Device objects, sorted by
 * address, and its Group objects. The strings point into the reply, which the caller keeps. */
struct group_info {
        int32_t id;
        bool viable;
        char **members;  /* object paths */
        char **blocker_paths;
        char **blocker_reasons;
};

struct object_tree {
        struct device_info *devices;
        size_t n_devices;
        struct group_info *groups;
        size_t n_groups;
};

void object_tree_done(struct object_tree *t);

/* Prints its own errors, like bus_call(). */
int object_tree_load(sd_bus *bus, sd_bus_message **ret_reply, struct object_tree *ret);

/* Reads an "ao" of Device objects as canonical addresses (strv_free() them). */
int read_device_paths(sd_bus_message *m, char ***ret);
