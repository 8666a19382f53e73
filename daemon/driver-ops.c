/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "driver-ops.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "grant.h"
#include "host-use.h"
#include "iommu-group.h"
#include "log.h"
#include "module-loader.h"
#include "pci-device.h"
#include "state.h"
#include "strv.h"
#include "targets.h"
#include "sysfs-write.h"
#include "sysfs.h"
#include "vfio-passthrough-bus.h"
#include "vfio-viability.h"
#include "wait.h"

#define VFIO_PCI "vfio-pci"

static double seconds(uint64_t usec) {
        return (double) usec / USEC_PER_SEC;
}

struct driver_condition {
        const struct pci_address *address;
        const char *expected; /* NULL: no driver */
};

static bool driver_is(void *userdata) {
        struct driver_condition *c = userdata;
        _cleanup_(freep) char *driver = NULL;

        if (pci_device_read_driver(c->address, &driver) < 0)
                return false;
        return streq_ptr(driver, c->expected);
}

/* The kernel binds and unbinds synchronously inside the write; udev and simulated kernels may
 * not, so every step is confirmed by reading the driver link back. */
static bool wait_for_driver(struct operation *op, const struct pci_address *a, const char *expected) {
        struct driver_condition c = { .address = a, .expected = expected };
        return wait_until(driver_is, &c, op->settle_usec);
}

static bool driver_bound(void *userdata) {
        _cleanup_(freep) char *driver = NULL;

        return pci_device_read_driver(userdata, &driver) >= 0 && driver;
}

static bool wait_for_bound(struct operation *op, const struct pci_address *a) {
        return wait_until(driver_bound, (void *) a, op->settle_usec);
}

static bool device_exists(void *userdata) {
        char path[PATH_MAX];
        struct stat st;

        return pci_device_path(userdata, NULL, path, sizeof(path)) >= 0 && stat(path, &st) >= 0;
}

static bool device_gone(void *userdata) {
        return !device_exists(userdata);
}

static int load_device(struct operation *op, const struct pci_address *a, struct pci_device **ret) {
        char name[PCI_ADDRESS_STRING_MAX];
        int r;

        r = pci_device_load(NULL, a, ret);
        if (r == -ENODEV)
                return operation_fail(op, VFIO_PT_ERROR_NO_SUCH_DEVICE, r,
                                      "No PCI device at %s (any more). 'vfio-passthroughctl list' shows the devices "
                                      "present.",
                                      pci_address_format(a, name));
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r, "Could not read PCI device %s: %s",
                                      pci_address_format(a, name), strerror(-r));
        return 0;
}

/* The devices the call acts on (targets.h), each of which its caller must have been authorized
 * for: the group may have changed while polkit was asked. */
static int load_targets(struct operation *op, struct targets *ret) {
        int r;

        r = targets_select(NULL, op->kind, &op->address, op->flags, op->state_dir, ret);
        if (r == -ENODEV)
                return operation_fail(op, VFIO_PT_ERROR_NO_SUCH_DEVICE, r,
                                      "No PCI device at %s (any more). 'vfio-passthroughctl list' shows the devices "
                                      "present.",
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
                              "Refusing to %s %s (driver %s): %s. Stop using it on the host first, or force "
                              "it with --force (the FORCE flag) if you know the host can do without it.",
                              verb, d->name, driver_or_none(d->driver), holder);
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

/* The device's record: the one there is (about this device, and its caller may act for its
 * owner), or a new one that records what the device is on now, owned by the caller, on disk before
 * the first change. */
static int ensure_record(struct operation *op, const struct pci_device *d, struct device_record **ret) {
        _cleanup_(device_record_freep) struct device_record *record = NULL;
        _cleanup_(freep) char *problem = NULL;
        int r;

        r = state_load_for(op->state_dir, d, &record, &problem);
        if (r >= 0) {
                r = operation_check_owner(op, record);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(record);
                return 0;
        }
        if (r == -EBADMSG)
                return operation_fail_record(op, &d->address, problem);
        if (r != -ENOENT)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                      "Could not read the state of %s in %s: %s. Nothing was changed.", d->name,
                                      op->state_dir, strerror(-r));

        r = device_record_new(d, op->caller_uid, &record);
        if (r < 0)
                return r;
        r = state_save(op->state_dir, record);
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                      "Could not write the state of %s to %s: %s. Nothing was changed.", d->name,
                                      op->state_dir, strerror(-r));
        log_info("Managing %s for uid %u: original driver %s, driver_override %s.", d->name,
                 (unsigned) op->caller_uid, driver_or_none(d->driver), d->driver_override ?: "(unset)");
        *ret = TAKE_PTR(record);
        return 0;
}

