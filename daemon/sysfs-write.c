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
#include "wait.h"

/* Leaves the child only the descriptors it needs (keep, sorted, n of them): a child stuck in the
 * kernel must not keep the daemon's bus connection (and with it the bus name) alive. */
static void close_all_but(const int *keep, size_t n) {
        unsigned next = 3;

        for (size_t i = 0; i < n; i++) {
                if ((unsigned) keep[i] > next)
                        (void) syscall(SYS_close_range, next, (unsigned) keep[i] - 1, 0U);
                if ((unsigned) keep[i] + 1 > next)
                        next = (unsigned) keep[i] + 1;
        }
        (void) syscall(SYS_close_range, next, ~0U, 0U);
}

static void sort_fds(int *fds, size_t n) {
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
                        int t = fds[j];
                        fds[j] = fds[j - 1];
                        fds[j - 1] = t;
                }
}

/* A write to sysfs can wait in the kernel for as long as a program holds the device: an unbind
 * waits for vfio-pci's user to let go, and driver_override and drivers_probe wait for the device
 * lock that unbind holds. The write is made by a child process, so that the daemon can always
 * stop: a child stuck in the kernel stays behind with the device's kernel lock (kernel-lock.h),
 * finishes its write when the kernel lets it, and the next start sees where the device ended up
 * (recovery.h). The file is opened here, where its path means what the daemon means (the tests'
 * umockdev redirects it); the child only makes system calls, which is all that is safe in the
 * child of a threaded process. It reports its errno through a pipe rather than its exit status,
 * which a wrapper (valgrind) may claim for its own findings. */
static int write_in_child(const char *path, const char *value, int lock_fd) {
        _cleanup_(closep) int fd = -1, report_read = -1, report_write = -1;
        size_t n = strlen(value);
        int pipe_fds[2], error = 0, status;
        ssize_t k;
        pid_t pid;

        /* O_TRUNC is harmless on sysfs and keeps a simulated attribute file free of stale bytes. */
        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        if (pipe2(pipe_fds, O_CLOEXEC) < 0)
                return negative_errno();
        report_read = pipe_fds[0];
        report_write = pipe_fds[1];

        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                int keep[3] = { fd, report_write, lock_fd >= 0 ? lock_fd : fd };

                sort_fds(keep, ELEMENTSOF(keep));
                close_all_but(keep, ELEMENTSOF(keep));
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
                (void) syscall(SYS_write, report_write, &error, sizeof(error));
                _exit(0);
        }

        close(TAKE_FD(report_write));
        do
                k = read(report_read, &error, sizeof(error));
        while (k < 0 && errno == EINTR);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (k != sizeof(error))
                return -EIO; /* died without a word */
        return -error;
}

/* Each write's time goes to the debug log: with the waits (wait.h) it says where an operation's
 * time went. */
static int write_file(const char *path, const char *value, int lock_fd) {
        uint64_t start = now_usec();
        int r;

        r = write_in_child(path, value, lock_fd);
        log_debug("Write to %s took %.1f ms%s%s.", path, msec_since(start), r < 0 ? ": " : "",
                  r < 0 ? strerror(-r) : "");
        return r;
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
