/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "device-description.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-call.h"
#include "bus-path.h"
#include "macro.h"
#include "object-tree.h"
#include "vfio-passthrough-bus.h"

void device_description_done(struct device_description *d) {
        free(d->members);
        d->members = NULL;
        d->n_members = 0;
}

/* Asks the daemon to read the device and its group again, for what no event announces. */
static int refresh_device(sd_bus *bus, const char *address) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        char path[BUS_PATH_MAX];
        struct pci_address a;
        int r;

        if (pci_address_parse(address, &a) < 0)
                return -EINVAL;
        r = sd_bus_message_new_method_call(bus, &call, VFIO_PT_BUS_NAME, bus_device_path(&a, path),
                                           VFIO_PT_DEVICE_INTERFACE, "Refresh");
        if (r < 0) {
                fprintf(stderr, "vfio-passthroughctl: failed to create the Refresh call: %s\n", strerror(-r));
                return r;
        }
        return bus_call(bus, call, &reply);
}

int device_describe(sd_bus *bus, const char *address, bool refresh, sd_bus_message **ret_reply,
                    struct device_description *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(object_tree_done) struct object_tree tree = {};
        int r;

        if (refresh) {
                r = refresh_device(bus, address);
                if (r < 0)
                        return r;
        }
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
