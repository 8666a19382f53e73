/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "pci-address.h"

struct context;

enum operation_kind {
        OPERATION_DETACH,
        OPERATION_ATTACH,
        OPERATION_RESTORE,
        OPERATION_GRANT,
        OPERATION_FORGET,
        OPERATION_RECOVER, /* the daemon's own, at start-up (recovery.h): no caller, no message */
};

struct operation;

/* Whoever asked for an operation (a bus caller, start-up recovery) and how it hears the outcome.
 * The worker (worker.h) calls these on the main thread and knows nothing else of the requester. */
struct operation_requester {
        /* The operation ended; its outputs are final. Not called when answer_early() was. */
        void (*finished)(struct operation *op);
        /* The requester is answered before the operation ends, or instead of starting it:
         * error is -ETIMEDOUT (it takes too long), -EINTR (the daemon is stopping) or another
         * errno (it could not be started). NULL: the requester waits for the end, whatever it
         * takes (no timeout). */
        void (*answer_early)(struct operation *op, int error, const char *message);
};

/* One privileged call, from the method handler through the worker thread to the reply.
 * The fields are split by who may touch them, which is what keeps the threads apart: the worker
 * reads only the inputs and writes only the outputs; the main thread touches the outputs only
 * after the worker has signalled completion. */
struct operation {
        /* Main thread only. */
        struct context *context;
        const struct operation_requester *requester;
        sd_bus_message *message; /* a bus caller's; only bus-operations.c reads it */
        sd_event_source *timeout_source;
        struct operation *next; /* in context->operations */
        pthread_t thread;
        bool running;
        bool replied; /* answer_early() was called before the worker returned */
        /* Where the time went, for the debug log (0: not reached, or no caller to authorize). */
        uint64_t called_usec, authorized_usec, started_usec;

        /* Inputs: set before the worker starts, never changed afterwards. */
        enum operation_kind kind;
        struct pci_address address;
        char name[PCI_ADDRESS_STRING_MAX];
        int iommu_group; /* -1: none; operations are then serialized per device */
        uint64_t flags;
        uid_t caller_uid;
        pid_t caller_pid; /* 0 when the bus did not say */
        uid_t target_uid; /* Grant */
        char *target_user; /* Grant: the target's name, for logs (the uid as text when it has none) */
        char *interrupted; /* Recover: what was cut off ("attach (by uid 1000)") */
        /* What polkit allowed (everything, for root): the devices the call may act on, and those it
         * may act on for another owner. The worker acts on nothing else. */
        char **authorized;
        char **manage_other;
        const char *state_dir;
        const char *kmod_dir;
        uint64_t settle_usec; /* how long to wait for the kernel or udev to finish one step */
        int completion_fd;    /* where the worker posts the finished operation */
        bool object_reply;    /* called on a Device object: object paths and its reply shapes */

        /* Outputs: written by the worker. */
        int result;
        const char *error_name; /* NULL on success */
        char *error_message;
        /* The devices the call has moved so far: rolled back on failure; for Attach (to
         * vfio-pci) and Restore (to their drivers), part of the answer. */
        char **moved;
        /* The rest is each operation's own. */
        struct {
                char *previous_driver; /* "" for none */
        } detach;
        struct {
                char *group_node;
                bool group_viable;
        } attach;
        struct {
                char *driver; /* the driver it is on now; "" for none */
        } restore;
        struct {
                char *group_node;
                char **nodes;           /* every node granted */
                uint64_t memlock_limit; /* the caller's RLIMIT_MEMLOCK; UINT64_MAX: unlimited or unknown */
        } grant;
        struct {
                int intent;   /* the interrupted operation found (enum record_intent) */
                char *driver; /* the driver the device is on after recovery */
        } recover;
};

struct operation *operation_free(struct operation *op);
void operation_freep(struct operation **op);

/* "Detach", for messages; "detach", for polkit's operation detail and the journal. */
const char *operation_kind_to_string(enum operation_kind kind);
const char *operation_kind_to_verb(enum operation_kind kind);

/* Sets the named error for the caller (first error wins) and returns -errno for it. */
int operation_fail(struct operation *op, const char *error_name, int error, const char *format, ...) _printf_(4, 5);

/* The device's record cannot be read: the named error, with the file and what is wrong with it. */
int operation_fail_record(struct operation *op, const struct pci_address *address, const char *problem);

/* Whether the caller was authorized for this device (-EACCES with the named error if not: the
 * device joined the group after polkit was asked). */
int operation_check_authorized(struct operation *op, const char *name);

/* Whether the caller may act on a device with this record: it owns it, is root, or was allowed
 * manage-other for it. */
struct device_record;
int operation_check_owner(struct operation *op, const struct device_record *record);

/* "(none)" for logs. */
static inline const char *driver_or_none(const char *driver) {
        return driver ?: "(none)";
}

/* Runs the operation's kernel work. Called on the worker thread. */
void operation_run(struct operation *op);
