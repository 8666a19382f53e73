/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "pci-device.h"

struct udev;
struct hwdb_names;
struct udev_monitor;
struct operation;
struct polkit_registry;

/* Everything the daemon holds while it runs; the only mutable state there is. */
struct context {
        sd_event *event;
        sd_bus *bus;
        sd_bus_slot *vtable_slot;
        sd_bus_slot *object_slots[4]; /* object manager, enumerator, device and group vtables */
        struct udev *udev;
        struct hwdb_names *names; /* device names, from udev's hardware database */
        struct udev_monitor *monitor;
        sd_event_source *monitor_source;
        struct polkit_registry *polkit; /* authorization checks waiting for polkit's answer */
        struct pci_reader reader;       /* how the bus thread reads devices (see pci-device.h) */

        /* From the command line. */
        const char *state_dir;
        const char *kmod_dir; /* NULL: the running kernel's module directory */
        uint64_t operation_timeout_usec;
        uint64_t settle_usec; /* how long one kernel step may take (derived from the above) */

        /* Calls waiting for a user lookup or polkit, counted per caller: a caller gets only a few
         * at a time, so nobody can keep polkit and the daemon busy for everyone else. */
        struct pending_caller *pending_callers;
        size_t n_pending_callers;

        /* Background jobs (thread-job.h). */
        int job_fd[2];
        sd_event_source *job_source;

        /* Privileged operations, queued and running, in arrival order (see worker.h). */
        struct operation *operations;
        int completion_fd[2];
        sd_event_source *completion_source;

        /* What the Device and Group objects show (device-model.h). */
        struct device_model *model;

        /* What start-up recovery found and did, per device (recovery.h). */
        struct recovery_note *recovery_notes;

        /* SIGTERM came: no new operations; the running ones get a short grace (worker.h). */
        bool stopping;
        sd_event_source *stop_source;
};

/* A caller (by uid) with calls waiting for authorization. */
struct pending_caller {
        uid_t uid;
        unsigned n;
};

#define CONTEXT_INIT { .completion_fd = { -1, -1 }, .job_fd = { -1, -1 } }

void context_done(struct context *c);
