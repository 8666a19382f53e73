/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bus-path.h"
#include "context.h"
#include "pci-address.h"

/* What the Device and Group objects show (bus-objects.h), kept between calls so that reading them
 * costs no sysfs access, and read again whenever something may have changed it: a uevent, an
 * operation queued or ended, a change of the mount table, the swap areas or the network links,
 * and a slow sweep for what nobody announces (driver_override written by another tool, a mount
 * in another namespace). Each refresh compares with what was shown before and announces exactly
 * what changed: PropertiesChanged with the changed properties, InterfacesAdded and
 * InterfacesRemoved for functions and groups that appeared or vanished. */

/* Booleans are ints: that is what sd-bus reads for "b". */
struct device_state {
        struct context *context; /* for the Device object's methods */
        struct pci_address address;
        char path[BUS_PATH_MAX];
        char name[PCI_ADDRESS_STRING_MAX];
        char *address_text; /* name, as a pointer for the vtable */
        uint16_t vendor_id, device_id, subsystem_vendor_id, subsystem_device_id;
        uint32_t class_code;
        char *vendor_name, *device_name, *class_name; /* "" when unknown */
        char *driver;                                 /* "" when none */
        char *driver_override; /* "" when unset; while Busy, the last value read */
        int iommu_group;       /* -1: none */
        char *group_path;      /* "/" without a group */
        int32_t numa_node;
        int busy;
        char *host_use; /* "" when free; while Busy, the last value read */
        int managed;
        char *original_driver; /* "" when not managed or no driver */
        uint32_t owner, grantee; /* VFIO_PT_NO_UID when none */
        char **nodes;            /* the VFIO nodes that exist for it now */
        char *interrupted;       /* "attach", ... while a recovery is pending; "" */
        char *recovery;          /* what start-up recovery did; "" */
        char *record_problem;    /* why its record cannot be read; "" */
        int vfio_ready;          /* as it is now, it lets VFIO use its group */
        char *vfio_note;         /* why, in a few words */
};

struct group_state {
        int id;
        char path[BUS_PATH_MAX];
        int viable;
        char **members;         /* object paths */
        char **blocker_paths;   /* with blocker_reasons: a(os); "/" for a non-PCI member */
        char **blocker_reasons;
        char *node;             /* "/dev/vfio/ID" when it exists, else "" */
};

/* The first full read, and the sources that keep it true. */
int device_model_start(struct context *c);
void device_model_free(struct context *c);

/* Something about this device (NULL: anything) or group may have changed. The refresh runs a
 * moment later, once for a burst of calls. */
void device_model_invalidate(struct context *c, const struct pci_address *address);
void device_model_invalidate_group(struct context *c, int iommu_group);

const struct device_state *device_model_find(const struct context *c, const struct pci_address *address);
const struct group_state *device_model_find_group(const struct context *c, int id);

/* Every device, in address order, as of the last refresh. */
const struct device_state *const *device_model_devices(const struct context *c, size_t *ret_n);

/* Reads this device, the rest of its IOMMU group and what the host uses again now, and announces
 * what changed; a device that is not there any more is gone from the model afterwards. */
void device_model_refresh_device(struct context *c, const struct pci_address *address);

/* Every object path, devices then groups. */
int device_model_paths(const struct context *c, char ***ret);

/* For the tests and the benchmark: refresh now rather than a moment later. */
void device_model_refresh_now(struct context *c);
