/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "targets.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "iommu-group.h"
#include "macro.h"
#include "state.h"
#include "vfio-passthrough-bus.h"
#include "vfio-viability.h"

void targets_done(struct targets *t) {
        for (size_t i = 0; i < t->n; i++)
                pci_device_free(t->devices[i]);
        free(t->devices);
        iommu_group_free(t->group);
        *t = (struct targets) {};
}

int targets_add(struct targets *t, struct pci_device *d) {
        struct pci_device **p = reallocarray(t->devices, t->n + 1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        t->devices = p;
        t->devices[t->n++] = d;
        return 0;
}

bool targets_contain(const struct targets *t, const struct pci_address *address) {
        for (size_t i = 0; i < t->n; i++)
                if (t->devices[i] && pci_address_equal(&t->devices[i]->address, address))
                        return true;
        return false;
}

static bool has_record(const char *state_dir, const struct pci_address *a) {
        _cleanup_(freep) char *path = NULL;
        return state_record_path(state_dir, a, &path) >= 0 && access(path, F_OK) >= 0;
}

static bool concerns(enum operation_kind kind, const struct pci_device *m, const char *state_dir) {
        switch (kind) {
        case OPERATION_DETACH:
                return !pci_device_is_bridge(m);
        case OPERATION_ATTACH:
                return !pci_device_is_bridge(m) && !vfio_driver_allows_group(m->driver, NULL);
        case OPERATION_RESTORE:
                return has_record(state_dir, &m->address);
        default:
                return false;
        }
}

int targets_select(const struct pci_reader *reader, enum operation_kind kind, const struct pci_address *named_address,
                   uint64_t flags, const char *state_dir, struct targets *ret) {
        _cleanup_(targets_done) struct targets t = {};
        struct pci_device *named = NULL;
        size_t kept = 0;
        int r;

        r = pci_device_load(reader, named_address, &named);
        if (r < 0)
                return r;
        r = targets_add(&t, named);
        if (r < 0) {
                pci_device_free(named);
                return r;
        }
        if (!(flags & VFIO_PT_FLAG_GROUP) || named->iommu_group < 0 || kind == OPERATION_GRANT ||
            kind == OPERATION_FORGET) {
                *ret = t;
                t = (struct targets) {};
                return 0;
        }

        r = iommu_group_load(reader, named->iommu_group, &t.group);
        if (r < 0)
                return r;
        for (size_t i = 0; i < t.group->n_members; i++) {
                struct pci_device *m = t.group->members[i];

                if (pci_address_equal(&m->address, named_address) || !concerns(kind, m, state_dir)) {
                        t.group->members[kept++] = m;
                        continue;
                }
                if (r >= 0)
                        r = targets_add(&t, m);
                if (r < 0)
                        t.group->members[kept++] = m; /* still the group's to free */
        }
        t.group->n_members = kept; /* the rest are the targets' now */
        if (r < 0)
                return r;
        *ret = t;
        t = (struct targets) {};
        return 0;
}
