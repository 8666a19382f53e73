/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfio-passthrough-bus.h"

const char *bus_device_path(const struct pci_address *address, char buf[static BUS_PATH_MAX]) {
        char name[PCI_ADDRESS_STRING_MAX];
        char *p;

        snprintf(buf, BUS_PATH_MAX, VFIO_PT_DEVICES_PATH "/%s", pci_address_format(address, name));
        for (p = buf + strlen(VFIO_PT_DEVICES_PATH) + 1; *p; p++)
                if (*p == ':' || *p == '.')
                        *p = '_';
        return buf;
}

const char *bus_group_path(int iommu_group, char buf[static BUS_PATH_MAX]) {
        if (iommu_group < 0)
                snprintf(buf, BUS_PATH_MAX, "/");
        else
                snprintf(buf, BUS_PATH_MAX, VFIO_PT_GROUPS_PATH "/%d", iommu_group);
        return buf;
}

int bus_device_path_parse(const char *path, struct pci_address *ret) {
        char text[PCI_ADDRESS_STRING_MAX], canonical[BUS_PATH_MAX];
        const char *name;
        char *last;
        struct pci_address a;

        if (strncmp(path, VFIO_PT_DEVICES_PATH "/", strlen(VFIO_PT_DEVICES_PATH "/")) != 0)
                return -EINVAL;
        name = path + strlen(VFIO_PT_DEVICES_PATH "/");
        if (strlen(name) >= sizeof(text) || strpbrk(name, ":./"))
                return -EINVAL;
        strcpy(text, name);
        /* DOMAIN_BUS_SLOT_FUNCTION: the last '_' was the '.', the others ':'. */
        last = strrchr(text, '_');
        if (!last)
                return -EINVAL;
        for (char *p = text; *p; p++)
                if (*p == '_')
                        *p = p == last ? '.' : ':';
        if (pci_address_parse(text, &a) < 0)
                return -EINVAL;
        /* Only the canonical spelling names an object. */
        if (strcmp(bus_device_path(&a, canonical), path) != 0)
                return -EINVAL;
        *ret = a;
        return 0;
}

int bus_group_path_parse(const char *path, int *ret) {
        const char *n;
        char *end;
        long v;

        if (strncmp(path, VFIO_PT_GROUPS_PATH "/", strlen(VFIO_PT_GROUPS_PATH "/")) != 0)
                return -EINVAL;
        n = path + strlen(VFIO_PT_GROUPS_PATH "/");
        if (n[0] < '0' || n[0] > '9' || (n[0] == '0' && n[1] != '\0'))
                return -EINVAL;
        errno = 0;
        v = strtol(n, &end, 10);
        if (errno != 0 || *end != '\0' || v > INT32_MAX)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}
