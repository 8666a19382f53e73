/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "hwdb-names.h"

#include <errno.h>
#include <libudev.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"

struct name_entry {
        char modalias[64];
        char *vendor, *device, *class; /* NULL: none in the database */
};

struct hwdb_names {
        struct udev *udev;
        struct udev_hwdb *hwdb; /* open between a miss and hwdb_names_close() */
        bool missing;           /* the database could not be opened: said once, names stay empty */
        struct name_entry *entries;
        size_t n_entries;
};

int hwdb_names_new(struct udev *udev, struct hwdb_names **ret) {
        struct hwdb_names *names = calloc(1, sizeof(*names));

        if (!names)
                return -ENOMEM;
        names->udev = udev_ref(udev);
        *ret = names;
        return 0;
}

static void name_entry_done(struct name_entry *entry) {
        free(entry->vendor);
        free(entry->device);
        free(entry->class);
}

struct hwdb_names *hwdb_names_free(struct hwdb_names *names) {
        if (!names)
                return NULL;
        hwdb_names_close(names);
        for (size_t i = 0; i < names->n_entries; i++)
                name_entry_done(&names->entries[i]);
        free(names->entries);
        udev_unref(names->udev);
        free(names);
        return NULL;
}

void hwdb_names_close(struct hwdb_names *names) {
        if (names && names->hwdb)
                names->hwdb = udev_hwdb_unref(names->hwdb);
}

/* Reads one kind from the database into entry. */
static int read_entry(struct hwdb_names *names, struct name_entry *entry) {
        const char *vendor = NULL, *model = NULL, *class = NULL, *subclass = NULL;
        struct udev_list_entry *e;
        int r;

        if (!names->hwdb && !names->missing) {
                names->hwdb = udev_hwdb_new(names->udev);
                if (!names->hwdb) {
                        names->missing = true;
                        log_warning("No udev hardware database found; devices are listed without names.");
                }
        }
        if (!names->hwdb)
                return 0;
        udev_list_entry_foreach(e, udev_hwdb_get_properties_list_entry(names->hwdb, entry->modalias, 0)) {
                const char *key = udev_list_entry_get_name(e);
                const char *value = udev_list_entry_get_value(e);

                if (strcmp(key, "ID_VENDOR_FROM_DATABASE") == 0)
                        vendor = value;
                else if (strcmp(key, "ID_MODEL_FROM_DATABASE") == 0)
                        model = value;
                else if (strcmp(key, "ID_PCI_SUBCLASS_FROM_DATABASE") == 0)
                        subclass = value;
                else if (strcmp(key, "ID_PCI_CLASS_FROM_DATABASE") == 0)
                        class = value;
        }
        r = strdup_or_null(vendor, &entry->vendor);
        if (r >= 0)
                r = strdup_or_null(model, &entry->device);
        if (r >= 0)
                r = strdup_or_null(subclass ?: class, &entry->class);
        return r;
}

int hwdb_names_lookup(struct hwdb_names *names, uint16_t vendor_id, uint16_t device_id,
                      uint16_t subsystem_vendor_id, uint16_t subsystem_device_id, uint32_t class_code,
                      const char **ret_vendor, const char **ret_device, const char **ret_class) {
        struct name_entry entry = {}, *found = NULL, *p;
        int r;

        *ret_vendor = *ret_device = *ret_class = NULL;
        if (!names)
                return 0;
        snprintf(entry.modalias, sizeof(entry.modalias), "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", vendor_id,
                 device_id, subsystem_vendor_id, subsystem_device_id, (class_code >> 16) & 0xff,
                 (class_code >> 8) & 0xff, class_code & 0xff);
        for (size_t i = 0; i < names->n_entries && !found; i++)
                if (strcmp(names->entries[i].modalias, entry.modalias) == 0)
                        found = &names->entries[i];
        if (!found) {
                r = read_entry(names, &entry);
                p = r < 0 ? NULL : reallocarray(names->entries, names->n_entries + 1, sizeof(*p));
                if (!p) {
                        name_entry_done(&entry);
                        return r < 0 ? r : -ENOMEM;
                }
                names->entries = p;
                found = &names->entries[names->n_entries++];
                *found = entry;
        }
        *ret_vendor = found->vendor;
        *ret_device = found->device;
        *ret_class = found->class;
        return 0;
}
