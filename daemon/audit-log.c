/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "audit-log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include "log.h"

void audit_log_operation(const struct operation *op, const char *result, const char *error_name,
                         const char *message) {
        bool done = strcmp(result, "done") == 0;
        int priority = done ? LOG_INFO : LOG_NOTICE;
        char target[16] = "";
        int r;

        /* The uid is known once Grant's lookup ran; a refusal before it has none. */
        if (op->kind == OPERATION_GRANT && op->target_user)
                snprintf(target, sizeof(target), "%u", (unsigned) op->target_uid);

        r = sd_journal_send("MESSAGE_ID=" VFIO_PT_MESSAGE_ID_OPERATION,
                            "MESSAGE=%s of %s for uid %u: %s%s%s", operation_kind_to_string(op->kind), op->name,
                            (unsigned) op->caller_uid, result, message ? ": " : "", message ?: "",
                            "PRIORITY=%d", priority,
                            "DEVICE=%s", op->name,
                            "IOMMU_GROUP=%d", op->iommu_group,
                            "CALLER_UID=%u", (unsigned) op->caller_uid,
                            "CALLER_PID=%d", (int) op->caller_pid,
                            "OPERATION=%s", operation_kind_to_verb(op->kind),
                            "FLAGS=0x%" PRIx64, op->flags,
                            "RESULT=%s", result,
                            "ERROR=%s", error_name ?: "",
                            "TARGET_UID=%s", target,
                            NULL);
        if (r >= 0)
                return;
        /* No journal to talk to: the same, as a line. */
        log_full(priority, "%s of %s for uid %u (pid %d, flags 0x%" PRIx64 "): %s%s%s%s%s",
                 operation_kind_to_string(op->kind), op->name, (unsigned) op->caller_uid, (int) op->caller_pid,
                 op->flags, result, error_name ? " " : "", error_name ?: "", message ? ": " : "", message ?: "");
}
