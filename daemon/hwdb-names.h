/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

struct udev;

/* The names of PCI devices in udev's hardware database, found the way udev's hwdb builtin finds
 * ID_VENDOR_FROM_DATABASE and friends. Every answer is kept, by the ids and class it was asked
 * for: a machine has a few dozen kinds of device however many functions it has, and the database
 * (13 MB, mapped) is opened only for a kind not seen before, then closed again by
 * hwdb_names_close() once a round of reading is done, so that its pages do not stay resident.
 * For the main thread only. */
struct hwdb_names;

int hwdb_names_new(struct udev *udev, struct hwdb_names **ret);
struct hwdb_names *hwdb_names_free(struct hwdb_names *names);

/* The vendor, device and class names (NULL when the database has none, or there is no database);
 * they point into names and stay valid until hwdb_names_free(). */
int hwdb_names_lookup(struct hwdb_names *names, uint16_t vendor_id, uint16_t device_id,
                      uint16_t subsystem_vendor_id, uint16_t subsystem_device_id, uint32_t class_code,
                      const char **ret_vendor, const char **ret_device, const char **ret_class);

/* Unmaps the database until the next lookup of a kind not seen before. */
void hwdb_names_close(struct hwdb_names *names);
