/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "device-description.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-call.h"
#include "macro.h"

void device_description_done(struct device_description *d) {
        free(d->members);
        d->members = NULL;
        d->n_members = 0;
}

static int read_description(sd_bus_message *reply, struct device_description *ret) {
        int viable, r;

        r = device_info_read(reply, &ret->device);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "ib", &ret->iommu_group, &viable);
        if (r < 0)
                return r;
        ret->group_viable = viable;
        return device_info_read_array(reply, &ret->members, &ret->n_members);
}

int device_describe(sd_bus *bus, const char *address, sd_bus_message **ret_reply, struct device_description *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        struct device_description description = {};
        int r;

        r = bus_new_method_call(bus, "DescribeDevice", &call);
        if (r < 0)
                return r;
        r = sd_bus_message_append(call, "s", address);
        if (r < 0) {
                fprintf(stderr, "vfio-passthroughctl: failed to build the DescribeDevice call: %s\n", strerror(-r));
                return r;
        }
        r = bus_call(bus, call, &reply);
        if (r < 0)
                return r;

        r = read_description(reply, &description);
        if (r < 0) {
                device_description_done(&description);
                return bus_log_parse_error(r);
        }
        *ret_reply = TAKE_PTR(reply);
        *ret = description;
        return 0;
}
