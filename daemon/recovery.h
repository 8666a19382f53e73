/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "context.h"
#include "operation.h"

/* What a previous run of the daemon left half done. A record that still carries an intent
 * (state.h) names an operation that was cut off (SIGKILL, OOM, a crash, power) between two of its
 * steps. At start-up each such device gets a recovery, queued on its IOMMU group like any other
 * operation — the group reads as Busy until it is done, and calls on it wait behind it — which
 * first waits until no write of the old run is still inside the kernel (kernel-lock.h), then:
 *
 *  - Attach, Detach: rolled back; the device returns to the driver it had before the daemon first
 *    moved it. The caller never heard that the call succeeded, and may be gone; a device the host
 *    was using is better given back to the host than held for a VM that may never start.
 *  - Restore: finished; its caller asked for the device to go back to the host.
 *  - Grant: rolled back; its caller never got an answer, so the new grantee loses the nodes and
 *    the previous grantee, if any, has them again.
 *
 * What was found and done is kept (for the daemon's lifetime) as a note the bus API shows with the
 * device, and goes to the journal. */

/* At start-up, once the worker is set up: queues the recovery of every record with an intent. */
void recovery_start(struct context *c);

/* The recovery's work, on the worker thread. */
int recovery_run(struct operation *op);


/* The note about a device, or NULL. */
const char *recovery_note(const struct context *c, const struct pci_address *address);

void recovery_notes_free(struct context *c);
