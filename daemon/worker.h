/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "context.h"
#include "operation.h"

/* Runs privileged operations off the main loop: one thread per operation, because a sysfs write
 * can block in the kernel for as long as a program keeps the device open. Operations on the same
 * IOMMU group (or, without one, the same device) run one after the other in arrival order; on
 * different groups they run at once. A caller waits at most the operation timeout for its answer
 * (Error.Timeout after that), but the group stays locked until the thread has really returned. */

int worker_setup(struct context *c);

/* Takes ownership of op. Its requester (operation.h) hears the end, or, when it wants one, an early
 * answer after the operation timeout or when the daemon stops. */
int worker_submit(struct context *c, struct operation *op);

/* Whether an operation on this IOMMU group is queued or running. */
bool worker_group_busy(struct context *c, int iommu_group);

/* Whether start-up recovery is queued or running for the group (or, without one, the device):
 * a record's intent is an interrupted operation then, not one under way. */
bool worker_recovering(const struct context *c, int iommu_group, const struct pci_address *address);

/* SIGTERM: queued calls are answered Error.Interrupted at once; running ones get a few seconds to
 * finish, then are answered Error.Interrupted too, and the event loop exits. */
int worker_stop(struct context *c);

/* At exit: frees what is done; a thread still running is left behind with its operation. */
void worker_shutdown(struct context *c);
