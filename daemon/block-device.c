/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "block-device.h"

#include <dirent.h>
#include <errno.h>
#include <libudev.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "macro.h"
#include "mount-table.h"
#include "strv.h"

/* dm over md over a partition is three levels; nothing real nests deeper than this. */
#define MAX_STACK_DEPTH 8

static int resolve(const char *path, char **ret) {
        *ret = realpath(path, NULL);
        return *ret ? 0 : negative_errno();
}

int block_device_from_devnum(unsigned major, unsigned minor, char **ret_syspath) {
        char path[64];

        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major, minor);
        return resolve(path, ret_syspath);
}

static bool kernel_name_valid(const char *name) {
        return name[0] != '\0' && name[0] != '.' && strlen(name) < NAME_MAX && !strchr(name, '/');
}

int block_device_from_node(const char *node, char **ret_syspath) {
        char path[PATH_MAX];
        const char *name;
        struct stat st;

        if (stat(node, &st) >= 0 && S_ISBLK(st.st_mode) &&
            block_device_from_devnum(major(st.st_rdev), minor(st.st_rdev), ret_syspath) >= 0)
                return 0;
        /* /dev/NAME is the kernel name for everything devtmpfs creates. */
        name = strrchr(node, '/');
        name = name ? name + 1 : node;
        if (!kernel_name_valid(name))
                return -ENOENT;
        snprintf(path, sizeof(path), "/sys/class/block/%s", name);
        return resolve(path, ret_syspath);
}

int block_device_list(char ***ret_syspaths) {
        _cleanup_(strv_freep) char **syspaths = NULL;
        _cleanup_(closedirp) DIR *dir = opendir("/sys/class/block");
        struct dirent *de;
        int r;

        while (dir && (de = readdir(dir))) {
                _cleanup_(freep) char *syspath = NULL;
                char path[PATH_MAX];

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/class/block/%s", de->d_name);
                if (resolve(path, &syspath) < 0)
                        continue;
                r = strv_push(&syspaths, syspath);
                if (r < 0)
                        return r;
        }
        *ret_syspaths = TAKE_PTR(syspaths);
        return 0;
}

const char *block_device_name(const char *syspath) {
        const char *slash = strrchr(syspath, '/');
        return slash ? slash + 1 : syspath;
}

