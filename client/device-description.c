/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "device-description.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-call.h"
#include "log.h"
#include "macro.h"
#include "vfio-passthrough-bus.h"

void device_description_done(struct device_description *d) {
        free(d->members);
        d->members = NULL;
        d->n_members = 0;
}

/* The device's own VfioReady and VfioNote come with its entry among the members. */
static void take_vfio_readiness(struct device_description *d) {
        for (size_t i = 0; i < d->n_members; i++)
                if (streq_ptr(d->members[i].address, d->device.address)) {
                        d->device.vfio_ready = d->members[i].vfio_ready;
                        d->device.vfio_note = d->members[i].vfio_note;
                }
}

int device_describe(sd_bus *bus, const char *address, sd_bus_message **ret_reply, struct device_description *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        struct device_description d = {};
        int r;

        r = sd_bus_message_new_method_call(bus, &call, VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE,
                                           "DescribeDevice");
        if (r >= 0)
                r = sd_bus_message_append(call, "s", address);
        if (r < 0) {
                log_error(NULL, "failed to create the DescribeDevice call: %s", strerror(-r));
                return r;
        }
        r = bus_call(bus, call, &reply);
        if (r < 0)
                return r;
        r = device_info_read(reply, &d.device);
        if (r >= 0)
                r = sd_bus_message_read(reply, "ib", &d.iommu_group, &d.group_viable);
        if (r >= 0)
                r = device_info_read_array(reply, &d.members, &d.n_members);
        if (r < 0) {
                device_description_done(&d);
                return bus_log_parse_error(r);
        }
        take_vfio_readiness(&d);
        *ret_reply = TAKE_PTR(reply);
        *ret = d;
        return 0;
}
