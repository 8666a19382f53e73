/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "device-info.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bus-call.h"
#include "bus-path.h"
#include "macro.h"
#include "vfio-passthrough-bus.h"

/* Where each dictionary key lands, and the D-Bus type it must have. */
static const struct {
        const char *key;
        const char *type;
        size_t offset;
} device_fields[] = {
        { VFIO_PT_KEY_ADDRESS, "s", offsetof(struct device_info, address) },
        { VFIO_PT_KEY_VENDOR_ID, "q", offsetof(struct device_info, vendor_id) },
        { VFIO_PT_KEY_DEVICE_ID, "q", offsetof(struct device_info, device_id) },
        { VFIO_PT_KEY_SUBSYSTEM_VENDOR_ID, "q", offsetof(struct device_info, subsystem_vendor_id) },
        { VFIO_PT_KEY_SUBSYSTEM_DEVICE_ID, "q", offsetof(struct device_info, subsystem_device_id) },
        { VFIO_PT_KEY_CLASS, "u", offsetof(struct device_info, class_code) },
        { VFIO_PT_KEY_VENDOR_NAME, "s", offsetof(struct device_info, vendor_name) },
        { VFIO_PT_KEY_DEVICE_NAME, "s", offsetof(struct device_info, device_name) },
        { VFIO_PT_KEY_CLASS_NAME, "s", offsetof(struct device_info, class_name) },
        { VFIO_PT_KEY_DRIVER, "s", offsetof(struct device_info, driver) },
        { VFIO_PT_KEY_DRIVER_OVERRIDE, "s", offsetof(struct device_info, driver_override) },
        { VFIO_PT_KEY_IOMMU_GROUP, "i", offsetof(struct device_info, iommu_group) },
        { VFIO_PT_KEY_NUMA_NODE, "i", offsetof(struct device_info, numa_node) },
        { VFIO_PT_KEY_BUSY, "b", offsetof(struct device_info, busy) },
        { VFIO_PT_KEY_HOST_USE, "s", offsetof(struct device_info, host_use) },
        { VFIO_PT_KEY_OWNER, "u", offsetof(struct device_info, owner) },
        { VFIO_PT_KEY_GRANTEE, "u", offsetof(struct device_info, grantee) },
        { VFIO_PT_KEY_ORIGINAL_DRIVER, "s", offsetof(struct device_info, original_driver) },
        { VFIO_PT_KEY_RECORD_PROBLEM, "s", offsetof(struct device_info, record_problem) },
        { VFIO_PT_KEY_INTERRUPTED, "s", offsetof(struct device_info, interrupted) },
        { VFIO_PT_KEY_RECOVERY, "s", offsetof(struct device_info, recovery) },
        { VFIO_PT_KEY_VFIO_READY, "b", offsetof(struct device_info, vfio_ready) },
        { VFIO_PT_KEY_VFIO_NOTE, "s", offsetof(struct device_info, vfio_note) },
};

static int read_entry_value(sd_bus_message *m, const char *key, void *userdata) {
        struct device_info *d = userdata;

        for (size_t i = 0; i < ELEMENTSOF(device_fields); i++) {
                int r;

                if (strcmp(key, device_fields[i].key) != 0)
                        continue;
                r = sd_bus_message_read(m, "v", device_fields[i].type, (char *) d + device_fields[i].offset);
                if (r >= 0 && strcmp(key, VFIO_PT_KEY_OWNER) == 0)
                        d->has_owner = 1;
                if (r >= 0 && strcmp(key, VFIO_PT_KEY_GRANTEE) == 0)
                        d->has_grantee = 1;
                return r == -ENXIO ? -EBADMSG : r; /* -ENXIO: the variant holds another type */
        }
        return sd_bus_message_skip(m, "v");
}

static void empty_to_null(const char **s) {
        if (*s && !**s)
                *s = NULL;
}

/* The Device object's properties that differ from the dictionary's keys in type or meaning. */
static int read_object_value(sd_bus_message *m, const char *key, void *userdata) {
        struct device_info *d = userdata;
        int managed, r;
        uint32_t uid;

        if (streq_ptr(key, "IommuGroup")) {
                const char *path;
                int group;

                r = sd_bus_message_read(m, "v", "o", &path);
                if (r < 0)
                        return r == -ENXIO ? -EBADMSG : r;
                d->iommu_group = bus_group_path_parse(path, &group) >= 0 ? group : -1;
                return 0;
        }
        if (streq_ptr(key, "Managed")) {
                r = sd_bus_message_read(m, "v", "b", &managed);
                if (r >= 0)
                        d->has_owner = managed;
                return r == -ENXIO ? -EBADMSG : r;
        }
        if (streq_ptr(key, "Owner") || streq_ptr(key, "Grantee")) {
                r = sd_bus_message_read(m, "v", "u", &uid);
                if (r < 0)
                        return r == -ENXIO ? -EBADMSG : r;
                if (key[0] == 'O')
                        d->owner = uid;
                else {
                        d->grantee = uid;
                        d->has_grantee = uid != VFIO_PT_NO_UID;
                }
                return 0;
        }
        return read_entry_value(m, key, d);
}

/* After the dictionary is read: "" is NULL, and what follows from it. */
static int finish(struct device_info *d) {
        empty_to_null(&d->address);
        empty_to_null(&d->vendor_name);
        empty_to_null(&d->device_name);
        empty_to_null(&d->class_name);
        empty_to_null(&d->driver);
        empty_to_null(&d->driver_override);
        empty_to_null(&d->vfio_note);
        empty_to_null(&d->original_driver);
        empty_to_null(&d->record_problem);
        empty_to_null(&d->interrupted);
        empty_to_null(&d->recovery);
        empty_to_null(&d->host_use);
        return d->address ? 0 : -EBADMSG;
}

int device_info_read(sd_bus_message *m, struct device_info *ret) {
        struct device_info d = { .iommu_group = -1, .numa_node = -1, .vfio_ready = -1 };
        int r;

        r = bus_read_dictionary(m, read_entry_value, &d);
        if (r < 0)
                return r;
        /* A dictionary without the HostUse key: the daemon could not tell. */
        d.host_use_known = d.host_use != NULL;
        r = finish(&d);
        if (r < 0)
                return r;
        *ret = d;
        return 0;
}

int device_info_read_object(sd_bus_message *m, struct device_info *ret) {
        struct device_info d = { .iommu_group = -1, .numa_node = -1, .vfio_ready = -1 };
        int r;

        r = bus_read_dictionary(m, read_object_value, &d);
        if (r < 0)
                return r;
        /* The object always has HostUse; while Busy it is the value read before. */
        d.host_use_known = !d.busy;
        r = finish(&d);
        if (r < 0)
                return r;
        *ret = d;
        return 0;
}

int device_info_read_array(sd_bus_message *m, struct device_info **ret, size_t *ret_n) {
        _cleanup_(freep) struct device_info *devices = NULL;
        size_t n = 0, allocated = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "a{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_at_end(m, false)) == 0) {
                if (n == allocated) {
                        size_t grow = allocated ? allocated * 2 : 32;
                        struct device_info *p = reallocarray(devices, grow, sizeof(*devices));
                        if (!p)
                                return -ENOMEM;
                        devices = p;
                        allocated = grow;
                }
                r = device_info_read(m, &devices[n]);
                if (r < 0)
                        return r;
                n++;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(devices);
        *ret_n = n;
        return 0;
}
