/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attach: bind the device (with --group, every member) to vfio-pci, taking it from its host driver
 * first, and wait for its group node; all or nothing. */
#include "driver-ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device-moves.h"
#include "iommu-group.h"
#include "kernel-steps.h"
#include "log.h"
#include "module-loader.h"
#include "strv.h"
#include "vfio-passthrough-bus.h"
#include "vfio-nodes.h"
#include "vfio-viability.h"
#include "wait.h"

static int refuse_unfixable_group(struct operation *op, const struct iommu_group *group) {
        if (!group)
                return 0;
        if (group->n_foreign > 0)
                return operation_fail(op, VFIO_PT_ERROR_GROUP_NOT_VIABLE, -EXDEV,
                                      "IOMMU group %d also holds devices that are not PCI functions, so VFIO can "
                                      "never use it. Nothing was changed. An ACS-capable slot or the kernel's "
                                      "ACS override may split the group.",
                                      group->id);
        for (size_t i = 0; i < group->n_members; i++) {
                const struct pci_device *m = group->members[i];
                if (pci_device_is_bridge(m) && !vfio_driver_allows_group(m->driver, NULL))
                        return operation_fail(op, VFIO_PT_ERROR_GROUP_NOT_VIABLE, -EXDEV,
                                              "IOMMU group %d cannot be handed to VFIO: its member %s is a bridge "
                                              "driven by %s, which the daemon does not move. Nothing was changed. "
                                              "Put the device in another slot, or use a kernel that splits the "
                                              "group (ACS).",
                                              group->id, m->name, m->driver);
        }
        return 0;
}

/* vfio-pci drives only devices with a type 0 header: PCI-to-PCI and CardBus bridges it refuses to
 * probe. Forced or not, attaching one would only leave it without a driver. */
static int refuse_bridge(struct operation *op, const struct pci_device *d) {
        unsigned class = d->class_code >> 8;

        if (class != 0x0604 && class != 0x0607 && class != 0x0609)
                return 0;
        return operation_fail(op, VFIO_PT_ERROR_INVALID_ARGUMENT, -EINVAL,
                              "%s is a bridge, and vfio-pci does not drive bridges. Nothing was changed.", d->name);
}

static int move_to_vfio(struct operation *op, const struct pci_device *d) {
        int r;

        r = take_from_driver(op, d, &attach_steps, "attach");
        if (r < 0)
                return r;
        r = kernel_probe(op, d);
        if (r < 0)
                return r;
        crash_point(CRASH_POINT_ATTACH_PROBED);
        if (!kernel_wait_for_driver(op, &d->address, VFIO_PCI)) {
                _cleanup_(freep) char *now = NULL;
                (void) pci_device_read_driver(&d->address, &now);
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, -EIO,
                                      "vfio-pci did not bind %s within %.1f s (its driver is %s now). 'dmesg' may "
                                      "say why (an IOMMU not enabled, a device that fails reset).",
                                      d->name, usec_to_seconds(op->settle_usec), driver_or_none(now));
        }
        crash_point(CRASH_POINT_ATTACH_BOUND);
        log_info("uid %u: %s: %s → vfio-pci", (unsigned) op->caller_uid, d->name, driver_or_none(d->driver));
        return 0;
}

static int attach_targets(struct operation *op, struct targets *t) {
        int r;

        for (size_t i = 0; i < t->n; i++) {
                r = move_to_vfio(op, t->devices[i]);
                if (r < 0)
                        return r;
        }
        r = vfio_group_node_wait(op->iommu_group, op->settle_usec, &op->attach.group_node);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, -ENOENT,
                                      "%s is on vfio-pci but %s did not appear within %.1f s. Is udev running? "
                                      "'udevadm settle' and 'dmesg' may tell.",
                                      op->name, op->attach.group_node, usec_to_seconds(op->settle_usec));
        r = commit_moved(op, op->moved);
        if (r < 0)
                return r;
        crash_point(CRASH_POINT_ATTACH_COMMITTED);
        return 0;
}

int driver_ops_attach(struct operation *op) {
        _cleanup_(targets_done) struct targets t = {};
        _cleanup_(targets_done) struct targets to_move = {};
        _cleanup_(freep) char *message = NULL;
        int r;

        r = load_targets(op, &t);
        if (r < 0)
                return r;
        if (t.devices[0]->iommu_group < 0)
                return operation_fail(op, VFIO_PT_ERROR_GROUP_NOT_VIABLE, -EXDEV,
                                      "%s has no IOMMU group, so VFIO cannot use it. Enable the IOMMU in the "
                                      "firmware (VT-d / AMD-Vi) and on the kernel command line (intel_iommu=on "
                                      "or amd_iommu=on), then reboot.",
                                      op->name);
        r = refuse_unfixable_group(op, t.group);
        if (r < 0)
                return r;
        r = refuse_if_host_uses_any(op, t.devices, t.n, "attach");
        if (r < 0)
                return r;
        r = refuse_bridge(op, t.devices[0]);
        if (r < 0)
                return r;

        /* The named device moves unless it is on vfio already; members only when they block. */
        for (size_t i = 0; i < t.n; i++) {
                struct pci_device *d = t.devices[i];

                if (vfio_driver_is_vfio(d->driver))
                        continue;
                r = targets_add(&to_move, d);
                if (r < 0)
                        return r;
                t.devices[i] = NULL;
        }

        if (to_move.n > 0) {
                r = vfio_pci_driver_ensure(op->kmod_dir, op->settle_usec, &message);
                if (r == -ENOPKG)
                        return operation_fail(op, VFIO_PT_ERROR_MODULE_NOT_AVAILABLE, r, "%s", message);
                if (r < 0)
                        return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                              "Could not make sure vfio-pci is loaded: %s", strerror(-r));
        }

        r = attach_targets(op, &to_move);
        if (r < 0) {
                _cleanup_(strv_freep) char **moved = TAKE_PTR(op->moved);
                roll_back(op, moved);
                /* Say where the device is now, so the caller need not guess. */
                {
                        _cleanup_(freep) char *now = NULL;
                        char *longer = NULL;
                        if (pci_device_read_driver(&op->address, &now) >= 0 && op->error_message &&
                            strdup_printf(&longer, "%s Rolled back: %s is on %s.", op->error_message, op->name,
                                          driver_or_none(now)) >= 0) {
                                free(op->error_message);
                                op->error_message = longer;
                        }
                }
                return r;
        }

        {
                _cleanup_(iommu_group_freep) struct iommu_group *now = NULL;
                op->attach.group_viable = iommu_group_load(NULL, op->iommu_group, &now) >= 0 && iommu_group_viable(now);
        }
        return 0;
}
