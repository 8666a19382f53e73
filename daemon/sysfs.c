/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"

/* sysfs attributes are at most a page long. */
#define SYSFS_ATTRIBUTE_MAX 4096

int pci_device_path(const struct pci_address *address, const char *attribute, char *buf, size_t size) {
        char name[PCI_ADDRESS_STRING_MAX];
        int n;

        pci_address_format(address, name);
        if (attribute)
                n = snprintf(buf, size, SYSFS_PCI_DEVICES "/%s/%s", name, attribute);
        else
                n = snprintf(buf, size, SYSFS_PCI_DEVICES "/%s", name);
        if (n < 0 || (size_t) n >= size)
                return -ENAMETOOLONG;
        return 0;
}

int sysfs_read_string(const char *path, char **ret) {
        _cleanup_(closep) int fd = -1;
        _cleanup_(freep) char *buf = NULL;
        ssize_t n;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();

        buf = malloc(SYSFS_ATTRIBUTE_MAX + 1);
        if (!buf)
                return -ENOMEM;

        do
                n = read(fd, buf, SYSFS_ATTRIBUTE_MAX);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();

        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

int sysfs_read_hex(const char *path, uint32_t *ret) {
        _cleanup_(freep) char *s = NULL;
        unsigned long v;
        char *end;
        int r;

        r = sysfs_read_string(path, &s);
        if (r < 0)
                return r;
        if (strncmp(s, "0x", 2) != 0 || s[2] == '\0')
                return -EBADMSG;
        errno = 0;
        v = strtoul(s + 2, &end, 16);
        if (errno != 0 || *end != '\0' || v > UINT32_MAX)
                return -EBADMSG;
        *ret = (uint32_t) v;
        return 0;
}

int sysfs_read_int(const char *path, int *ret) {
        _cleanup_(freep) char *s = NULL;
        long v;
        char *end;
        int r;

        r = sysfs_read_string(path, &s);
        if (r < 0)
                return r;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v < INT_MIN || v > INT_MAX)
                return -EBADMSG;
        *ret = (int) v;
        return 0;
}

int sysfs_read_link_name(const char *path, char **ret) {
        char target[PATH_MAX];
        const char *base;
        ssize_t n;

        /* readlinkat, not readlink: the sanitizer runtime intercepts readlink() and would call the C
         * library directly, past the umockdev preload the tests rely on. */
        n = readlinkat(AT_FDCWD, path, target, sizeof(target) - 1);
        if (n < 0)
                return negative_errno();
        target[n] = '\0';

        base = strrchr(target, '/');
        base = base ? base + 1 : target;
        if (*base == '\0')
                return -EBADMSG;

        *ret = strdup(base);
        return *ret ? 0 : -ENOMEM;
}
