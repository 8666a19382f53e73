/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "device-format.h"

#include <stdio.h>

const char *device_format_id(const struct device_info *d, char buf[static DEVICE_ID_STRING_MAX]) {
        snprintf(buf, DEVICE_ID_STRING_MAX, "%04x:%04x", (unsigned) d->vendor_id, (unsigned) d->device_id);
        return buf;
}

const char *device_format_class(const struct device_info *d, char buf[static DEVICE_CLASS_STRING_MAX]) {
        if (d->class_name)
                return d->class_name;
        snprintf(buf, DEVICE_CLASS_STRING_MAX, "%06x", (unsigned) (d->class_code & 0xffffff));
        return buf;
}

char *device_format_name(const struct device_info *d) {
        char vendor[sizeof("Vendor ffff")], device[sizeof("Device ffff")];
        char *s;

        snprintf(vendor, sizeof(vendor), "Vendor %04x", (unsigned) d->vendor_id);
        snprintf(device, sizeof(device), "Device %04x", (unsigned) d->device_id);
        if (asprintf(&s, "%s %s", d->vendor_name ?: vendor, d->device_name ?: device) < 0)
                return NULL;
        return s;
}

char *device_format_driver(const struct device_info *d) {
        char *s;
        int r;

        if (d->driver_override)
                r = asprintf(&s, "%s (override: %s)", d->driver ?: "-", d->driver_override);
        else
                r = asprintf(&s, "%s", d->driver ?: "-");
        return r < 0 ? NULL : s;
}

static void write_hex(struct json_writer *w, const char *key, unsigned value, int digits) {
        char buf[sizeof("ffffffff")];

        snprintf(buf, sizeof(buf), "%0*x", digits, value);
        json_key(w, key);
        json_string(w, buf);
}

/* -1 is how the bus says "none"; JSON has a word for that. */
static void write_int_or_null(struct json_writer *w, const char *key, int32_t value) {
        json_key(w, key);
        if (value < 0)
                json_null(w);
        else
                json_int(w, value);
}

static void write_string(struct json_writer *w, const char *key, const char *value) {
        json_key(w, key);
        json_string(w, value);
}

/* Every key is always written, null when unknown, so consumers can rely on the shape. Ids are
 * hex strings as lspci and sysfs spell them, not numbers nobody recognizes in decimal. */
void device_write_json(struct json_writer *w, const struct device_info *d) {
        json_begin_object(w);
        write_string(w, "address", d->address);
        write_hex(w, "vendor_id", d->vendor_id, 4);
        write_hex(w, "device_id", d->device_id, 4);
        write_hex(w, "subsystem_vendor_id", d->subsystem_vendor_id, 4);
        write_hex(w, "subsystem_device_id", d->subsystem_device_id, 4);
        write_hex(w, "class", d->class_code & 0xffffff, 6);
        write_string(w, "vendor_name", d->vendor_name);
        write_string(w, "device_name", d->device_name);
        write_string(w, "class_name", d->class_name);
        write_string(w, "driver", d->driver);
        write_string(w, "driver_override", d->driver_override);
        write_int_or_null(w, "iommu_group", d->iommu_group);
        write_int_or_null(w, "numa_node", d->numa_node);
        json_key(w, "busy");
        json_bool(w, d->busy > 0);
        /* "" when the host does not use it, null when the daemon could not tell. */
        json_key(w, "host_use");
        if (d->host_use_known)
                json_string(w, d->host_use ?: "");
        else
                json_null(w);
        /* The daemon's record: null for a device it did not move. */
        write_int_or_null(w, "owner", d->has_owner ? (int32_t) d->owner : -1);
        write_int_or_null(w, "grantee", d->has_grantee ? (int32_t) d->grantee : -1);
        write_string(w, "original_driver", d->has_owner ? (d->original_driver ?: "") : NULL);
        write_string(w, "record_problem", d->record_problem);
        write_string(w, "interrupted", d->interrupted);
        write_string(w, "recovery", d->recovery);
        /* Group members only: the top-level device of "show" has no such keys. */
        if (d->vfio_ready >= 0 || d->vfio_note) {
                json_key(w, "vfio_ready");
                json_bool(w, d->vfio_ready > 0);
                write_string(w, "vfio_note", d->vfio_note);
        }
        json_end_object(w);
}