static int add_with_bases(const char *syspath, char ***syspaths, unsigned depth) {
        _cleanup_(closedirp) DIR *slaves = NULL;
        char path[PATH_MAX];
        struct dirent *de;
        int r;

        if (strv_contains(*syspaths, syspath))
                return 0;
        r = strv_push(syspaths, syspath);
        if (r < 0 || depth == 0)
                return r;

        snprintf(path, sizeof(path), "%s/slaves", syspath);
        slaves = opendir(path);
        while (slaves && (de = readdir(slaves))) {
                _cleanup_(freep) char *base = NULL;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/slaves/%s", syspath, de->d_name);
                if (resolve(path, &base) < 0)
                        continue;
                r = add_with_bases(base, syspaths, depth - 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

int block_device_add_with_bases(const char *syspath, char ***syspaths) {
        return add_with_bases(syspath, syspaths, MAX_STACK_DEPTH);
}

#define NVME_SUBSYSTEMS "/sys/devices/virtual/nvme-subsystem/"

int block_device_locations(const char *syspath, char ***ret) {
        _cleanup_(strv_freep) char **locations = NULL;
        _cleanup_(closedirp) DIR *dir = NULL;
        char subsystem[PATH_MAX];
        struct dirent *de;
        size_t n;
        int r;

        r = strv_push(&locations, syspath);
        if (r < 0)
                return r;
        /* A namespace that several controllers share has its disk in the subsystem, not below
         * any controller; the subsystem links to its controllers. */
        if (strncmp(syspath, NVME_SUBSYSTEMS, strlen(NVME_SUBSYSTEMS)) == 0) {
                n = strlen(NVME_SUBSYSTEMS) + strcspn(syspath + strlen(NVME_SUBSYSTEMS), "/");
                if (n < sizeof(subsystem)) {
                        memcpy(subsystem, syspath, n);
                        subsystem[n] = '\0';
                        dir = opendir(subsystem);
                }
        }
        while (dir && (de = readdir(dir))) {
                _cleanup_(freep) char *controller = NULL;
                char path[PATH_MAX];

                /* nvme0, nvme1, ...: the controllers; nvme0n1 and friends are the namespaces. */
                if (strncmp(de->d_name, "nvme", 4) != 0 ||
                    strspn(de->d_name + 4, "0123456789") != strlen(de->d_name + 4))
                        continue;
                if (snprintf(path, sizeof(path), "%s/%s", subsystem, de->d_name) >= (int) sizeof(path) ||
                    resolve(path, &controller) < 0)
                        continue;
                r = strv_push(&locations, controller);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(locations);
        return 0;
}

static int push_resolved(char ***syspaths, int (*lookup)(const char *, char **), const char *key) {
        _cleanup_(freep) char *syspath = NULL;

        if (lookup(key, &syspath) < 0 || strv_contains(*syspaths, syspath))
                return 0;
        return strv_push(syspaths, syspath);
}

/* /sys/fs/btrfs/FSID/devices/ links to every device of a btrfs filesystem; the mount source
 * names only the one it was mounted from. */
static int add_btrfs_devices(const char *source_syspath, char ***syspaths) {
        _cleanup_(closedirp) DIR *filesystems = opendir("/sys/fs/btrfs");
        struct dirent *fs;

        while (filesystems && (fs = readdir(filesystems))) {
                _cleanup_(strv_freep) char **members = NULL;
                _cleanup_(closedirp) DIR *devices = NULL;
                char path[PATH_MAX];
                struct dirent *de;
                int r;

                if (fs->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/fs/btrfs/%s/devices", fs->d_name);
                devices = opendir(path);
                while (devices && (de = readdir(devices))) {
                        _cleanup_(freep) char *member = NULL;

                        if (de->d_name[0] == '.')
                                continue;
                        snprintf(path, sizeof(path), "/sys/fs/btrfs/%s/devices/%s", fs->d_name, de->d_name);
                        if (resolve(path, &member) < 0)
                                continue;
                        r = strv_push(&members, member);
                        if (r < 0)
                                return r;
                }
                if (!strv_contains(members, source_syspath))
                        continue;
                STRV_FOREACH(m, members)
                        if (!strv_contains(*syspaths, *m)) {
                                r = strv_push(syspaths, *m);
                                if (r < 0)
                                        return r;
                        }
                return 0;
        }
        return 0;
}

static void udev_enumerate_unrefp(struct udev_enumerate **e) {
        if (*e)
                udev_enumerate_unref(*e);
}

/* ZFS keeps its vdevs to itself; blkid, through udev, labels each with the pool's name. */
static int add_zfs_vdevs(struct udev *udev, const char *pool, char ***syspaths) {
        _cleanup_(udev_enumerate_unrefp) struct udev_enumerate *e = NULL;
        struct udev_list_entry *entry;
        int r;

        if (!udev)
                return 0;
        e = udev_enumerate_new(udev);
        if (!e)
                return -ENOMEM;
        r = udev_enumerate_add_match_subsystem(e, "block");
        if (r >= 0)
                r = udev_enumerate_add_match_property(e, "ID_FS_TYPE", "zfs_member");
        if (r >= 0)
                r = udev_enumerate_scan_devices(e);
        if (r < 0)
                return r;
        udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e)) {
                struct udev_device *d = udev_device_new_from_syspath(udev, udev_list_entry_get_name(entry));
                const char *label = d ? udev_device_get_property_value(d, "ID_FS_LABEL") : NULL;

                if (label && strcmp(label, pool) == 0)
                        r = push_resolved(syspaths, resolve, udev_device_get_syspath(d));
                if (d)
                        udev_device_unref(d);
                if (r < 0)
                        return r;
        }
        return 0;
}

int block_device_for_mount(const struct mount_entry *m, struct udev *udev, char ***ret_syspaths) {
        _cleanup_(strv_freep) char **syspaths = NULL;
        int r = 0;

        if (m->major != 0) {
                _cleanup_(freep) char *syspath = NULL;

                if (block_device_from_devnum(m->major, m->minor, &syspath) >= 0)
                        r = strv_push(&syspaths, syspath);
        } else if (strcmp(m->fstype, "btrfs") == 0) {
                _cleanup_(freep) char *source = NULL;

                if (block_device_from_node(m->source, &source) >= 0) {
                        r = strv_push(&syspaths, source);
                        if (r >= 0)
                                r = add_btrfs_devices(source, &syspaths);
                }
        } else if (strcmp(m->fstype, "bcachefs") == 0) {
                /* Its source lists every device: "/dev/sda:/dev/sdb". */
                _cleanup_(freep) char *list = strdup(m->source);
                char *state = NULL;

                if (!list)
                        return -ENOMEM;
                for (char *node = strtok_r(list, ":", &state); node && r >= 0; node = strtok_r(NULL, ":", &state))
                        r = push_resolved(&syspaths, block_device_from_node, node);
        } else if (strcmp(m->fstype, "zfs") == 0) {
                /* "tank/home": the dataset home of the pool tank. */
                _cleanup_(freep) char *pool = strndup(m->source, strcspn(m->source, "/@"));

                if (!pool)
                        return -ENOMEM;
                r = add_zfs_vdevs(udev, pool, &syspaths);
        } else if (strncmp(m->source, "/dev/", 5) == 0)
                /* fuseblk (ntfs-3g), or a filesystem whose device number sysfs does not list. */
                r = push_resolved(&syspaths, block_device_from_node, m->source);
        if (r < 0)
                return r;

        *ret_syspaths = TAKE_PTR(syspaths);
        return 0;
}
