/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

/* One device as the daemon describes it (see dbus/org.vfio.Passthrough1.xml). The strings point
 * into the reply message and live as long as it does. Absent and empty strings are both NULL:
 * the daemon sends "" for "no driver", and leaves out names the hardware database lacks. */
struct device_info {
        const char *address; /* never NULL */
        uint16_t vendor_id;
        uint16_t device_id;
        uint16_t subsystem_vendor_id;
        uint16_t subsystem_device_id;
        uint32_t class_code;
        const char *vendor_name;
        const char *device_name;
        const char *class_name;
        const char *driver;
        const char *driver_override;
        int32_t iommu_group; /* -1: none */
        int32_t numa_node;   /* -1: none */
        int busy;            /* an operation runs on its group; driver_override was not read */
        const char *host_use; /* why the host needs it; NULL when it does not, or unknown */
        int host_use_known;   /* whether the daemon said (it does not while busy) */
        /* What the daemon's record says, for a device it moved (has_owner): who owns it, who it is
         * granted to (has_grantee), the driver it came from. record_problem: the record cannot be
         * read, and why. */
        int has_owner, has_grantee;
        uint32_t owner, grantee;
        const char *original_driver;
        const char *record_problem;
        /* An operation the daemon was cut off in (interrupted: "attach", ...), and what its start-up
         * recovery found and did (recovery). */
        const char *interrupted;
        const char *recovery;
        /* Only in IOMMU group member lists. -1 when absent, else 0 or 1: an int, because that is
         * what sd-bus reads a boolean into. */
        int vfio_ready;
        const char *vfio_note;
};

/* Reads one a{sv} device dictionary. Unknown keys are skipped, so a newer daemon may add some;
 * a known key with the wrong type, or a missing Address, is -EBADMSG. */
int device_info_read(sd_bus_message *m, struct device_info *ret);

/* Reads the properties of a Device object (a{sv}, as GetAll or GetManagedObjects give them). */
int device_info_read_object(sd_bus_message *m, struct device_info *ret);

/* Reads an aa{sv} into a newly allocated array (free() it; the strings stay in the message). */
int device_info_read_array(sd_bus_message *m, struct device_info **ret, size_t *ret_n);
