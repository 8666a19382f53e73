/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "operation.h"
#include "state.h"

/* Grant's work on the worker thread: chowns the device's /dev/vfio nodes to op->target_uid,
 * remembering the previous owners in the device's state record. */
int grant_run(struct operation *op);

/* Gives the nodes recorded in a device's state back to their previous owners (Restore). */
void grant_give_back_nodes(struct operation *op, const struct device_record *record);

/* Makes the grants recorded for an IOMMU group's devices true again, after udev recreated or
 * re-chmodded a node. Quick (a few stats and chowns); called on the main thread. */
void grant_reapply_group(const char *state_dir, int iommu_group);
