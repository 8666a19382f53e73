/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reconcile.h"

#include <errno.h>
#include <stdlib.h>

#include "grant.h"
#include "log.h"
#include "macro.h"
#include "pci-device.h"
#include "recovery.h"
#include "state.h"

void reconcile_state(struct context *c) {
        _cleanup_(freep) struct pci_address *addresses = NULL;
        size_t n;
        int r;

        r = state_prepare(c->state_dir);
        if (r < 0)
                log_warning_errno(r, "Could not prepare the state directory %s", c->state_dir);
        /* First, so that the groups of half-done devices read as Busy below. */
        recovery_start(c);
        r = state_list(c->state_dir, &addresses, &n);
        if (r < 0) {
                log_warning_errno(r, "Could not read the state directory %s; restoring devices moved before "
                                     "this start will fail", c->state_dir);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_(device_record_freep) struct device_record *record = NULL;
                _cleanup_(pci_device_freep) struct pci_device *d = NULL;
                _cleanup_(freep) char *problem = NULL;
                char name[PCI_ADDRESS_STRING_MAX];

                pci_address_format(&addresses[i], name);
                r = state_load(c->state_dir, &addresses[i], &record, NULL);
                if (r >= 0 && record->intent != INTENT_NONE)
                        continue; /* recovery's */
                record = device_record_free(record);
                /* Not the device's driver_override, which a write stuck in the kernel could make
                 * wait: only what the reader reads for a busy group. */
                r = pci_device_load(&c->reader, &addresses[i], &d);
                if (r == -ENODEV) {
                        log_warning("Managed device %s is not present; keeping its record.", name);
                        continue;
                }
                if (r < 0) {
                        log_warning_errno(r, "Could not read managed device %s", name);
                        continue;
                }
                r = state_load_for(c->state_dir, d, &record, &problem);
                if (r == -ENOENT)
                        continue; /* about another device: set aside */
                if (r < 0) {
                        log_warning("The record of %s in %s cannot be read (%s); 'vfio-passthroughctl forget %s' "
                                    "drops it.",
                                    name, c->state_dir, problem ?: strerror(-r), name);
                        continue;
                }
                log_info("Managed device %s: on %s now, original driver %s, owner uid %u%s.", name,
                         driver_or_none(d->driver), driver_or_none(record->original_driver),
                         (unsigned) record->owner_uid, record->granted ? ", granted" : "");
                if (record->granted)
                        grant_reapply_group(c->state_dir, d->iommu_group);
        }
}