static int write_failed(struct operation *op, const struct pci_device *d, const char *what, int r) {
        return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r, "Could not %s of %s: %s.", what, d->name,
                              strerror(-r));
}

static bool driver_left(void *userdata) {
        struct driver_condition *c = userdata;
        _cleanup_(freep) char *driver = NULL;

        return pci_device_read_driver(c->address, &driver) >= 0 && !streq_ptr(driver, c->expected);
}

/* Unbinds d from the driver it was seen on, never from whatever its driver link names by now. */
static int unbind(struct operation *op, const struct pci_device *d) {
        struct driver_condition left = { .address = &d->address, .expected = d->driver };
        _cleanup_(freep) char *now = NULL;
        int r;

        r = pci_driver_write(d->driver, "unbind", d->name);
        /* ENODEV: it is no longer on that driver; what it is on now is checked below. */
        if (r < 0 && r != -ENODEV && r != -ENOENT)
                return write_failed(op, d, "unbind it from its driver", r);
        if (!wait_until(driver_left, &left, op->settle_usec))
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, -ETIMEDOUT,
                                      "%s did not leave %s within %.1f s. A program may still hold the device "
                                      "(a running VM?); stop it and try again.",
                                      d->name, d->driver, seconds(op->settle_usec));
        r = pci_device_read_driver(&d->address, &now);
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r, "Could not read the driver of %s: %s",
                                      d->name, strerror(-r));
        if (now)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, -EBUSY,
                                      "%s moved from %s to %s while it was being unbound (another program is "
                                      "binding it); it was left on %s.",
                                      d->name, d->driver, now, now);
        log_info("uid %u: %s: %s → (none)", (unsigned) op->caller_uid, d->name, d->driver);
        return 0;
}

/* Record, pin to vfio-pci with driver_override so nothing rebinds the host driver, unbind. The
 * device is read again and checked again right before: since the caller looked, seconds may have
 * passed (loading vfio-pci, moving other members), and the host may have started using it or
 * another program may have rebound it. */
static int take_from_driver(struct operation *op, const struct pci_device *seen, const char *verb) {
        _cleanup_(device_record_freep) struct device_record *record = NULL;
        _cleanup_(pci_device_freep) struct pci_device *d = NULL;
        int r;

        r = load_device(op, &seen->address, &d);
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
        r = ensure_record(op, d, &record);
        if (r < 0)
                return r;
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
                r = pci_device_write(&d->address, "driver_override", VFIO_PCI);
                if (r < 0)
                        return write_failed(op, d, "set driver_override", r);
        }
        if (d->driver)
                return unbind(op, d);
        return 0;
}

/* Parent bridge of a device, when it sits behind one (not on a root bus). */
static int parent_bridge(const struct pci_address *a, struct pci_address *ret) {
        _cleanup_(freep) char *syspath = NULL;
        char path[PATH_MAX], *slash;
        int r;

        r = pci_device_path(a, NULL, path, sizeof(path));
        if (r < 0)
                return r;
        syspath = realpath(path, NULL);
        if (!syspath)
                return negative_errno();
        slash = strrchr(syspath, '/');
        if (!slash)
                return -ENOENT;
        *slash = '\0';
        slash = strrchr(syspath, '/');
        if (!slash || pci_address_parse(slash + 1, ret) < 0)
                return -ENOENT;
        return 0;
}

/* remove + rescan, scoped to the parent bridge: only when a probe bound nothing at all, since a
 * rescan re-enumerates everything below the bridge. A device on a root bus is left alone: that
 * would mean rescanning the whole bus. */
static void remove_and_rescan(struct operation *op, const struct pci_address *a, const char *name) {
        struct pci_address bridge;
        char bridge_name[PCI_ADDRESS_STRING_MAX];
        int r;

        if (parent_bridge(a, &bridge) < 0) {
                log_warning("%s bound no driver and has no parent bridge to rescan; leaving it unbound.", name);
                return;
        }
        log_warning("Last resort for %s: removing it and rescanning its parent bridge %s.", name,
                    pci_address_format(&bridge, bridge_name));
        r = pci_device_write(a, "remove", "1");
        if (r < 0) {
                log_warning_errno(r, "Could not remove %s", name);
                return;
        }
        if (!wait_until(device_gone, (void *) a, op->settle_usec))
                log_warning("%s did not go away after remove.", name);
        r = pci_device_write(&bridge, "rescan", "1");
        if (r < 0) {
                log_warning_errno(r, "Could not rescan %s; %s may be missing until the next rescan", bridge_name, name);
                return;
        }
        if (!wait_until(device_exists, (void *) a, op->settle_usec))
                log_warning("%s did not come back after rescanning %s.", name, bridge_name);
}

