/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "operation.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver-ops.h"
#include "grant.h"
#include "recovery.h"
#include "state.h"
#include "strv.h"
#include "vfio-passthrough-bus.h"

struct operation *operation_free(struct operation *op) {
        if (!op)
                return NULL;
        sd_event_source_disable_unref(op->timeout_source);
        sd_bus_message_unref(op->message);
        free(op->error_message);
        strv_free(op->moved);
        free(op->detach.previous_driver);
        free(op->attach.group_node);
        free(op->restore.driver);
        free(op->grant.group_node);
        strv_free(op->grant.nodes);
        free(op->recover.driver);
        free(op->target_user);
        free(op->interrupted);
        strv_free(op->authorized);
        strv_free(op->manage_other);
        free(op);
        return NULL;
}

void operation_freep(struct operation **op) {
        operation_free(*op);
}

const char *operation_kind_to_string(enum operation_kind kind) {
        switch (kind) {
        case OPERATION_DETACH:
                return "Detach";
        case OPERATION_ATTACH:
                return "Attach";
        case OPERATION_RESTORE:
                return "Restore";
        case OPERATION_GRANT:
                return "Grant";
        case OPERATION_FORGET:
                return "Forget";
        case OPERATION_RECOVER:
                return "Recovery";
        }
        return "?";
}

const char *operation_kind_to_verb(enum operation_kind kind) {
        switch (kind) {
        case OPERATION_DETACH:
                return "detach";
        case OPERATION_ATTACH:
                return "attach";
        case OPERATION_RESTORE:
                return "restore";
        case OPERATION_GRANT:
                return "grant";
        case OPERATION_FORGET:
                return "forget";
        case OPERATION_RECOVER:
                return "recover";
        }
        return "?";
}

int operation_fail(struct operation *op, const char *error_name, int error, const char *format, ...) {
        va_list ap;

        if (!op->error_name) {
                op->error_name = error_name;
                va_start(ap, format);
                if (vasprintf(&op->error_message, format, ap) < 0)
                        op->error_message = NULL;
                va_end(ap);
        }
        return error < 0 ? error : -error;
}

int operation_fail_record(struct operation *op, const struct pci_address *address, const char *problem) {
        _cleanup_(freep) char *path = NULL;
        char name[PCI_ADDRESS_STRING_MAX];

        pci_address_format(address, name);
        (void) state_record_path(op->state_dir, address, &path);
        return operation_fail(op, VFIO_PT_ERROR_CORRUPT_RECORD, -EBADMSG,
                              "The daemon's record of %s (%s) cannot be read: %s. Nothing was changed; Forget "
                              "drops the record.",
                              name, path ?: "?", problem ?: "malformed");
}

int operation_check_authorized(struct operation *op, const char *name) {
        if (op->caller_uid == 0 || strv_contains(op->authorized, name))
                return 0;
        return operation_fail(op, SD_BUS_ERROR_ACCESS_DENIED, -EACCES,
                              "%s joined the call's devices after it was authorized (its IOMMU group changed). "
                              "Nothing was done to it; call again.",
                              name);
}

int operation_check_owner(struct operation *op, const struct device_record *record) {
        if (op->caller_uid == 0 || record->owner_uid == op->caller_uid ||
            strv_contains(op->manage_other, record->address))
                return 0;
        return operation_fail(op, SD_BUS_ERROR_ACCESS_DENIED, -EACCES,
                              "%s belongs to uid %u, not to the caller (its owner changed while the call waited). "
                              "Nothing was done to it.",
                              record->address, (unsigned) record->owner_uid);
}

void operation_run(struct operation *op) {
        int r = -EINVAL;

        switch (op->kind) {
        case OPERATION_DETACH:
                r = driver_ops_detach(op);
                break;
        case OPERATION_ATTACH:
                r = driver_ops_attach(op);
                break;
        case OPERATION_RESTORE:
                r = driver_ops_restore(op);
                break;
        case OPERATION_GRANT:
                r = grant_run(op);
                break;
        case OPERATION_FORGET:
                r = driver_ops_forget(op);
                break;
        case OPERATION_RECOVER:
                r = recovery_run(op);
                break;
        }
        /* Failures without a named error of their own (out of memory, mostly). */
        if (r < 0 && !op->error_name)
                (void) operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r, "%s of %s failed: %s",
                                      operation_kind_to_string(op->kind), op->name, strerror(-r));
        op->result = r < 0 ? r : 0;
}
