/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "udev-watch.h"

#include <errno.h>
#include <libudev.h>
#include <string.h>
#include <sys/epoll.h>

#include "bus-api.h"
#include "log.h"
#include "macro.h"
#include "pci-address.h"

static void udev_device_unrefp(struct udev_device **d) {
        if (*d)
                udev_device_unref(*d);
}

static int on_uevent(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct context *c = userdata;

        /* Drain everything queued: one wakeup may carry many events (a whole group moving). */
        for (;;) {
                _cleanup_(udev_device_unrefp) struct udev_device *d = udev_monitor_receive_device(c->monitor);
                char name[PCI_ADDRESS_STRING_MAX];
                const char *action, *sysname;
                int r;

                if (!d)
                        break;
                action = udev_device_get_action(d);
                sysname = udev_device_get_sysname(d);
                if (!action || !sysname || pci_address_canonicalize(sysname, name) < 0)
                        continue;

                log_debug("uevent %s %s (driver %s)", action, name, udev_device_get_driver(d) ?: "none");
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
        if (r < 0)
                return log_error_errno(r, "Failed to filter the udev monitor");
        r = udev_monitor_enable_receiving(c->monitor);
        if (r < 0)
                return log_error_errno(r, "Failed to start the udev monitor");

        r = sd_event_add_io(c->event, &c->monitor_source, udev_monitor_get_fd(c->monitor), EPOLLIN,
                            on_uevent, c);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the udev monitor");
        return 0;
}
