/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "context.h"

#include <libudev.h>
#include <stdlib.h>

#include "bus-objects.h"
#include "device-model.h"
#include "hwdb-names.h"
#include "polkit.h"
#include "recovery.h"
#include "thread-job.h"
#include "worker.h"

void context_done(struct context *c) {
        /* First: pending authorizations and operations hold bus messages. Dropping a pending
         * check answers its caller, so the bus must still be there. */
        c->polkit = polkit_registry_free(c->polkit);
        worker_shutdown(c);
        device_model_free(c);
        recovery_notes_free(c);
        thread_jobs_shutdown(c);
        free(c->pending_callers);
        c->monitor_source = sd_event_source_disable_unref(c->monitor_source);
        if (c->monitor)
                c->monitor = udev_monitor_unref(c->monitor);
        c->names = hwdb_names_free(c->names);
        if (c->udev)
                c->udev = udev_unref(c->udev);
        c->vtable_slot = sd_bus_slot_unref(c->vtable_slot);
        bus_objects_unregister(c);
        c->bus = sd_bus_flush_close_unref(c->bus);
        c->event = sd_event_unref(c->event);
}
