/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "operation.h"
#include "state.h"

/* Grant's work on the worker thread: gives op->target_uid read and write access to the device's
 * VFIO nodes by an ACL entry each (node-acl.h), replacing an earlier grantee's, and records the
 * nodes with their device numbers in the device's state record before the first change. */
int grant_run(struct operation *op);

/* QEMU locks all guest RAM for VFIO DMA; below this a small VM already fails to start. Grant
 * replies with it and the caller's limit. */
#define GRANT_MEMLOCK_MINIMUM (UINT64_C(1) << 30)

/* Takes a device's grant back: removes the grantee's ACL entry from each node recorded, unless
 * another device's record grants that same node to the same user (a group node, /dev/iommu), and
 * clears the grant from the record (the caller saves or removes it). */
void grant_revoke(const char *state_dir, struct device_record *record);

/* Undoes a Grant that did not complete (interrupted, or failed halfway): the new grantee's entries
 * (the record's intent nodes) go, the grant recorded before is made true again, the intent is
 * cleared, and the record saved — or removed, when the Grant had made it. */
int grant_roll_back(const char *state_dir, struct device_record *record);

/* Makes the grants recorded for an IOMMU group's devices true again after udev recreated or
 * re-chmodded a node: only for nodes that still are the devices recorded. Quick (a few stats and
 * ACL writes); called on the main thread. */
void grant_reapply_group(const char *state_dir, int iommu_group);
