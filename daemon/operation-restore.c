/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Restore: give devices back to the drivers their records name; Forget: drop a record. */
#include "driver-ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device-moves.h"
#include "grant.h"
#include "kernel-steps.h"
#include "log.h"
#include "strv.h"
#include "vfio-passthrough-bus.h"

static int restore_one(struct operation *op, struct device_record *record) {
        _cleanup_(freep) char *now = NULL;
        struct pci_address a;
        int r;

        (void) pci_address_parse(record->address, &a);
        r = operation_check_owner(op, record);
        if (r < 0)
                return r;
        r = state_begin(op->state_dir, record, INTENT_RESTORE, op->caller_uid);
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                      "Could not write the state of %s to %s: %s. Nothing was changed.",
                                      record->address, op->state_dir, strerror(-r));
        crash_point(CRASH_POINT_RESTORE_INTENT);
        if (record->granted) {
                grant_revoke(op->state_dir, record);
                (void) state_save(op->state_dir, record);
        }
        crash_point(CRASH_POINT_RESTORE_GRANT_REVOKED);

        r = kernel_give_back(op, record, &now);
        if (r < 0)
                return r;
        if (pci_address_equal(&a, &op->address)) {
                op->restore.driver = strdup(now ?: "");
                if (!op->restore.driver)
                        return -ENOMEM;
        }
        if (!streq_ptr(now, record->original_driver)) {
                /* Keep the record, without the grant and the intent, so a later Restore can retry:
                 * this is an answer, not an interruption. */
                (void) state_commit(op->state_dir, record);
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
        crash_point(CRASH_POINT_RESTORE_REMOVED);
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
        if (result == 0 && !op->restore.driver)
                op->restore.driver = strdup("");
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