/* Puts driver_override back as it was, unbinds and reprobes so the recorded driver gets the device
 * back. *ret_driver is where it ended. Shared by Restore and by Attach's rollback. */
static int give_back(struct operation *op, const struct device_record *record, char **ret_driver) {
        _cleanup_(pci_device_freep) struct pci_device *d = NULL;
        struct pci_address a;
        int r;

        if (pci_address_parse(record->address, &a) < 0)
                return -EINVAL;
        r = load_device(op, &a, &d);
        if (r < 0)
                return r;

        if (!streq_ptr(d->driver, record->original_driver) ||
            !streq_ptr(d->driver_override, record->original_override)) {
                r = pci_device_write(&a, "driver_override", record->original_override ?: "\n");
                if (r < 0)
                        return write_failed(op, d, "reset driver_override", r);
                if (d->driver && !streq_ptr(d->driver, record->original_driver)) {
                        r = unbind(op, d);
                        if (r < 0)
                                return r;
                        free(d->driver);
                        d->driver = NULL;
                }
                if (record->original_driver && !d->driver) {
                        r = pci_bus_write("drivers_probe", d->name);
                        if (r < 0)
                                return write_failed(op, d, "write drivers_probe", r);
                        /* Wait for any driver, not the recorded one: when another driver takes the
                         * device, the mismatch is known at once instead of after a full wait. */
                        if (!wait_for_bound(op, &a)) {
                                /* Nothing bound at all: the last resort, then look again. */
                                remove_and_rescan(op, &a, d->name);
                                (void) wait_for_bound(op, &a);
                        }
                }
        }

        r = pci_device_read_driver(&a, ret_driver);
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r, "Could not read the driver of %s: %s",
                                      d->name, strerror(-r));
        if (streq_ptr(*ret_driver, record->original_driver))
                log_info("uid %u: %s: %s → %s", (unsigned) op->caller_uid, d->name, driver_or_none(d->driver),
                         driver_or_none(*ret_driver));
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
                if (give_back(op, record, &now) < 0)
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
        _cleanup_(strv_freep) char **touched = NULL;
        int r;

        r = load_targets(op, &t);
        if (r < 0)
                return r;

        r = refuse_if_host_uses_any(op, t.devices, t.n, "detach");
        if (r < 0)
                return r;

        for (size_t i = 0; i < t.n; i++) {
                r = strv_push(&touched, t.devices[i]->name);
                if (r >= 0)
                        r = take_from_driver(op, t.devices[i], "detach");
                if (r < 0) {
                        roll_back(op, touched);
                        return r;
                }
        }

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
        struct stat st;
        return stat(userdata, &st) >= 0;
}

static int move_to_vfio(struct operation *op, const struct pci_device *d) {
        int r;

        /* Listed before the first change, so a failure from here on rolls it back. */
        r = strv_push(&op->moved, d->name);
        if (r < 0)
                return r;
        r = take_from_driver(op, d, "attach");
        if (r < 0)
                return r;
        r = pci_bus_write("drivers_probe", d->name);
        if (r < 0)
                return write_failed(op, d, "write drivers_probe", r);
        if (!wait_for_driver(op, &d->address, VFIO_PCI)) {
                _cleanup_(freep) char *now = NULL;
                (void) pci_device_read_driver(&d->address, &now);
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, -EIO,
                                      "vfio-pci did not bind %s within %.1f s (its driver is %s now). 'dmesg' may "
                                      "say why (an IOMMU not enabled, a device that fails reset).",
                                      d->name, seconds(op->settle_usec), driver_or_none(now));
        }
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
        r = strdup_printf(&op->group_node, "/dev/vfio/%d", op->iommu_group);
        if (r < 0)
                return r;
        if (!wait_until(group_node_exists, op->group_node, op->settle_usec))
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, -ENOENT,
                                      "%s is on vfio-pci but %s did not appear within %.1f s. Is udev running? "
                                      "'udevadm settle' and 'dmesg' may tell.",
                                      op->name, op->group_node, seconds(op->settle_usec));
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
        grant_revoke(op->state_dir, record);

        r = give_back(op, record, &now);
        if (r < 0)
                return r;
        if (pci_address_equal(&a, &op->address)) {
                op->driver = strdup(now ?: "");
                if (!op->driver)
                        return -ENOMEM;
        }
        if (!streq_ptr(now, record->original_driver)) {
                /* Keep the record, without the grant taken back, so a later Restore can retry. */
                (void) state_save(op->state_dir, record);
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
