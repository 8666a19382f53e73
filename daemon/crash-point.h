/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

/* The places between two steps of an operation where the daemon may die (OOM, a package upgrade,
 * a crash, power): each has a name, and the state it leaves must be finished or rolled back by
 * the next start (recovery.h). With VFIO_PASSTHROUGHD_CRASH_AT=NAME in its environment the daemon
 * kills itself there with SIGKILL, which is how the tests go through every one of them; without
 * it, a crash point is a no-op. `vfio-passthroughd --list-crash-points` prints the names, so a
 * new step is tested as soon as it has one. */
#define CRASH_POINTS(X)                                                                            \
        X(ATTACH_RECORDED, "attach:recorded")             /* record and intent on disk */          \
        X(ATTACH_OVERRIDE_SET, "attach:override-set")     /* driver_override is vfio-pci */        \
        X(ATTACH_UNBOUND, "attach:unbound")               /* off its host driver */                \
        X(ATTACH_PROBED, "attach:probed")                 /* drivers_probe written */              \
        X(ATTACH_BOUND, "attach:bound")                   /* on vfio-pci, intent still there */    \
        X(ATTACH_COMMITTED, "attach:committed")           /* intent cleared */                     \
        X(DETACH_RECORDED, "detach:recorded")                                                      \
        X(DETACH_OVERRIDE_SET, "detach:override-set")                                              \
        X(DETACH_UNBOUND, "detach:unbound")                                                        \
        X(DETACH_COMMITTED, "detach:committed")                                                    \
        X(RESTORE_INTENT, "restore:intent")               /* intent on disk, nothing changed */    \
        X(RESTORE_GRANT_REVOKED, "restore:grant-revoked") /* ACL entries gone */                   \
        X(RESTORE_OVERRIDE_CLEARED, "restore:override-cleared")                                    \
        X(RESTORE_UNBOUND, "restore:unbound")             /* off vfio-pci */                       \
        X(RESTORE_PROBED, "restore:probed")               /* drivers_probe written */              \
        X(RESTORE_REMOVED, "restore:removed")             /* record gone */                        \
        X(GRANT_INTENT, "grant:intent")                   /* nodes and intent on disk */           \
        X(GRANT_PREVIOUS_REVOKED, "grant:previous-revoked")                                        \
        X(GRANT_ACL_ADDED, "grant:acl-added")             /* the new grantee's entries are there */ \
        X(GRANT_COMMITTED, "grant:committed")

#define CRASH_POINT_ENUM(id, name) CRASH_POINT_##id,
enum crash_point { CRASH_POINTS(CRASH_POINT_ENUM) _CRASH_POINT_MAX };
#undef CRASH_POINT_ENUM

/* Dies here if the environment asks for it. */
void crash_point(enum crash_point point);

/* Every name, one a line. */
void crash_points_print(FILE *f);
