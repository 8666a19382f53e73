/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "udev-watch.h"

#include <errno.h>
#include <libudev.h>
#include <string.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "bus-api.h"
#include "device-model.h"
#include "grant.h"
#include "log.h"
#include "macro.h"
#include "pci-address.h"
#include "worker.h"

#define UEVENT_BUFFER_BYTES (16 * 1024 * 1024)

static void udev_device_unrefp(struct udev_device **d) {
        if (*d)
                udev_device_unref(*d);
}

/* The IOMMU group a vfio node event is about: /dev/vfio/N is the group N itself; a device cdev
 * (/dev/vfio/devices/vfioN, subsystem "vfio-dev") hangs below its PCI device. */
static int vfio_event_group(struct udev_device *d) {
        const char *subsystem = udev_device_get_subsystem(d), *sysname = udev_device_get_sysname(d);
        struct udev_device *parent;
        const char *group;
        char *end;
        long v;

        if (strcmp(subsystem, "vfio") == 0)
                group = sysname;
        else {
                parent = udev_device_get_parent_with_subsystem_devtype(d, "pci", NULL);
                if (!parent)
                        return -1;
                group = udev_device_get_sysattr_value(parent, "iommu_group");
                group = group ? strrchr(group, '/') : NULL;
                if (!group)
                        return -1;
                group++;
        }
        errno = 0;
        v = strtol(group, &end, 10);
        if (errno != 0 || end == group || *end != '\0' || v < 0 || v > INT32_MAX)
                return -1;
        return (int) v;
}

/* udev (re)created or re-chmodded a VFIO node: a grant must stay true. An operation on the group
 * in flight decides the node's owner itself, so it is left alone then. */
static void on_vfio_event(struct context *c, struct udev_device *d) {
        const char *action = udev_device_get_action(d);
        int group;

        if (!action || (strcmp(action, "add") != 0 && strcmp(action, "change") != 0))
                return;
        group = vfio_event_group(d);
        if (group < 0)
                return;
        device_model_invalidate_group(c, group);
        if (worker_group_busy(c, group))
                return;
        log_debug("uevent %s for VFIO node %s (group %d)", action, udev_device_get_sysname(d), group);
        grant_reapply_group(c->state_dir, group);
}

static int on_uevent(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct context *c = userdata;

        /* Drain everything queued: one wakeup may carry many events (a whole group moving). */
        for (;;) {
                _cleanup_(udev_device_unrefp) struct udev_device *d = udev_monitor_receive_device(c->monitor);
                char name[PCI_ADDRESS_STRING_MAX];
                const char *action, *sysname, *subsystem;
                int r;

                if (!d) {
                        if (errno != ENOBUFS)
                                break;
                        /* The socket overflowed: some events are lost, and nobody knows which. */
                        log_warning("Missed uevents (more arrived than the receive buffer holds); reading "
                                    "every device again.");
                        device_model_invalidate(c, NULL);
                        continue;
                }
                action = udev_device_get_action(d);
                sysname = udev_device_get_sysname(d);
                subsystem = udev_device_get_subsystem(d);
                if (subsystem && (strcmp(subsystem, "vfio") == 0 || strcmp(subsystem, "vfio-dev") == 0)) {
                        if (sysname)
                                on_vfio_event(c, d);
                        continue;
                }
                /* A disk or an interface came or went: what the host uses may have changed. */
                if (subsystem && (strcmp(subsystem, "block") == 0 || strcmp(subsystem, "net") == 0)) {
                        device_model_invalidate(c, NULL);
                        continue;
                }
                if (!action || !sysname || pci_address_canonicalize(sysname, name) < 0)
                        continue;

                log_debug("uevent %s %s (driver %s)", action, name, udev_device_get_driver(d) ?: "none");
                {
                        struct pci_address a;
                        if (pci_address_parse(name, &a) >= 0)
                                device_model_invalidate(c, &a);
                }
                r = bus_api_emit_device_changed(c, name, action, udev_device_get_driver(d));
                if (r < 0)
                        log_warning_errno(r, "Failed to emit DeviceChanged for %s", name);
        }
        return 0;
}

int udev_watch_start(struct context *c) {
        int r;

        c->monitor = udev_monitor_new_from_netlink(c->udev, "udev");
        if (!c->monitor)
                return log_error_errno(negative_errno(), "Failed to create a udev monitor");

        r = udev_monitor_filter_add_match_subsystem_devtype(c->monitor, "pci", NULL);
        /* The group nodes and device cdevs, to keep grants true when udev rewrites them. */
        if (r >= 0)
                r = udev_monitor_filter_add_match_subsystem_devtype(c->monitor, "vfio", NULL);
        if (r >= 0)
                r = udev_monitor_filter_add_match_subsystem_devtype(c->monitor, "vfio-dev", NULL);
        if (r >= 0)
                r = udev_monitor_filter_add_match_subsystem_devtype(c->monitor, "block", NULL);
        if (r >= 0)
                r = udev_monitor_filter_add_match_subsystem_devtype(c->monitor, "net", NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to filter the udev monitor");
        /* A `udevadm trigger` on a server sends one event per function, thousands at once; an
         * overflow is survived (see on_uevent), but costs a full re-read. Without CAP_NET_ADMIN the
         * kernel caps this at net.core.rmem_max. */
        r = udev_monitor_set_receive_buffer_size(c->monitor, UEVENT_BUFFER_BYTES);
        if (r < 0)
                log_debug_errno(r, "Could not enlarge the uevent receive buffer");
        r = udev_monitor_enable_receiving(c->monitor);
        if (r < 0)
                return log_error_errno(r, "Failed to start the udev monitor");

        r = sd_event_add_io(c->event, &c->monitor_source, udev_monitor_get_fd(c->monitor), EPOLLIN,
                            on_uevent, c);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the udev monitor");
        return 0;
}
