/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "device-info.h"

/* A device and its IOMMU group, as DescribeDevice returns them. "show" prints it; the verbs that
 * move devices ask for it too, to say what changed and why a group is still not usable. */
struct device_description {
        struct device_info device;
        int32_t iommu_group; /* -1: none */
        bool group_viable;
        struct device_info *members; /* the whole group, the device included */
        size_t n_members;
};

void device_description_done(struct device_description *d);

/* A canonical address's device and group from one DescribeDevice call, which reads them again
 * first (what the host uses included), for a view of this instant; its cost does not grow with
 * the number of devices on the machine, as GetManagedObjects' does. The strings in *ret point
 * into *ret_reply, which the caller keeps as long as it uses them. Prints its own errors, like
 * bus_call(); -ENODEV when there is no such device. */
int device_describe(sd_bus *bus, const char *address, sd_bus_message **ret_reply, struct device_description *ret);
