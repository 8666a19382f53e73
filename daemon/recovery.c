/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "recovery.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit-log.h"
#include "device-model.h"
#include "grant.h"
#include "kernel-lock.h"
#include "kernel-steps.h"
#include "log.h"
#include "state.h"
#include "vfio-passthrough-bus.h"
#include "worker.h"

struct recovery_note {
        struct pci_address address;
        char *text;
        struct recovery_note *next;
};

static struct recovery_note *find_note(const struct context *c, const struct pci_address *address) {
        for (struct recovery_note *n = c->recovery_notes; n; n = n->next)
                if (pci_address_equal(&n->address, address))
                        return n;
        return NULL;
}

/* Takes text. */
static void set_note(struct context *c, const struct pci_address *address, char *text) {
        struct recovery_note *n = find_note(c, address);

        if (!text)
                return;
        if (!n) {
                n = calloc(1, sizeof(*n));
                if (!n) {
                        free(text);
                        return;
                }
                n->address = *address;
                n->next = c->recovery_notes;
                c->recovery_notes = n;
        }
        free(n->text);
        n->text = text;
        device_model_invalidate(c, address);
}

const char *recovery_note(const struct context *c, const struct pci_address *address) {
        struct recovery_note *n = find_note(c, address);
        return n ? n->text : NULL;
}

void recovery_notes_free(struct context *c) {
        while (c->recovery_notes) {
                struct recovery_note *n = c->recovery_notes;
                c->recovery_notes = n->next;
                free(n->text);
                free(n);
        }
}

#define INTERRUPTED "Interrupted by the last stop of the daemon: "

/* "attach (by uid 1000)", "grant to uid 1001 (by uid 1000)": what was cut off. */
static char *describe_intent(const struct device_record *record) {
        char *text = NULL;

        if (record->intent == INTENT_GRANT)
                (void) strdup_printf(&text, "grant to uid %u (by uid %u)", (unsigned) record->intent_grantee,
                                     (unsigned) record->intent_uid);
        else
                (void) strdup_printf(&text, "%s (by uid %u)", record_intent_to_string(record->intent),
                                     (unsigned) record->intent_uid);
        return text;
}

static void recovery_finish(struct operation *op);

/* Recovery has no caller to answer early: it waits for the end, whatever it takes. */
static const struct operation_requester recovery_requester = { .finished = recovery_finish };

static int queue(struct context *c, const struct pci_address *address, const struct device_record *record) {
        _cleanup_(operation_freep) struct operation *op = NULL;
        _cleanup_(freep) char *what = NULL;
        char *note = NULL;
        int r;

        what = describe_intent(record);
        if (!what)
                return -ENOMEM;
        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->requester = &recovery_requester;
        op->kind = OPERATION_RECOVER;
        op->address = *address;
        pci_address_format(address, op->name);
        if (pci_device_read_iommu_group(address, &op->iommu_group) < 0)
                op->iommu_group = -1;
        op->state_dir = c->state_dir;
        op->kmod_dir = c->kmod_dir;
        op->settle_usec = c->settle_usec;
        op->interrupted = TAKE_PTR(what);

        r = kernel_lock_held(c->state_dir, address);
        if (r > 0)
                log_warning("%s: %s was cut off while the kernel was working on the device, and the kernel still "
                            "is (a program holds the device); recovering it when the kernel returns.",
                            op->name, op->interrupted);
        else
                log_notice("%s: %s was cut off by the last stop of the daemon; recovering it.", op->name,
                           op->interrupted);
        (void) strdup_printf(&note, INTERRUPTED "%s; %s.", op->interrupted,
                             r > 0 ? "waiting for the kernel to release the device (a program holds it)"
                                   : "recovering it now");
        set_note(c, address, note);

        r = worker_submit(c, op);
        if (r < 0)
                return r;
        TAKE_PTR(op);
        return 0;
}

