/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pci-address.h"

struct hwdb_names;

/* How the main thread reads devices. On some kernels (6.1) reading driver_override waits for the
 * device lock, which an unbind holds for as long as a VFIO user keeps the device open: while an
 * operation runs on a device's IOMMU group, the bus thread must not read it. */
struct pci_reader {
        struct hwdb_names *names; /* NULL: no names */
        bool (*group_busy)(int iommu_group, void *userdata); /* NULL: read everything */
        void *userdata;
};

/* What sysfs and the hardware database say about one PCI function, read fresh on each call:
 * the kernel, not the daemon, is the source of truth. */
struct pci_device {
        struct pci_address address;
        char name[PCI_ADDRESS_STRING_MAX];
        uint16_t vendor_id;
        uint16_t device_id;
        uint16_t subsystem_vendor_id;
        uint16_t subsystem_device_id;
        uint32_t class_code; /* 24 bits: base class, subclass, programming interface */
        char *vendor_name;   /* NULL when the hardware database has no entry */
        char *device_name;
        char *class_name;
        char *driver;          /* NULL when no driver is bound */
        char *driver_override; /* NULL when unset, or not read (busy) */
        bool busy;             /* an operation runs on its IOMMU group: driver_override was not read */
        int iommu_group;       /* -1 without an IOMMU */
        int numa_node;         /* -1 when the platform reports none */
};

/* -ENODEV when no such device exists. reader may be NULL: no names, every attribute read (what the
 * operation threads want). */
int pci_device_load(const struct pci_reader *reader, const struct pci_address *address, struct pci_device **ret);
struct pci_device *pci_device_free(struct pci_device *device);
void pci_device_freep(struct pci_device **device);

/* The driver bound to a device right now; *ret is NULL when none is. */
int pci_device_read_driver(const struct pci_address *address, char **ret);

/* The device's IOMMU group (-1: none), from its iommu_group link: never waits for the device lock. */
int pci_device_read_iommu_group(const struct pci_address *address, int *ret);

/* The device's PCIe Device Serial Number, from its extended configuration space. -ENODATA when it
 * has none, or the caller lacks CAP_SYS_ADMIN (the kernel then shows only the first 64 bytes). */
int pci_device_read_serial(const struct pci_address *address, uint64_t *ret);

/* Where the device sits in the sysfs device tree ("/sys/devices/pci0000:00/0000:00:1c.0/0000:59:00.0"):
 * what lies below that path (block devices, network interfaces, virtio devices) belongs to it.
 * -ENODEV when it is gone. */
int pci_device_resolve_syspath(const struct pci_address *address, char **ret);

/* Every PCI function the kernel knows, sorted by address. */
int pci_device_enumerate(struct pci_address **ret, size_t *ret_count);

/* A PCI-to-PCI bridge (class 0x0604) or any other bridge (base class 0x06). */
static inline int pci_device_is_bridge(const struct pci_device *d) {
        return (d->class_code >> 16) == 0x06;
}
