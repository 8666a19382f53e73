/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Access to a VFIO node for one user, by a POSIX ACL entry user:UID:rw: the node stays root's,
 * the grantee cannot widen access (only the owner may chmod or change the ACL), and a node
 * several grantees need (/dev/iommu) carries one entry each.
 *
 * A node is reached through its directory and opened O_PATH | O_NOFOLLOW: that does not open the
 * device (opening /dev/vfio/N would claim the group), follows no symlink, and lets the daemon
 * check that it is a character device with the device number expected before touching it. */

/* Adds (or repairs) the entry for uid with read and write, and recomputes the mask (udev's chmod
 * of a node it rewrites sets the mask from the group bits, which would mute the entry). expected
 * 0 accepts any character device; ret_rdev (may be NULL) gets its number. -ESTALE when the node
 * now stands for another device than expected. */
int node_acl_grant(const char *path, uid_t uid, dev_t expected, dev_t *ret_rdev);

/* Removes the entry for uid. A node that is gone, or stands for another device than expected, is
 * left alone (returns 0 or -ESTALE). */
int node_acl_revoke(const char *path, uid_t uid, dev_t expected);

/* Whether the entry for uid is there and lets the user read and write, through the mask. */
int node_acl_granted(const char *path, uid_t uid, dev_t expected, bool *ret);
