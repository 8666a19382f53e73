/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "node-acl.h"

#include <acl/libacl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"

static void acl_freep(acl_t *acl) {
        if (*acl)
                acl_free(*acl);
}

/* An O_PATH descriptor of the node, checked to be a character device (with number expected, when
 * not 0). */
static int open_node(const char *path, dev_t expected, dev_t *ret_rdev) {
        _cleanup_(closep) int dir_fd = -1, fd = -1;
        const char *slash = strrchr(path, '/');
        char dir[PATH_MAX];
        struct stat st;

        if (!slash || slash == path || (size_t) (slash - path) >= sizeof(dir) || slash[1] == '\0')
                return -EINVAL;
        memcpy(dir, path, slash - path);
        dir[slash - path] = '\0';
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return negative_errno();
        fd = openat(dir_fd, slash + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISCHR(st.st_mode))
                return -ENOTTY;
        if (expected != 0 && st.st_rdev != expected)
                return -ESTALE;
        if (ret_rdev)
                *ret_rdev = st.st_rdev;
        return TAKE_FD(fd);
}

/* The ACL calls take a path; /proc/self/fd/N is the node the descriptor holds, whatever happens to
 * its name meanwhile. */
static void fd_path(int fd, char buf[static 64]) {
        snprintf(buf, 64, "/proc/self/fd/%d", fd);
}

static int find_user_entry(acl_t acl, uid_t uid, acl_entry_t *ret) {
        acl_entry_t entry;

        for (int id = ACL_FIRST_ENTRY; acl_get_entry(acl, id, &entry) == 1; id = ACL_NEXT_ENTRY) {
                acl_tag_t tag;
                uid_t *qualifier;
                bool match;

                if (acl_get_tag_type(entry, &tag) < 0)
                        return negative_errno();
                if (tag != ACL_USER)
                        continue;
                qualifier = acl_get_qualifier(entry);
                if (!qualifier)
                        return negative_errno();
                match = *qualifier == uid;
                acl_free(qualifier);
                if (match) {
                        *ret = entry;
                        return 1;
                }
        }
        return 0;
}

/* The node's descriptor, its /proc path and its ACL. */
struct node_acl {
        int fd;
        char proc[64];
        acl_t acl;
};

static void node_acl_done(struct node_acl *n) {
        closep(&n->fd);
        acl_freep(&n->acl);
}

static int node_acl_load(const char *path, dev_t expected, dev_t *ret_rdev, struct node_acl *ret) {
        ret->fd = open_node(path, expected, ret_rdev);
        if (ret->fd < 0)
                return ret->fd;
        fd_path(ret->fd, ret->proc);
        ret->acl = acl_get_file(ret->proc, ACL_TYPE_ACCESS);
        return ret->acl ? 0 : negative_errno();
}

/* Recomputes the mask (so the entries take effect) and writes the ACL back. */
static int node_acl_store(struct node_acl *n) {
        if (acl_calc_mask(&n->acl) < 0 || acl_set_file(n->proc, ACL_TYPE_ACCESS, n->acl) < 0)
                return negative_errno();
        return 0;
}

int node_acl_grant(const char *path, uid_t uid, dev_t expected, dev_t *ret_rdev) {
        _cleanup_(node_acl_done) struct node_acl n = { .fd = -1 };
        acl_entry_t entry;
        acl_permset_t permset;
        int r;

        r = node_acl_load(path, expected, ret_rdev, &n);
        if (r < 0)
                return r;
        r = find_user_entry(n.acl, uid, &entry);
        if (r < 0)
                return r;
        if (r == 0) {
                if (acl_create_entry(&n.acl, &entry) < 0 || acl_set_tag_type(entry, ACL_USER) < 0 ||
                    acl_set_qualifier(entry, &uid) < 0)
                        return negative_errno();
        }
        if (acl_get_permset(entry, &permset) < 0 || acl_clear_perms(permset) < 0 ||
            acl_add_perm(permset, ACL_READ) < 0 || acl_add_perm(permset, ACL_WRITE) < 0 ||
            acl_set_permset(entry, permset) < 0)
                return negative_errno();
        return node_acl_store(&n);
}

int node_acl_revoke(const char *path, uid_t uid, dev_t expected) {
        _cleanup_(node_acl_done) struct node_acl n = { .fd = -1 };
        acl_entry_t entry;
        int r;

        r = node_acl_load(path, expected, NULL, &n);
        if (r == -ENOENT)
                return 0; /* gone with the unbind: nothing left to revoke */
        if (r < 0)
                return r;
        r = find_user_entry(n.acl, uid, &entry);
        if (r <= 0)
                return r;
        if (acl_delete_entry(n.acl, entry) < 0)
                return negative_errno();
        return node_acl_store(&n);
}

int node_acl_granted(const char *path, uid_t uid, dev_t expected, bool *ret) {
        _cleanup_(node_acl_done) struct node_acl n = { .fd = -1 };
        acl_entry_t entry, mask_entry;
        acl_permset_t permset, mask = NULL;
        int r;

        r = node_acl_load(path, expected, NULL, &n);
        if (r < 0)
                return r;
        r = find_user_entry(n.acl, uid, &entry);
        if (r < 0)
                return r;
        if (r == 0) {
                *ret = false;
                return 0;
        }
        if (acl_get_permset(entry, &permset) < 0)
                return negative_errno();
        for (int id = ACL_FIRST_ENTRY; acl_get_entry(n.acl, id, &mask_entry) == 1; id = ACL_NEXT_ENTRY) {
                acl_tag_t tag;
                if (acl_get_tag_type(mask_entry, &tag) >= 0 && tag == ACL_MASK && acl_get_permset(mask_entry, &mask) < 0)
                        return negative_errno();
        }
        *ret = acl_get_perm(permset, ACL_READ) == 1 && acl_get_perm(permset, ACL_WRITE) == 1 &&
               (!mask || (acl_get_perm(mask, ACL_READ) == 1 && acl_get_perm(mask, ACL_WRITE) == 1));
        return 0;
}
