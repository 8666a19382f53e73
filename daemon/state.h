/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "pci-address.h"

/* What the daemon must remember about a device it moved, so that Restore can undo it — also after
 * a restart: one file per device under the state directory, named by the canonical address. */

#define DEVICE_RECORD_MAX_NODES 8

/* A /dev node the daemon chowned, and who owned it before. */
struct node_owner {
        char *path; /* "/dev/vfio/N", "/dev/vfio/devices/vfioN" or "/dev/iommu" */
        uid_t uid;
        gid_t gid;
        mode_t mode;
};

struct device_record {
        char address[PCI_ADDRESS_STRING_MAX];
        char *original_driver;   /* NULL: the device had no driver */
        char *original_override; /* NULL: driver_override was unset */
        bool granted;
        uid_t granted_uid;
        struct node_owner nodes[DEVICE_RECORD_MAX_NODES];
        size_t n_nodes;
};

struct device_record *device_record_free(struct device_record *record);
void device_record_freep(struct device_record **record);

/* -ENOENT when the daemon holds no record for the device. */
int state_load(const char *state_dir, const struct pci_address *address, struct device_record **ret);

/* Written to a temporary file, synced and renamed over the old record: a crash leaves the old or
 * the new record, never half of one. Creates the state directory (0700) when needed. */
int state_save(const char *state_dir, const struct device_record *record);

/* Forgets a device. Not having a record is fine. */
int state_remove(const char *state_dir, const struct pci_address *address);

/* Every device with a record, sorted by address. */
int state_list(const char *state_dir, struct pci_address **ret, size_t *ret_count);

/* Adds a node to the record unless it is there already (the first previous owner is the one to
 * give back). Returns -E2BIG when the record is full. */
int device_record_add_node(struct device_record *record, const char *path, uid_t uid, gid_t gid, mode_t mode);
const struct node_owner *device_record_find_node(const struct device_record *record, const char *path);