void recovery_start(struct context *c) {
        _cleanup_(freep) struct pci_address *addresses = NULL;
        size_t n;

        if (state_list(c->state_dir, &addresses, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(device_record_freep) struct device_record *record = NULL;
                int r;

                /* Only the record: the device itself is read once the kernel is done with it. */
                if (state_load(c->state_dir, &addresses[i], &record, NULL) < 0 || record->intent == INTENT_NONE)
                        continue;
                r = queue(c, &addresses[i], record);
                if (r < 0)
                        log_error_errno(r, "Could not queue the recovery of %s", record->address);
        }
}

/* Attach, Detach, Restore: the device goes back to its original driver and its record goes. */
static int give_back(struct operation *op, struct device_record *record) {
        _cleanup_(freep) char *now = NULL;
        int r;

        if (record->granted) {
                grant_revoke(op->state_dir, record);
                (void) state_save(op->state_dir, record);
        }
        r = kernel_give_back(op, record, &now);
        if (r < 0)
                return r;
        op->recover.driver = strdup(now ?: "");
        if (!op->recover.driver)
                return -ENOMEM;
        if (!streq_ptr(now, record->original_driver))
                /* The intent stays: the next start, or a Restore, tries again. */
                return operation_fail(op, VFIO_PT_ERROR_RESTORE_MISMATCH, -EREMOTEIO,
                                      "the device is on %s, not on its original driver %s",
                                      driver_or_none(now), driver_or_none(record->original_driver));
        return state_remove(op->state_dir, &op->address);
}

int recovery_run(struct operation *op) {
        _cleanup_(device_record_freep) struct device_record *record = NULL;
        _cleanup_(pci_device_freep) struct pci_device *d = NULL;
        _cleanup_(freep) char *problem = NULL;
        int r;

        r = kernel_lock_wait(op->state_dir, &op->address);
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                      "could not wait for the kernel lock: %s", strerror(-r));
        r = kernel_load_device(op, &op->address, &d);
        if (r < 0)
                return r;
        r = state_load_for(op->state_dir, d, &record, &problem);
        if (r == -ENOENT)
                return 0; /* about another device, set aside: nothing of this one to recover */
        if (r == -EBADMSG)
                return operation_fail_record(op, &op->address, problem);
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r, "could not read the record: %s",
                                      strerror(-r));
        op->recover.intent = record->intent;
        switch (record->intent) {
        case INTENT_NONE:
                return 0;
        case INTENT_GRANT:
                r = grant_roll_back(op->state_dir, record);
                if (r < 0)
                        return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r, "could not save the record: %s",
                                              strerror(-r));
                if (record->granted) {
                        op->target_uid = record->granted_uid;
                        op->recover.driver = strdup("");
                }
                return 0;
        case INTENT_ATTACH:
        case INTENT_DETACH:
        case INTENT_RESTORE:
                return give_back(op, record);
        }
        return -EINVAL;
}

/* On the main thread, when the worker is done: turns its end into the device's note. */
static void recovery_finish(struct operation *op) {
        struct context *c = op->context;
        const char *what = op->interrupted;
        char *note = NULL;

        if (op->error_name) {
                audit_log_operation(op, "failed", op->error_name, op->error_message);
                (void) strdup_printf(&note,
                                     INTERRUPTED "%s. Recovering it at start-up failed: %s. The record is kept; the "
                                     "next start tries again, and a Restore gives the device back to the host.",
                                     what, op->error_message ?: "see the journal");
        } else {
                audit_log_operation(op, "done", NULL, NULL);
                switch (op->recover.intent) {
                case INTENT_NONE:
                        break;
                case INTENT_GRANT:
                        if (op->recover.driver)
                                (void) strdup_printf(&note, INTERRUPTED "%s. Rolled back at start-up: uid %u keeps its "
                                                     "grant.", what, (unsigned) op->target_uid);
                        else
                                (void) strdup_printf(&note, INTERRUPTED "%s. Rolled back at start-up.", what);
                        break;
                case INTENT_RESTORE:
                        (void) strdup_printf(&note, INTERRUPTED "%s. Finished at start-up: the device is on %s.", what,
                                             driver_or_none(op->recover.driver));
                        break;
                case INTENT_ATTACH:
                case INTENT_DETACH:
                        (void) strdup_printf(&note, INTERRUPTED "%s. Rolled back at start-up: the device is on %s "
                                             "again.", what, driver_or_none(op->recover.driver));
                        break;
                }
        }
        if (note)
                log_notice("%s: %s", op->name, note);
        set_note(c, &op->address, note);
}
