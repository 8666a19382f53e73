/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "in-use.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "sysfs.h"

/* sysfs device directories nest like the bus topology, so "below the device" is a path prefix. */
static bool path_is_below(const char *path, const char *top) {
        size_t n = strlen(top);
        return strncmp(path, top, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static int resolve(const char *path, char **ret) {
        *ret = realpath(path, NULL);
        return *ret ? 0 : negative_errno();
}

static int check_boot_vga(const struct pci_address *a, char **ret_holder) {
        char path[PATH_MAX];
        int v, r;

        r = pci_device_path(a, "boot_vga", path, sizeof(path));
        if (r < 0)
                return r;
        if (sysfs_read_int(path, &v) < 0 || v != 1)
                return 0;
        *ret_holder = strdup("it is the boot VGA device and drives the console (boot_vga is 1)");
        return *ret_holder ? 1 : -ENOMEM;
}

/* The interfaces that carry a default route, from the kernel's IPv4 routing table. */
static bool carries_default_route(const char *interface) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/net/route", "re");
        char line[512];

        if (!f)
                return false;
        while (fgets(line, sizeof(line), f)) {
                char name[IF_NAMESIZE + 1];
                unsigned long destination, gateway, flags, refcnt, use, metric, mask;

                if (sscanf(line, "%16s %lx %lx %lx %lu %lu %lu %lx", name, &destination, &gateway, &flags, &refcnt,
                           &use, &metric, &mask) != 8)
                        continue; /* the header */
                if (destination == 0 && mask == 0 && strcmp(name, interface) == 0)
                        return true;
        }
        return false;
}

static int check_network(const char *syspath, char **ret_holder) {
        _cleanup_(closedirp) DIR *dir = opendir("/sys/class/net");
        struct dirent *de;

        if (!dir)
                return errno == ENOENT ? 0 : negative_errno();
        while ((de = readdir(dir))) {
                _cleanup_(freep) char *device = NULL;
                char path[PATH_MAX];
                uint32_t flags = 0;

                if (de->d_name[0] == '.' || strlen(de->d_name) >= IF_NAMESIZE)
                        continue;
                snprintf(path, sizeof(path), "/sys/class/net/%s/device", de->d_name);
                if (resolve(path, &device) < 0 || !path_is_below(device, syspath))
                        continue;

                snprintf(path, sizeof(path), "/sys/class/net/%s/flags", de->d_name);
                (void) sysfs_read_hex(path, &flags);
                if (flags & IFF_UP)
                        return asprintf(ret_holder, "its network interface %s is up", de->d_name) < 0 ? -ENOMEM : 1;
                if (carries_default_route(de->d_name))
                        return asprintf(ret_holder, "its network interface %s carries the default route",
                                        de->d_name) < 0 ? -ENOMEM : 1;
        }
        return 0;
}

/* A block device backs the device when its sysfs node lies below it, or when it is built on
 * (device-mapper, md) one that does: follow "slaves" a few levels down. */
static bool block_device_is_below(const char *block_path, const char *syspath, unsigned depth) {
        _cleanup_(closedirp) DIR *slaves = NULL;
        char path[PATH_MAX];
        struct dirent *de;

        if (path_is_below(block_path, syspath))
                return true;
        if (depth == 0)
                return false;
        snprintf(path, sizeof(path), "%s/slaves", block_path);
        slaves = opendir(path);
        while (slaves && (de = readdir(slaves))) {
                _cleanup_(freep) char *slave = NULL;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/slaves/%s", block_path, de->d_name);
                if (resolve(path, &slave) >= 0 && block_device_is_below(slave, syspath, depth - 1))
                        return true;
        }
        return false;
}

static int check_mounts(const char *syspath, char **ret_holder) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];

        if (!f)
                return errno == ENOENT ? 0 : negative_errno();
        while (fgets(line, sizeof(line), f)) {
                _cleanup_(freep) char *block = NULL;
                char mount_point[PATH_MAX], path[PATH_MAX];
                unsigned major, minor;

                if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &major, &minor, mount_point) != 3 || major == 0)
                        continue;
                snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major, minor);
                if (resolve(path, &block) < 0 || !block_device_is_below(block, syspath, 4))
                        continue;
                return asprintf(ret_holder, "it backs the filesystem mounted on %s (block device %s)", mount_point,
                                strrchr(block, '/') + 1) < 0 ? -ENOMEM : 1;
        }
        return 0;
}

int pci_device_find_host_user(const struct pci_address *a, char **ret_holder) {
        _cleanup_(freep) char *syspath = NULL;
        char path[PATH_MAX];
        int r;

        r = check_boot_vga(a, ret_holder);
        if (r != 0)
                return r;

        r = pci_device_path(a, NULL, path, sizeof(path));
        if (r < 0)
                return r;
        r = resolve(path, &syspath);
        if (r < 0)
                return r == -ENOENT ? -ENODEV : r;

        r = check_network(syspath, ret_holder);
        if (r != 0)
                return r;
        return check_mounts(syspath, ret_holder);
}
