/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pci-device.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address-directory.h"
#include "hwdb-names.h"
#include "macro.h"
#include "sysfs.h"

struct pci_device *pci_device_free(struct pci_device *d) {
        if (!d)
                return NULL;
        free(d->vendor_name);
        free(d->device_name);
        free(d->class_name);
        free(d->driver);
        free(d->driver_override);
        free(d);
        return NULL;
}

void pci_device_freep(struct pci_device **d) {
        pci_device_free(*d);
}

static int read_id(const struct pci_address *a, const char *attribute, uint32_t max, uint32_t *ret) {
        char path[PATH_MAX];
        uint32_t v;
        int r;

        r = pci_device_path(a, attribute, path, sizeof(path));
        if (r < 0)
                return r;
        r = sysfs_read_hex(path, &v);
        if (r < 0)
                return r;
        if (v > max)
                return -EBADMSG;
        *ret = v;
        return 0;
}

static int read_optional_int(const struct pci_address *a, const char *attribute, int *ret) {
        char path[PATH_MAX];
        int r;

        r = pci_device_path(a, attribute, path, sizeof(path));
        if (r < 0)
                return r;
        r = sysfs_read_int(path, ret);
        if (r == -ENOENT) {
                *ret = -1;
                return 0;
        }
        return r;
}

static int read_link(const struct pci_address *a, const char *attribute, char **ret) {
        char path[PATH_MAX];
        int r;

        r = pci_device_path(a, attribute, path, sizeof(path));
        if (r < 0)
                return r;
        r = sysfs_read_link_name(path, ret);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        return r;
}

int pci_device_read_driver(const struct pci_address *a, char **ret) {
        return read_link(a, "driver", ret);
}

/* PCIe extended capabilities start at 0x100; the Device Serial Number one (id 3) holds 64 bits. */
#define PCI_EXT_CAP_START 0x100
#define PCI_EXT_CAP_ID_DSN 0x0003
#define PCI_CONFIG_SPACE_EXT 4096

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

int pci_device_read_serial(const struct pci_address *a, uint64_t *ret) {
        _cleanup_(closep) int fd = -1;
        _cleanup_(freep) uint8_t *config = NULL;
        char path[PATH_MAX];
        unsigned offset = PCI_EXT_CAP_START;
        ssize_t n;
        int r;

        r = pci_device_path(a, "config", path, sizeof(path));
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        config = malloc(PCI_CONFIG_SPACE_EXT);
        if (!config)
                return -ENOMEM;
        /* The kernel shows the extended space only to CAP_SYS_ADMIN: short reads say "none". */
        n = pread(fd, config, PCI_CONFIG_SPACE_EXT, 0);
        if (n < 0)
                return negative_errno();
        for (unsigned hops = 0; hops < 64 && offset >= PCI_EXT_CAP_START && offset + 12 <= (size_t) n; hops++) {
                uint32_t header = le32(config + offset);

                if (header == 0 || header == UINT32_MAX)
                        break;
                if ((header & 0xffff) == PCI_EXT_CAP_ID_DSN) {
                        *ret = (uint64_t) le32(config + offset + 8) << 32 | le32(config + offset + 4);
                        return 0;
                }
                offset = (header >> 20) & 0xffc;
        }
        return -ENODATA;
}

int pci_device_resolve_syspath(const struct pci_address *a, char **ret) {
        char path[PATH_MAX];
        int r;

        r = pci_device_path(a, NULL, path, sizeof(path));
        if (r < 0)
                return r;
        *ret = realpath(path, NULL);
        if (!*ret)
                return errno == ENOENT ? -ENODEV : negative_errno();
        return 0;
}

static int read_driver_override(const struct pci_address *a, char **ret) {
        _cleanup_(freep) char *value = NULL;
        char path[PATH_MAX];
        int r;

        r = pci_device_path(a, "driver_override", path, sizeof(path));
        if (r < 0)
                return r;
        r = sysfs_read_string(path, &value);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        /* The kernel prints "(null)" when no override is set. */
        if (value[0] == '\0' || strcmp(value, "(null)") == 0)
                *ret = NULL;
        else
                *ret = TAKE_PTR(value);
        return 0;
}

int pci_device_read_iommu_group(const struct pci_address *a, int *ret) {
        _cleanup_(freep) char *name = NULL;
        char *end;
        long v;
        int r;

        r = read_link(a, "iommu_group", &name);
        if (r < 0)
                return r;
        if (!name) {
                *ret = -1;
                return 0;
        }
        errno = 0;
        v = strtol(name, &end, 10);
        if (errno != 0 || end == name || *end != '\0' || v < 0 || v > INT32_MAX)
                return -EBADMSG;
        *ret = (int) v;
        return 0;
}


static int lookup_names(struct hwdb_names *names, struct pci_device *d) {
        const char *vendor, *device, *class;
        int r;

        r = hwdb_names_lookup(names, d->vendor_id, d->device_id, d->subsystem_vendor_id, d->subsystem_device_id,
                              d->class_code, &vendor, &device, &class);
        if (r < 0)
                return r;
        r = strdup_or_null(vendor, &d->vendor_name);
        if (r < 0)
                return r;
        r = strdup_or_null(device, &d->device_name);
        if (r < 0)
                return r;
        return strdup_or_null(class, &d->class_name);
}

int pci_device_load(const struct pci_reader *reader, const struct pci_address *a, struct pci_device **ret) {
        _cleanup_(pci_device_freep) struct pci_device *d = NULL;
        char path[PATH_MAX];
        uint32_t v;
        struct stat st;
        int r;

        r = pci_device_path(a, NULL, path, sizeof(path));
        if (r < 0)
                return r;
        if (stat(path, &st) < 0)
                return errno == ENOENT ? -ENODEV : negative_errno();

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->address = *a;
        pci_address_format(a, d->name);

        r = read_id(a, "vendor", UINT16_MAX, &v);
        if (r < 0)
                return r;
        d->vendor_id = (uint16_t) v;
        r = read_id(a, "device", UINT16_MAX, &v);
        if (r < 0)
                return r;
        d->device_id = (uint16_t) v;
        /* Conventional PCI devices without a subsystem id exist; 0 is what lspci shows then. */
        if (read_id(a, "subsystem_vendor", UINT16_MAX, &v) >= 0)
                d->subsystem_vendor_id = (uint16_t) v;
        if (read_id(a, "subsystem_device", UINT16_MAX, &v) >= 0)
                d->subsystem_device_id = (uint16_t) v;
        r = read_id(a, "class", 0xffffff, &d->class_code);
        if (r < 0)
                return r;

        r = read_link(a, "driver", &d->driver);
        if (r < 0)
                return r;
        r = pci_device_read_iommu_group(a, &d->iommu_group);
        if (r < 0)
                return r;
        d->busy = reader && reader->group_busy && d->iommu_group >= 0 &&
                  reader->group_busy(d->iommu_group, reader->userdata);
        if (!d->busy) {
                r = read_driver_override(a, &d->driver_override);
                if (r < 0)
                        return r;
        }
        r = read_optional_int(a, "numa_node", &d->numa_node);
        if (r < 0)
                return r;

        r = lookup_names(reader ? reader->names : NULL, d);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(d);
        return 0;
}

int pci_device_enumerate(struct pci_address **ret, size_t *ret_count) {
        return address_directory_list(SYSFS_PCI_DEVICES, ret, ret_count);
}
