/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sysfs-write.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "sysfs.h"

/* Leaves the child only the two descriptors it needs: a child stuck in the kernel must not keep
 * the daemon's bus connection (and with it the bus name) alive. */
static void close_all_but(int a, int b) {
        int low = a < b ? a : b, high = a < b ? b : a;

        if (low > 3)
                (void) syscall(SYS_close_range, 3U, (unsigned) low - 1, 0U);
        if (high > low + 1)
                (void) syscall(SYS_close_range, (unsigned) low + 1, (unsigned) high - 1, 0U);
        (void) syscall(SYS_close_range, (unsigned) high + 1, ~0U, 0U);
}

/* A write to sysfs can wait in the kernel for as long as a program holds the device: an unbind
 * waits for vfio-pci's user to let go, and driver_override and drivers_probe wait for the device
 * lock that unbind holds. The write is made by a child process, so that the daemon can always
 * stop: a child stuck in the kernel stays behind with the device's kernel lock (kernel-lock.h),
 * finishes its write when the kernel lets it, and the next start sees where the device ended up
 * (recovery.h). The file is opened here, where its path means what the daemon means (the tests'
 * umockdev redirects it); the child only makes system calls, which is all that is safe in the
 * child of a threaded process. */
static int write_file(const char *path, const char *value, int lock_fd) {
        _cleanup_(closep) int fd = -1;
        size_t n = strlen(value);
        int status;
        pid_t pid, w;

        /* O_TRUNC is harmless on sysfs and keeps a simulated attribute file free of stale bytes. */
        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();

        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                ssize_t k;
                int error = 0;

                close_all_but(fd, lock_fd >= 0 ? lock_fd : fd);
                (void) prctl(PR_SET_NAME, "vfio-pt-write");
                do
                        k = syscall(SYS_write, fd, value, n);
                while (k < 0 && errno == EINTR);
                if (k < 0)
                        error = errno;
                else if ((size_t) k != n)
                        error = EIO;
                /* sysfs reports some failures only on close. */
                if (syscall(SYS_close, fd) < 0 && error == 0)
                        error = errno;
                _exit(error > 0 && error < 256 ? error : error ? EIO : 0);
        }

        do
                w = waitpid(pid, &status, 0);
        while (w < 0 && errno == EINTR);
        if (w < 0)
                return negative_errno();
        if (!WIFEXITED(status))
                return -EIO;
        return -WEXITSTATUS(status);
}

int pci_device_write(const struct pci_address *address, const char *attribute, const char *value, int lock_fd) {
        char path[PATH_MAX];
        int r;

        r = pci_device_path(address, attribute, path, sizeof(path));
        if (r < 0)
                return r;
        log_debug("Writing '%s' to %s", value[0] == '\n' ? "\\n" : value, path);
        return write_file(path, value, lock_fd);
}

int pci_bus_write(const char *attribute, const char *value, int lock_fd) {
        char path[PATH_MAX];

        if (strchr(attribute, '/'))
                return -EINVAL;
        snprintf(path, sizeof(path), "/sys/bus/pci/%s", attribute);
        log_debug("Writing '%s' to %s", value, path);
        return write_file(path, value, lock_fd);
}

int pci_driver_write(const char *driver, const char *attribute, const char *value, int lock_fd) {
        char path[PATH_MAX];
        int n;

        /* Driver names come from the device's driver link, a kernel name; still, nothing that
         * could leave the driver's directory goes into the path. */
        if (driver[0] == '\0' || driver[0] == '.' || strchr(driver, '/') || strchr(attribute, '/'))
                return -EINVAL;
        n = snprintf(path, sizeof(path), SYSFS_PCI_DRIVERS "/%s/%s", driver, attribute);
        if (n < 0 || (size_t) n >= sizeof(path))
                return -ENAMETOOLONG;
        log_debug("Writing '%s' to %s", value, path);
        return write_file(path, value, lock_fd);
}
