/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

struct udev;
struct udev_hwdb;
struct udev_monitor;

/* Everything the daemon holds while it runs; the only mutable state there is. */
struct context {
        sd_event *event;
        sd_bus *bus;
        sd_bus_slot *vtable_slot;
        struct udev *udev;
        struct udev_hwdb *hwdb; /* NULL when the hardware database is missing: names stay empty */
        struct udev_monitor *monitor;
        sd_event_source *monitor_source;
};

void context_done(struct context *c);
