/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel-lock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"

#define KERNEL_LOCK_DIR "kernel-locks"

static int lock_path(const char *state_dir, const struct pci_address *address, char *buf, size_t size) {
        char name[PCI_ADDRESS_STRING_MAX];
        int n;

        n = snprintf(buf, size, "%s/" KERNEL_LOCK_DIR "/%s", state_dir, pci_address_format(address, name));
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

static int open_lock(const char *state_dir, const struct pci_address *address, bool create) {
        char path[PATH_MAX];
        int fd, r;

        r = lock_path(state_dir, address, path, sizeof(path));
        if (r < 0)
                return r;
        if (create) {
                char dir[PATH_MAX];

                snprintf(dir, sizeof(dir), "%s/" KERNEL_LOCK_DIR, state_dir);
                if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
                        return negative_errno();
                if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                        return negative_errno();
        }
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
        return fd < 0 ? negative_errno() : fd;
}

static int flock_retrying(int fd, int operation) {
        int r;

        do
                r = flock(fd, operation);
        while (r < 0 && errno == EINTR);
        return r < 0 ? negative_errno() : 0;
}

int kernel_lock_take(const char *state_dir, const struct pci_address *address) {
        _cleanup_(closep) int fd = -1;
        int r;

        fd = open_lock(state_dir, address, true);
        if (fd < 0)
                return fd;
        r = flock_retrying(fd, LOCK_SH);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}

int kernel_lock_held(const char *state_dir, const struct pci_address *address) {
        _cleanup_(closep) int fd = -1;
        int r;

        fd = open_lock(state_dir, address, false);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return fd;
        r = flock_retrying(fd, LOCK_EX | LOCK_NB);
        if (r == -EWOULDBLOCK)
                return 1;
        return r;
}

int kernel_lock_wait(const char *state_dir, const struct pci_address *address) {
        _cleanup_(closep) int fd = -1;

        fd = open_lock(state_dir, address, false);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return fd;
        /* Closing the descriptor drops the lock again. */
        return flock_retrying(fd, LOCK_EX);
}
