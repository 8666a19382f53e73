/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* What the service and polkit tests need for their child processes: test users, callers that
 * really are those users, and cleaning up after a test. */

/* A user as a process runs as it: uid, primary group and supplementary groups. Looked up before
 * fork, since NSS is not safe between fork and exec. */
struct test_identity {
        uid_t uid;
        gid_t gid;
        gid_t groups[64];
        int n_groups;
};

void test_identity_of_user(const char *user, struct test_identity *id);
/* A uid without a passwd entry gets gid = uid and no supplementary groups. */
void test_identity_of_uid(uid_t uid, struct test_identity *id);

/* For the child between fork and exec (async-signal-safe): says on stderr what failed and why,
 * then _exit(127). */
void test_child_fail(const char *what) G_GNUC_NORETURN;

/* For the child between fork and exec (async-signal-safe): become id for good, or _exit(127)
 * after saying why on stderr. */
void test_become(const struct test_identity *id);
/* GSpawnChildSetupFunc: the child dies with the test, then becomes data (a test_identity). */
void test_child_become(gpointer data);
/* GSpawnChildSetupFunc: children of a test that aborts must not outlive it and hold its output open. */
void test_child_die_with_parent(gpointer data);

/* Stops a child and returns its wait status; a child that ignores SIGTERM gets SIGKILL. */
int test_stop_child(GPid pid);

/* Opens dir/name for a child's output (truncated); the path is returned when asked for. */
int test_open_log(const char *dir, const char *name, char **ret_path);

/* A test's scratch directory and everything in it. */
void test_remove_tree(const char *path);
