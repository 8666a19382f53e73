/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pci-address.h"

struct pci_device;

/* What the daemon must remember about a device it moved, so that Restore can undo it — also after
 * a restart: one file per device under the state directory, named by the canonical address. A
 * record says which device it is about (ids, serial number), so that a different card later
 * found at that address is never mistaken for the one the daemon moved. */

#define DEVICE_RECORD_MAX_NODES 8

/* What identifies a device beyond its address. */
struct device_ids {
        uint16_t vendor, device, subsystem_vendor, subsystem_device;
        bool has_serial; /* the PCIe Device Serial Number capability */
        uint64_t serial;
};

/* A /dev node whose ACL grants it to the grantee, and the device number it had then: a node that
 * now stands for another device (a number the kernel handed out again) is never touched. */
struct granted_node {
        char *path; /* "/dev/vfio/N", "/dev/vfio/devices/vfioN" or "/dev/iommu" */
        dev_t rdev;
};

/* An operation under way on the device, written before its first change and cleared after its
 * last: a record that still has one after a crash tells the next start what to finish or undo. */
enum record_intent {
        INTENT_NONE,
        INTENT_ATTACH,
        INTENT_DETACH,
        INTENT_RESTORE,
        INTENT_GRANT,
};

struct device_record {
        char address[PCI_ADDRESS_STRING_MAX];
        struct device_ids ids;
        char *original_driver;   /* NULL: the device had no driver */
        char *original_override; /* NULL: driver_override was unset */
        uid_t owner_uid;         /* who had the daemon move it first; acting for another owner is
                                  * a separate, admin-only action */
        bool granted;
        uid_t granted_uid;
        struct granted_node nodes[DEVICE_RECORD_MAX_NODES];
        size_t n_nodes;
        enum record_intent intent;
        uid_t intent_uid;     /* who asked for it */
        uid_t intent_grantee; /* Grant: the new grantee, and the nodes it is being given */
        struct granted_node intent_nodes[DEVICE_RECORD_MAX_NODES];
        size_t n_intent_nodes;
};

const char *record_intent_to_string(enum record_intent intent);

struct device_record *device_record_free(struct device_record *record);
void device_record_freep(struct device_record **record);

/* A new record for a device as it is now: ids, driver and override as read, no grant. */
int device_record_new(const struct pci_device *device, uid_t owner_uid, struct device_record **ret);

/* The ids of the device at address now, with its serial number where the device has one (reading
 * it needs CAP_SYS_ADMIN; without, it counts as having none). */
int device_ids_read(const struct pci_device *device, struct device_ids *ret);
bool device_ids_equal(const struct device_ids *a, const struct device_ids *b);

/* -ENOENT when the daemon holds no record for the device. -EBADMSG when the record cannot be
 * read (ret_problem, if given, says why: "line 4: bad ids", "no owner_uid"). */
int state_load(const char *state_dir, const struct pci_address *address, struct device_record **ret,
               char **ret_problem);

/* The record of device, when it is about this device: a record whose ids are another device's
 * (a card moved, another one put in that slot) is set aside — renamed into the set-aside
 * subdirectory with a log line — and the device counts as not managed (-ENOENT). */
int state_load_for(const char *state_dir, const struct pci_device *device, struct device_record **ret,
                   char **ret_problem);

/* Written to a temporary file, synced and renamed over the old record: a crash leaves the old or
 * the new record, never half of one. Creates the state directory (0700) when needed. */
int state_save(const char *state_dir, const struct device_record *record);

/* Forgets a device. Not having a record is fine. */
int state_remove(const char *state_dir, const struct pci_address *address);

/* Every device with a record, sorted by address. */
int state_list(const char *state_dir, struct pci_address **ret, size_t *ret_count);

/* At start-up: makes the directory 0700 (root only) and removes the temporary files of writes a
 * crash interrupted. */
int state_prepare(const char *state_dir);

/* The path of a device's record, for messages. */
int state_record_path(const char *state_dir, const struct pci_address *address, char **ret);

/* Adds a node to the record unless it is there already. -E2BIG when the record is full, -EINVAL
 * for a path that is not a VFIO node. */
int device_record_add_node(struct device_record *record, const char *path, dev_t rdev);
const struct granted_node *device_record_find_node(const struct device_record *record, const char *path);
/* The same for the nodes an interrupted Grant was giving. */
int device_record_add_intent_node(struct device_record *record, const char *path, dev_t rdev);
/* Forgets the operation under way (the caller saves the record). */
void device_record_clear_intent(struct device_record *record);

/* Writes the intent of an operation into the record and saves it: before its first change. */
int state_begin(const char *state_dir, struct device_record *record, enum record_intent intent, uid_t uid);
/* Clears the intent and saves the record: after the operation's last change. */
int state_commit(const char *state_dir, struct device_record *record);
