/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "driver-ops.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crash-point.h"
#include "grant.h"
#include "host-use.h"
#include "iommu-group.h"
#include "kernel-steps.h"
#include "log.h"
#include "module-loader.h"
#include "pci-device.h"
#include "state.h"
#include "strv.h"
#include "targets.h"
#include "vfio-passthrough-bus.h"
#include "vfio-nodes.h"
#include "vfio-viability.h"
#include "wait.h"

#define VFIO_PCI "vfio-pci"

/* The devices the call acts on (targets.h), each of which its caller must have been authorized
 * for: the group may have changed while polkit was asked. */
static int load_targets(struct operation *op, struct targets *ret) {
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
        int r;

        if (op->flags & VFIO_PT_FLAG_FORCE)
                return 0;
        if (!view) {
                r = host_use_view_new(&fresh);
                if (r < 0)
                        return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                              "Could not check whether the host uses %s: %s", d->name, strerror(-r));
                view = fresh;
        }
        r = host_use_find(view, d, HOST_USE_PROBE_EXCLUSIVE, &holder);
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
static int refuse_if_host_uses_any(struct operation *op, struct pci_device *const *devices, size_t n,
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

/* The crash points of the steps Attach and Detach share. */
struct take_steps {
        enum record_intent intent;
        enum crash_point recorded, override_set, unbound;
};

static const struct take_steps attach_steps = {
        INTENT_ATTACH, CRASH_POINT_ATTACH_RECORDED, CRASH_POINT_ATTACH_OVERRIDE_SET, CRASH_POINT_ATTACH_UNBOUND,
};
static const struct take_steps detach_steps = {
        INTENT_DETACH, CRASH_POINT_DETACH_RECORDED, CRASH_POINT_DETACH_OVERRIDE_SET, CRASH_POINT_DETACH_UNBOUND,
};

/* Record (with the intent), pin to vfio-pci with driver_override so nothing rebinds the host
 * driver, unbind. The device is read again and checked again right before: since the caller
 * looked, seconds may have passed (loading vfio-pci, moving other members), and the host may have
 * started using it or another program may have rebound it. */
static int take_from_driver(struct operation *op, const struct pci_device *seen, const struct take_steps *steps,
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
static int commit_moved(struct operation *op, char **moved) {
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
static void roll_back(struct operation *op, char **moved) {
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

int driver_ops_detach(struct operation *op) {
        _cleanup_(targets_done) struct targets t = {};
        int r;

        r = load_targets(op, &t);
        if (r < 0)
                return r;

        r = refuse_if_host_uses_any(op, t.devices, t.n, "detach");
        if (r < 0)
                return r;

        for (size_t i = 0; i < t.n; i++) {
                r = take_from_driver(op, t.devices[i], &detach_steps, "detach");
                if (r < 0)
                        break;
        }
        if (r >= 0)
                r = commit_moved(op, op->moved);
        if (r < 0) {
                _cleanup_(strv_freep) char **moved = TAKE_PTR(op->moved);
                roll_back(op, moved);
                return r;
        }
        crash_point(CRASH_POINT_DETACH_COMMITTED);

        op->moved = strv_free(op->moved);
        op->driver = strdup(t.devices[0]->driver ?: "");
        return op->driver ? 0 : -ENOMEM;
}

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

static bool group_node_exists(void *userdata) {
        return vfio_node_exists(userdata);
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
        {
                char node[VFIO_GROUP_NODE_MAX];
                op->group_node = strdup(vfio_group_node(op->iommu_group, node));
                if (!op->group_node)
                        return -ENOMEM;
        }
        if (!wait_until(group_node_exists, op->group_node, op->settle_usec))
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, -ENOENT,
                                      "%s is on vfio-pci but %s did not appear within %.1f s. Is udev running? "
                                      "'udevadm settle' and 'dmesg' may tell.",
                                      op->name, op->group_node, usec_to_seconds(op->settle_usec));
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
                op->group_viable = iommu_group_load(NULL, op->iommu_group, &now) >= 0 && iommu_group_viable(now);
        }
        return 0;
}

static int restore_one(struct operation *op, struct device_record *record) {
        _cleanup_(freep) char *now = NULL;
        struct pci_address a;
        int r;

        (void) pci_address_parse(record->address, &a);
        r = operation_check_owner(op, record);
        if (r < 0)
                return r;
        r = state_begin(op->state_dir, record, INTENT_RESTORE, op->caller_uid);
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                      "Could not write the state of %s to %s: %s. Nothing was changed.",
                                      record->address, op->state_dir, strerror(-r));
        crash_point(CRASH_POINT_RESTORE_INTENT);
        if (record->granted) {
                grant_revoke(op->state_dir, record);
                (void) state_save(op->state_dir, record);
        }
        crash_point(CRASH_POINT_RESTORE_GRANT_REVOKED);

        r = kernel_give_back(op, record, &now);
        if (r < 0)
                return r;
        if (pci_address_equal(&a, &op->address)) {
                op->driver = strdup(now ?: "");
                if (!op->driver)
                        return -ENOMEM;
        }
        if (!streq_ptr(now, record->original_driver)) {
                /* Keep the record, without the grant and the intent, so a later Restore can retry:
                 * this is an answer, not an interruption. */
                (void) state_commit(op->state_dir, record);
                log_error("uid %u: %s: restore ended on %s, not on its original driver %s.",
                          (unsigned) op->caller_uid, record->address, driver_or_none(now),
                          driver_or_none(record->original_driver));
                return operation_fail(op, VFIO_PT_ERROR_RESTORE_MISMATCH, -EREMOTEIO,
                                      "%s is on %s after the restore, but it came from %s. Load or fix %s (see "
                                      "'dmesg'), then run restore again.",
                                      record->address, driver_or_none(now), driver_or_none(record->original_driver),
                                      driver_or_none(record->original_driver));
        }
        r = state_remove(op->state_dir, &a);
        if (r < 0)
                log_warning_errno(r, "Could not remove the state record of %s", record->address);
        crash_point(CRASH_POINT_RESTORE_REMOVED);
        return strv_push(&op->moved, record->address);
}

int driver_ops_restore(struct operation *op) {
        _cleanup_(targets_done) struct targets t = {};
        int result = 0, r;

        r = load_targets(op, &t);
        if (r < 0)
                return r;

        for (size_t i = 0; i < t.n; i++) {
                _cleanup_(device_record_freep) struct device_record *record = NULL;
                _cleanup_(freep) char *problem = NULL;

                r = state_load_for(op->state_dir, t.devices[i], &record, &problem);
                if (r == -ENOENT && i == 0)
                        return operation_fail(op, VFIO_PT_ERROR_NOT_MANAGED, r,
                                              "%s was not moved by vfio-passthroughd (or was restored already), so "
                                              "there is nothing to restore; it is on %s.",
                                              op->name, driver_or_none(t.devices[0]->driver));
                if (r == -ENOENT)
                        continue;
                if (r == -EBADMSG)
                        return operation_fail_record(op, &t.devices[i]->address, problem);
                if (r < 0)
                        return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                              "Could not read the state of %s in %s: %s", t.devices[i]->name,
                                              op->state_dir, strerror(-r));
                /* Go on with the other members after a failure: each ends restored or reported. */
                r = restore_one(op, record);
                if (r < 0 && result == 0)
                        result = r;
        }
        if (result == 0 && !op->driver)
                op->driver = strdup("");
        return result;
}

int driver_ops_forget(struct operation *op) {
        _cleanup_(device_record_freep) struct device_record *record = NULL;
        _cleanup_(freep) char *problem = NULL;
        int r;

        r = state_load(op->state_dir, &op->address, &record, &problem);
        if (r == -ENOENT)
                return operation_fail(op, VFIO_PT_ERROR_NOT_MANAGED, r,
                                      "The daemon holds no record of %s; there is nothing to forget.", op->name);
        if (r >= 0)
                grant_revoke(op->state_dir, record);
        else
                log_warning("Forgetting the unreadable record of %s: %s.", op->name,
                            problem ?: strerror(-r));
        r = state_remove(op->state_dir, &op->address);
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r, "Could not remove the record of %s: %s",
                                      op->name, strerror(-r));
        log_info("uid %u: forgot the record of %s; the device stays as it is.", (unsigned) op->caller_uid, op->name);
        return 0;
}
