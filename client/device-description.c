/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "device-description.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-call.h"
#include "macro.h"
#include "object-tree.h"

void device_description_done(struct device_description *d) {
        free(d->members);
        d->members = NULL;
        d->n_members = 0;
}

int device_describe(sd_bus *bus, const char *address, sd_bus_message **ret_reply, struct device_description *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(object_tree_done) struct object_tree tree = {};
        int r;

        r = object_tree_load(bus, &reply, &tree);
        if (r < 0)
                return r;
        r = object_tree_describe(&tree, address, ret);
        if (r == -ENODEV) {
                fprintf(stderr, "vfio-passthroughctl: No PCI device at %s. 'vfio-passthroughctl list' shows the "
                                "devices present.\n", address);
                return r;
        }
        if (r < 0) {
                fprintf(stderr, "vfio-passthroughctl: %s\n", strerror(-r));
                return r;
        }
        *ret_reply = TAKE_PTR(reply);
        return 0;
}
