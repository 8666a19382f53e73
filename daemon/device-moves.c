/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "device-moves.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grant.h"
#include "host-use.h"
#include "kernel-steps.h"
#include "log.h"
#include "strv.h"
#include "vfio-passthrough-bus.h"
#include "vfio-viability.h"
#include "wait.h"

int load_targets(struct operation *op, struct targets *ret) {
        int r;

        r = targets_select(NULL, op->kind, &op->address, op->flags, op->state_dir, ret);
        if (r == -ENODEV)
                return operation_fail(op, VFIO_PT_ERROR_NO_SUCH_DEVICE, r,
                                      "No PCI device at %s (any more).",
                                      op->name);
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r, "Could not read %s and its IOMMU group: %s",
                                      op->name, strerror(-r));
        for (size_t i = 0; i < ret->n; i++) {
                r = operation_check_authorized(op, ret->devices[i]->name);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* view: what the host uses, read once for several devices; NULL reads it afresh. */
static int refuse_if_host_uses(struct operation *op, struct host_use_view *view, const struct pci_device *d,
                               const char *verb) {
        _cleanup_(host_use_view_freep) struct host_use_view *fresh = NULL;
        _cleanup_(freep) char *holder = NULL;
        uint64_t start;
        int r;

        if (op->flags & VFIO_PT_FLAG_FORCE)
                return 0;
        start = now_usec();
        if (!view) {
                r = host_use_view_new(&fresh);
                if (r < 0)
                        return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                              "Could not check whether the host uses %s: %s", d->name, strerror(-r));
                view = fresh;
        }
        r = host_use_find(view, d, HOST_USE_PROBE_EXCLUSIVE, &holder);
        log_debug("In-use check of %s took %.1f ms.", d->name, msec_since(start));
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                      "Could not check whether the host uses %s: %s", d->name, strerror(-r));
        if (r == 0)
                return 0;
        log_notice("Refusing to %s %s for uid %u: %s.", verb, d->name, (unsigned) op->caller_uid, holder);
        return operation_fail(op, VFIO_PT_ERROR_DEVICE_BUSY, -EBUSY,
                              "The host uses %s (driver %s): %s. Nothing was changed.", d->name,
                              driver_or_none(d->driver), holder);
}

/* Checks every device before any is touched, against one reading of what the host uses. */
int refuse_if_host_uses_any(struct operation *op, struct pci_device *const *devices, size_t n,
                                   const char *verb) {
        _cleanup_(host_use_view_freep) struct host_use_view *view = NULL;
        int r;

        if (op->flags & VFIO_PT_FLAG_FORCE)
                return 0;
        r = host_use_view_new(&view);
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                      "Could not check whether the host uses %s: %s", op->name, strerror(-r));
        for (size_t i = 0; i < n; i++) {
                if (!devices[i] || vfio_driver_is_vfio(devices[i]->driver))
                        continue;
                r = refuse_if_host_uses(op, view, devices[i], verb);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The device's record with the call's intent in it, on disk before the first change: the one there
 * is (about this device, and its caller may act for its owner), or a new one that records what the
 * device is on now, owned by the caller. */
static int begin_record(struct operation *op, const struct pci_device *d, enum record_intent intent,
                        struct device_record **ret) {
        _cleanup_(device_record_freep) struct device_record *record = NULL;
        _cleanup_(freep) char *problem = NULL;
        bool created = false;
        int r;

        r = state_load_for(op->state_dir, d, &record, &problem);
        if (r >= 0) {
                r = operation_check_owner(op, record);
                if (r < 0)
                        return r;
        } else if (r == -EBADMSG)
                return operation_fail_record(op, &d->address, problem);
        else if (r != -ENOENT)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                      "Could not read the state of %s in %s: %s. Nothing was changed.", d->name,
                                      op->state_dir, strerror(-r));
        else {
                r = device_record_new(d, op->caller_uid, &record);
                if (r < 0)
                        return r;
                created = true;
        }

        r = state_begin(op->state_dir, record, intent, op->caller_uid);
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                      "Could not write the state of %s to %s: %s. Nothing was changed.", d->name,
                                      op->state_dir, strerror(-r));
        if (created)
                log_info("Managing %s for uid %u: original driver %s, driver_override %s.", d->name,
                         (unsigned) op->caller_uid, driver_or_none(d->driver), d->driver_override ?: "(unset)");
        *ret = TAKE_PTR(record);
        return 0;
}

