/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "private-bus.h"

/* The real polkitd for the tests, on a private bus, in a mount namespace of its own where the
 * project's .policy and the test's .rules are bind-mounted over the system's polkit directories
 * (nothing of the host changes), and the test users it decides about. Needs root: polkitd starts
 * as root and drops to its own user. */

#define POLKIT_BUS_NAME "org.freedesktop.PolicyKit1"
/* polkit's bus policy as installed, for private_bus_start(). */
#define POLKIT_BUS_POLICY "/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf"

#define POLKIT_TEST_GROUP "vfio"
#define POLKIT_TEST_MEMBER "vfio-pt-member"
#define POLKIT_TEST_OUTSIDER "vfio-pt-outsider"
/* A second member of the group: one user's device is not another's. */
#define POLKIT_TEST_MEMBER2 "vfio-pt-member2"

/* Why the real polkitd cannot run here (not root, not installed), or NULL. */
const char *polkit_test_unavailable(void);

/* Makes the test group and users if they are missing (idempotent; needs root). */
void polkit_test_users_ensure(void);
uid_t polkit_test_uid(const char *user);

/* Desktop users sit in an active local session, where the .policy's allow_active applies. The
 * test callers have no logind session, so polkit applies allow_any ("no") to all of them; this
 * rule gives them what an active session gets, so the challenge path is exercised. Its name
 * sorts after the example rule's, as a system's later rules would. */
#define POLKIT_TEST_ACTIVE_SESSION_RULES "90-as-active-session.rules"
extern const char polkit_test_active_session_rule[];
/* The shipped example rule (group vfio), under the name the README tells admins to install. */
#define POLKIT_TEST_EXAMPLE_RULES "50-vfio-passthrough-group.rules"
char *polkit_test_example_rule(void);

/* Starts polkitd on bus with the project's .policy and rules (NULL-terminated list of file
 * name, JavaScript text, file name, text, …; may be NULL), its files under dir. Returns once
 * polkitd owns its name. */
GPid polkitd_start(struct private_bus *bus, const char *dir, const char *const *rules);
/* Kills polkitd the hard way, as a crash would, and waits until its name is gone. */
void polkitd_kill(struct private_bus *bus, GPid *pid);
