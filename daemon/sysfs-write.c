/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sysfs-write.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "sysfs.h"

static int write_file(const char *path, const char *value) {
        _cleanup_(closep) int fd = -1;
        size_t n = strlen(value);
        ssize_t k;

        /* O_TRUNC is harmless on sysfs and keeps a simulated attribute file free of stale bytes. */
        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        do
                k = write(fd, value, n);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return negative_errno();
        if ((size_t) k != n)
                return -EIO;
        /* sysfs reports some failures only on close. */
        if (close(TAKE_FD(fd)) < 0)
                return negative_errno();
        return 0;
}

int pci_device_write(const struct pci_address *address, const char *attribute, const char *value) {
        char path[PATH_MAX];
        int r;

        r = pci_device_path(address, attribute, path, sizeof(path));
        if (r < 0)
                return r;
        log_debug("Writing '%s' to %s", value[0] == '\n' ? "\\n" : value, path);
        return write_file(path, value);
}

int pci_bus_write(const char *attribute, const char *value) {
        char path[PATH_MAX];

        if (strchr(attribute, '/'))
                return -EINVAL;
        snprintf(path, sizeof(path), "/sys/bus/pci/%s", attribute);
        log_debug("Writing '%s' to %s", value, path);
        return write_file(path, value);
}

int pci_driver_write(const char *driver, const char *attribute, const char *value) {
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
        return write_file(path, value);
}
