/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "device-info.h"
#include "json.h"

/* Text shared by the verbs that print devices, so "list" and "show" never disagree. */

/* "8086:15b7", lower-case hex as lspci -n prints it. */
#define DEVICE_ID_STRING_MAX 10
const char *device_format_id(const struct device_info *d, char buf[static DEVICE_ID_STRING_MAX]);

/* The class name, or the 24-bit class code in hex ("020000") when the hardware database has none. */
#define DEVICE_CLASS_STRING_MAX 9
const char *device_format_class(const struct device_info *d, char buf[static DEVICE_CLASS_STRING_MAX]);

/* "Intel Corporation I210 Gigabit Network Connection"; unknown halves fall back to lspci's
 * "Vendor 8086" / "Device 15b7". Returns a malloc()ed string, or NULL when out of memory. */
char *device_format_name(const struct device_info *d);

/* "igb", "-" when unbound, with " (override: vfio-pci)" when driver_override is set.
 * Returns a malloc()ed string, or NULL when out of memory. */
char *device_format_driver(const struct device_info *d);

/* Writes the device as a JSON object; the schema is documented in vfio-passthroughctl(1). */
void device_write_json(struct json_writer *w, const struct device_info *d);
