/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel-steps.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crash-point.h"
#include "kernel-lock.h"
#include "log.h"
#include "sysfs-write.h"
#include "sysfs.h"
#include "vfio-passthrough-bus.h"
#include "wait.h"

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
bool kernel_wait_for_driver(struct operation *op, const struct pci_address *a, const char *expected) {
        struct driver_condition c = { .address = a, .expected = expected };
        return wait_until(driver_is, &c, op->settle_usec, "the driver link to change");
}

static bool driver_bound(void *userdata) {
        _cleanup_(freep) char *driver = NULL;

        return pci_device_read_driver(userdata, &driver) >= 0 && driver;
}

static bool wait_for_bound(struct operation *op, const struct pci_address *a) {
        return wait_until(driver_bound, (void *) a, op->settle_usec, "a driver to bind");
}

static bool device_exists(void *userdata) {
        char path[PATH_MAX];
        struct stat st;

        return pci_device_path(userdata, NULL, path, sizeof(path)) >= 0 && stat(path, &st) >= 0;
}

static bool device_gone(void *userdata) {
        return !device_exists(userdata);
}

int kernel_load_device(struct operation *op, const struct pci_address *a, struct pci_device **ret) {
        char name[PCI_ADDRESS_STRING_MAX];
        int r;

        r = pci_device_load(NULL, a, ret);
        if (r == -ENODEV)
                return operation_fail(op, VFIO_PT_ERROR_NO_SUCH_DEVICE, r,
                                      "No PCI device at %s (any more).",
                                      pci_address_format(a, name));
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r, "Could not read PCI device %s: %s",
                                      pci_address_format(a, name), strerror(-r));
        return 0;
}

static int write_failed(struct operation *op, const struct pci_device *d, const char *what, int r) {
        return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r, "Could not %s of %s: %s.", what, d->name,
                              strerror(-r));
}

/* Every write about a device holds the device's kernel lock until the kernel returns from it. */
static int take_lock(struct operation *op, const struct pci_address *a) {
        char name[PCI_ADDRESS_STRING_MAX];
        int fd;

        fd = kernel_lock_take(op->state_dir, a);
        if (fd < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, fd,
                                      "Could not take the kernel lock of %s under %s: %s.",
                                      pci_address_format(a, name), op->state_dir, strerror(-fd));
        return fd;
}

int kernel_set_override(struct operation *op, const struct pci_device *d, const char *driver) {
        _cleanup_(closep) int lock = -1;
        int r;

        lock = take_lock(op, &d->address);
        if (lock < 0)
                return lock;
        /* A lone newline is how sysfs clears it. */
        r = pci_device_write(&d->address, "driver_override", driver ?: "\n", lock);
        if (r < 0)
                return write_failed(op, d, driver ? "set driver_override" : "reset driver_override", r);
        return 0;
}

int kernel_probe(struct operation *op, const struct pci_device *d) {
        _cleanup_(closep) int lock = -1;
        int r;

        lock = take_lock(op, &d->address);
        if (lock < 0)
                return lock;
        r = pci_bus_write("drivers_probe", d->name, lock);
        if (r < 0)
                return write_failed(op, d, "write drivers_probe", r);
        return 0;
}

static bool driver_left(void *userdata) {
        struct driver_condition *c = userdata;
        _cleanup_(freep) char *driver = NULL;

        return pci_device_read_driver(c->address, &driver) >= 0 && !streq_ptr(driver, c->expected);
}

int kernel_unbind(struct operation *op, const struct pci_device *d) {
        struct driver_condition left = { .address = &d->address, .expected = d->driver };
        _cleanup_(freep) char *now = NULL;
        _cleanup_(closep) int lock = -1;
        int r;

        lock = take_lock(op, &d->address);
        if (lock < 0)
                return lock;
        r = pci_driver_write(d->driver, "unbind", d->name, lock);
        /* ENODEV: it is no longer on that driver; what it is on now is checked below. */
        if (r < 0 && r != -ENODEV && r != -ENOENT)
                return write_failed(op, d, "unbind it from its driver", r);
        if (!wait_until(driver_left, &left, op->settle_usec, "the device to leave its driver"))
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, -ETIMEDOUT,
                                      "%s did not leave %s within %.1f s. A program may still hold the device "
                                      "(a running VM?); stop it and try again.",
                                      d->name, d->driver, usec_to_seconds(op->settle_usec));
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
        _cleanup_(closep) int lock = -1;
        int r;

        if (parent_bridge(a, &bridge) < 0) {
                log_warning("%s bound no driver and has no parent bridge to rescan; leaving it unbound.", name);
                return;
        }
        log_warning("Last resort for %s: removing it and rescanning its parent bridge %s.", name,
                    pci_address_format(&bridge, bridge_name));
        lock = kernel_lock_take(op->state_dir, a);
        if (lock < 0) {
                log_warning_errno(lock, "Could not take the kernel lock of %s", name);
                return;
        }
        r = pci_device_write(a, "remove", "1", lock);
        if (r < 0) {
                log_warning_errno(r, "Could not remove %s", name);
                return;
        }
        if (!wait_until(device_gone, (void *) a, op->settle_usec, "the removed device to go"))
                log_warning("%s did not go away after remove.", name);
        r = pci_device_write(&bridge, "rescan", "1", lock);
        if (r < 0) {
                log_warning_errno(r, "Could not rescan %s; %s may be missing until the next rescan", bridge_name, name);
                return;
        }
        if (!wait_until(device_exists, (void *) a, op->settle_usec, "the device to come back"))
                log_warning("%s did not come back after rescanning %s.", name, bridge_name);
}

/* Restore's steps can be interrupted; a rollback or a recovery that is interrupted is just done
 * again at the next start. */
static void restore_step(struct operation *op, enum crash_point point) {
        if (op->kind == OPERATION_RESTORE)
                crash_point(point);
}

int kernel_give_back(struct operation *op, const struct device_record *record, char **ret_driver) {
        _cleanup_(pci_device_freep) struct pci_device *d = NULL;
        struct pci_address a;
        int r;

        if (pci_address_parse(record->address, &a) < 0)
                return -EINVAL;
        r = kernel_load_device(op, &a, &d);
        if (r < 0)
                return r;

        if (!streq_ptr(d->driver, record->original_driver) ||
            !streq_ptr(d->driver_override, record->original_override)) {
                r = kernel_set_override(op, d, record->original_override);
                if (r < 0)
                        return r;
                restore_step(op, CRASH_POINT_RESTORE_OVERRIDE_CLEARED);
                if (d->driver && !streq_ptr(d->driver, record->original_driver)) {
                        r = kernel_unbind(op, d);
                        if (r < 0)
                                return r;
                        restore_step(op, CRASH_POINT_RESTORE_UNBOUND);
                        free(d->driver);
                        d->driver = NULL;
                }
                if (record->original_driver && !d->driver) {
                        r = kernel_probe(op, d);
                        if (r < 0)
                                return r;
                        restore_step(op, CRASH_POINT_RESTORE_PROBED);
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
