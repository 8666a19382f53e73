/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "operation.h"

/* Every privileged call ends in one structured journal entry, so that
 *   journalctl MESSAGE_ID=VFIO_PT_MESSAGE_ID_OPERATION
 * lists every change ever asked of the daemon and who asked: DEVICE=, IOMMU_GROUP=,
 * CALLER_UID=, CALLER_PID=, OPERATION= (detach, attach, restore, grant, forget), FLAGS=,
 * RESULT= (done, denied, failed, timeout), ERROR= (the D-Bus error name) and, for Grant,
 * TARGET_UID=. Without a journal (run by hand, in tests) it is one line on stderr. */
#define VFIO_PT_MESSAGE_ID_OPERATION "2f8e6b1dc4a94c0e9a7d5b3f1e6c8a24"

/* result: "done", "denied", "failed" or "timeout"; error_name and message NULL when done. */
void audit_log_operation(const struct operation *op, const char *result, const char *error_name, const char *message);