const struct take_steps attach_steps = {
        INTENT_ATTACH, CRASH_POINT_ATTACH_RECORDED, CRASH_POINT_ATTACH_OVERRIDE_SET, CRASH_POINT_ATTACH_UNBOUND,
};
const struct take_steps detach_steps = {
        INTENT_DETACH, CRASH_POINT_DETACH_RECORDED, CRASH_POINT_DETACH_OVERRIDE_SET, CRASH_POINT_DETACH_UNBOUND,
};

/* Record (with the intent), pin to vfio-pci with driver_override so nothing rebinds the host
 * driver, unbind. The device is read again and checked again right before: since the caller
 * looked, seconds may have passed (loading vfio-pci, moving other members), and the host may have
 * started using it or another program may have rebound it. */
int take_from_driver(struct operation *op, const struct pci_device *seen, const struct take_steps *steps,
                            const char *verb) {
        _cleanup_(device_record_freep) struct device_record *record = NULL;
        _cleanup_(pci_device_freep) struct pci_device *d = NULL;
        int r;

        r = kernel_load_device(op, &seen->address, &d);
        if (r < 0)
                return r;
        if (!streq_ptr(d->driver, seen->driver))
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, -EBUSY,
                                      "%s moved from %s to %s while this call was checking it (another program "
                                      "is binding it); nothing was done to it.",
                                      d->name, driver_or_none(seen->driver), driver_or_none(d->driver));
        if (!vfio_driver_is_vfio(d->driver)) {
                r = refuse_if_host_uses(op, NULL, d, verb);
                if (r < 0)
                        return r;
        }
        r = begin_record(op, d, steps->intent, &record);
        if (r < 0)
                return r;
        /* Listed once its intent is on disk: a failure from here on rolls it back. */
        r = strv_push(&op->moved, d->name);
        if (r < 0)
                return r;
        crash_point(steps->recorded);
        /* Detaching a device from vfio-pci ends its grant: whoever had it has no device behind the
         * nodes any more. */
        if (record->granted && vfio_driver_is_vfio(d->driver) && op->kind == OPERATION_DETACH) {
                grant_revoke(op->state_dir, record);
                r = state_save(op->state_dir, record);
                if (r < 0)
                        return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                              "Could not write the state of %s to %s: %s.", d->name, op->state_dir,
                                              strerror(-r));
        }
        if (!streq_ptr(d->driver_override, VFIO_PCI)) {
                r = kernel_set_override(op, d, VFIO_PCI);
                if (r < 0)
                        return r;
        }
        crash_point(steps->override_set);
        if (d->driver) {
                r = kernel_unbind(op, d);
                if (r < 0)
                        return r;
        }
        crash_point(steps->unbound);
        return 0;
}

/* Clears the intents of a call that went through: its devices stay where it put them. */
int commit_moved(struct operation *op, char **moved) {
        STRV_FOREACH(name, moved) {
                _cleanup_(device_record_freep) struct device_record *record = NULL;
                struct pci_address a;
                int r;

                if (pci_address_parse(*name, &a) < 0)
                        continue;
                r = state_load(op->state_dir, &a, &record, NULL);
                if (r >= 0)
                        r = state_commit(op->state_dir, record);
                if (r < 0)
                        return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                              "Could not write the state of %s to %s: %s.", *name, op->state_dir,
                                              strerror(-r));
        }
        return 0;
}

/* Undoes this call's moves after a failure: each device goes back to its recorded driver. */
void roll_back(struct operation *op, char **moved) {
        STRV_FOREACH(name, moved) {
                _cleanup_(device_record_freep) struct device_record *record = NULL;
                _cleanup_(freep) char *now = NULL;
                struct pci_address a;

                if (pci_address_parse(*name, &a) < 0 || state_load(op->state_dir, &a, &record, NULL) < 0)
                        continue;
                log_warning("Rolling %s back to %s.", *name, driver_or_none(record->original_driver));
                grant_revoke(op->state_dir, record);
                if (kernel_give_back(op, record, &now) < 0)
                        continue;
                if (streq_ptr(now, record->original_driver))
                        (void) state_remove(op->state_dir, &a);
                else
                        log_error("Rollback left %s on %s instead of %s.", *name, driver_or_none(now),
                                  driver_or_none(record->original_driver));
        }
}
