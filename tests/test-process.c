/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-process.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

void test_identity_of_user(const char *user, struct test_identity *id) {
        struct passwd *pw = getpwnam(user);

        g_assert_nonnull(pw);
        id->uid = pw->pw_uid;
        id->gid = pw->pw_gid;
        id->n_groups = G_N_ELEMENTS(id->groups);
        g_assert_cmpint(getgrouplist(user, pw->pw_gid, id->groups, &id->n_groups), >=, 0);
}

void test_identity_of_uid(uid_t uid, struct test_identity *id) {
        struct passwd *pw = getpwuid(uid);

        if (pw) {
                g_autofree char *name = g_strdup(pw->pw_name); /* getpwnam reuses the buffer */
                test_identity_of_user(name, id);
                return;
        }
        id->uid = uid;
        id->gid = (gid_t) uid;
        id->n_groups = 0;
}

void test_child_fail(const char *what) {
        const char *reason = strerror(errno);
        (void) !write(STDERR_FILENO, what, strlen(what));
        (void) !write(STDERR_FILENO, ": ", 2);
        (void) !write(STDERR_FILENO, reason, strlen(reason));
        (void) !write(STDERR_FILENO, "\n", 1);
        _exit(127);
}

void test_become(const struct test_identity *id) {
        if (setgroups(id->n_groups, id->groups) < 0)
                test_child_fail("setgroups");
        if (setresgid(id->gid, id->gid, id->gid) < 0)
                test_child_fail("setresgid");
        if (setresuid(id->uid, id->uid, id->uid) < 0)
                test_child_fail("setresuid");
}

void test_child_die_with_parent(gpointer data) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
}

void test_child_become(gpointer data) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        test_become(data);
}

int test_stop_child(GPid pid) {
        int status = 0;

        kill(pid, SIGTERM);
        for (int i = 0; i < 1000; i++) {
                if (waitpid(pid, &status, WNOHANG) == pid)
                        return status;
                g_usleep(10000);
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return status;
}

int test_open_log(const char *dir, const char *name, char **ret_path) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        int fd = g_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        g_assert_cmpint(fd, >=, 0);
        if (ret_path)
                *ret_path = g_steal_pointer(&path);
        return fd;
}

void test_remove_tree(const char *path) {
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
                g_autofree char *child = g_build_filename(path, name, NULL);
                if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
                        test_remove_tree(child);
                else
                        g_unlink(child);
        }
        g_rmdir(path);
}
