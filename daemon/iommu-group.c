/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "iommu-group.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "macro.h"
#include "sysfs.h"
#include "vfio-viability.h"

struct iommu_group *iommu_group_free(struct iommu_group *g) {
        if (!g)
                return NULL;
        for (size_t i = 0; i < g->n_members; i++)
                pci_device_free(g->members[i]);
        free(g->members);
        free(g);
        return NULL;
}

void iommu_group_freep(struct iommu_group **g) {
        iommu_group_free(*g);
}

static int member_compare(const void *a, const void *b) {
        const struct pci_device *const *x = a, *const *y = b;
        return pci_address_compare(&(*x)->address, &(*y)->address);
}

/* A name in a group's devices/ that is not a PCI address is a member of another bus. */
static bool member_is_foreign(const char *name, struct pci_address *ret) {
        return pci_address_parse(name, ret) < 0;
}

int iommu_group_load(const struct pci_reader *reader, int id, struct iommu_group **ret) {
        _cleanup_(iommu_group_freep) struct iommu_group *g = NULL;
        _cleanup_(closedirp) DIR *dir = NULL;
        char path[PATH_MAX];
        struct dirent *de;
        size_t allocated = 0;

        if (id < 0)
                return -EINVAL;
        snprintf(path, sizeof(path), SYSFS_IOMMU_GROUPS "/%d/devices", id);
        dir = opendir(path);
        if (!dir)
                return errno == ENOENT ? -ENODEV : negative_errno();

        g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->id = id;

        while ((errno = 0, de = readdir(dir))) {
                _cleanup_(pci_device_freep) struct pci_device *d = NULL;
                struct pci_address a;
                int r;

                if (de->d_name[0] == '.')
                        continue;
                if (member_is_foreign(de->d_name, &a)) {
                        g->n_foreign++;
                        continue;
                }
                r = pci_device_load(reader, &a, &d);
                if (r == -ENODEV) /* removed while we looked */
                        continue;
                if (r < 0)
                        return r;

                if (g->n_members == allocated) {
                        size_t n = allocated ? allocated * 2 : 8;
                        struct pci_device **p = reallocarray(g->members, n, sizeof(*p));
                        if (!p)
                                return -ENOMEM;
                        g->members = p;
                        allocated = n;
                }
                g->members[g->n_members++] = TAKE_PTR(d);
        }
        if (errno != 0)
                return negative_errno();

        if (g->n_members > 1)
                qsort(g->members, g->n_members, sizeof(*g->members), member_compare);
        *ret = TAKE_PTR(g);
        return 0;
}

int iommu_group_count_foreign(int id, size_t *ret) {
        _cleanup_(closedirp) DIR *dir = NULL;
        char path[PATH_MAX];
        struct pci_address a;
        struct dirent *de;
        size_t n = 0;

        if (id < 0)
                return -EINVAL;
        snprintf(path, sizeof(path), SYSFS_IOMMU_GROUPS "/%d/devices", id);
        dir = opendir(path);
        if (!dir)
                return errno == ENOENT ? -ENODEV : negative_errno();
        while ((errno = 0, de = readdir(dir)))
                if (de->d_name[0] != '.' && member_is_foreign(de->d_name, &a))
                        n++;
        if (errno != 0)
                return negative_errno();
        *ret = n;
        return 0;
}

bool iommu_group_viable(const struct iommu_group *g) {
        if (g->n_foreign > 0)
                return false;
        for (size_t i = 0; i < g->n_members; i++)
                if (!vfio_driver_allows_group(g->members[i]->driver, NULL))
                        return false;
        return true;
}
