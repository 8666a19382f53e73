/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the host stores on block devices and virtio filesystems: mounts in every namespace, swap,
 * and devices built on top of others. */
#include <dirent.h>
#include <errno.h>
#include <libudev.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block-device.h"
#include "host-use-internal.h"
#include "mount-table.h"
#include "strv.h"
#include "sysfs.h"

static void udev_unrefp(struct udev **u) {
        if (*u)
                udev_unref(*u);
}

/* " in the mount namespace of process 4242 (containerd)", or "" for the host's. */
static void describe_namespace(pid_t pid, char *buf, size_t size) {
        _cleanup_(freep) char *comm = NULL;
        char path[64];

        if (pid == 0) {
                buf[0] = '\0';
                return;
        }
        snprintf(path, sizeof(path), "/proc/%d/comm", (int) pid);
        if (sysfs_read_string(path, &comm) >= 0)
                snprintf(buf, size, " in the mount namespace of process %d (%s)", (int) pid, comm);
        else
                snprintf(buf, size, " in the mount namespace of process %d", (int) pid);
}

/* Each block device a thing is stored on, and everything those are built on (a filesystem on
 * dm-crypt on a partition is in use down to the partition). The reason is use, followed by the
 * name of the block device found below a PCI function. */
static int add_block_uses(struct host_use_view *view, char **stored_on, const char *use) {
        _cleanup_(strv_freep) char **bases = NULL;
        int r;

        STRV_FOREACH(s, stored_on) {
                r = block_device_add_with_bases(*s, &bases);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(b, bases) {
                _cleanup_(strv_freep) char **locations = NULL;

                r = block_device_locations(*b, &locations);
                if (r < 0)
                        return r;
                STRV_FOREACH(l, locations) {
                        char *reason;

                        (void) strdup_printf(&reason, "%s (block device %s)", use, block_device_name(*b));
                        r = host_use_add(view, *l, reason);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int add_mounts(struct host_use_view *view, const struct mount_table *mounts, struct udev *udev) {
        int r;

        for (size_t i = 0; i < mounts->n; i++) {
                const struct mount_entry *m = &mounts->entries[i];
                _cleanup_(strv_freep) char **stored_on = NULL;
                _cleanup_(freep) char *use = NULL;
                char ns[128];

                r = block_device_for_mount(m, udev, &stored_on);
                if (r < 0)
                        return r;
                if (!stored_on)
                        continue;
                describe_namespace(m->namespace_pid, ns, sizeof(ns));
                r = strdup_printf(&use, "it backs the %s filesystem mounted on %s%s", m->fstype, m->mount_point, ns);
                if (r < 0)
                        return r;
                r = add_block_uses(view, stored_on, use);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* /proc/swaps: "Filename Type Size Used Priority", the name escaped like a mount point. */
static int add_swaps(struct host_use_view *view, const struct mount_table *mounts, struct udev *udev) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/swaps", "re");
        _cleanup_(freep) char *line = NULL;
        size_t size = 0;
        int r;

        if (!f)
                return errno == ENOENT ? 0 : negative_errno();
        while (getline(&line, &size, f) >= 0) {
                _cleanup_(strv_freep) char **stored_on = NULL;
                _cleanup_(freep) char *name = NULL, *use = NULL;
                const struct mount_entry *holder;
                char type[32];

                line[strcspn(line, "\n")] = '\0';
                if (sscanf(line, "%*s %31s", type) != 1 || strcmp(type, "Type") == 0)
                        continue;
                name = mountinfo_unescape(line, strcspn(line, " \t"));
                if (!name)
                        return -ENOMEM;

                if (strcmp(type, "partition") == 0) {
                        _cleanup_(freep) char *syspath = NULL;

                        if (block_device_from_node(name, &syspath) < 0)
                                continue;
                        r = strv_push(&stored_on, syspath);
                        if (r < 0)
                                return r;
                        r = strdup_printf(&use, "it holds the swap area %s", name);
                } else {
                        /* A swap file: in use as long as the filesystem holding it is. */
                        holder = mount_table_find_path(mounts, name);
                        if (!holder)
                                continue;
                        r = block_device_for_mount(holder, udev, &stored_on);
                        if (r < 0)
                                return r;
                        r = strdup_printf(&use, "it holds the swap file %s (on the %s filesystem mounted on %s)", name,
                                          holder->fstype, holder->mount_point);
                }
                if (r >= 0)
                        r = add_block_uses(view, stored_on, use);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* "dm-0 (cryptroot)", "md0 (raid1)", "bcache0". */
static char *describe_holder(const char *holder_syspath) {
        _cleanup_(freep) char *detail = NULL;
        const char *name = block_device_name(holder_syspath);
        char path[PATH_MAX], *s;

        snprintf(path, sizeof(path), "%s/dm/name", holder_syspath);
        if (sysfs_read_string(path, &detail) < 0) {
                snprintf(path, sizeof(path), "%s/md/level", holder_syspath);
                (void) sysfs_read_string(path, &detail);
        }
        if (detail && detail[0])
                return strdup_printf(&s, "%s (%s)", name, detail) < 0 ? NULL : s;
        return strdup(name);
}

/* dm (LVM, LUKS, multipath), md and bcache devices list what they are built on as slaves, and
 * appear as holders there, whether anything is mounted on them or not. */
static int add_holders(struct host_use_view *view) {
        _cleanup_(strv_freep) char **blocks = NULL;
        int r;

        r = block_device_list(&blocks);
        if (r < 0)
                return r;
        STRV_FOREACH(syspath, blocks) {
                _cleanup_(closedirp) DIR *holders = NULL;
                char path[PATH_MAX];
                struct dirent *h;

                snprintf(path, sizeof(path), "%s/holders", *syspath);
                holders = opendir(path);
                while (holders && (h = readdir(holders))) {
                        _cleanup_(freep) char *holder = NULL, *described = NULL;
                        _cleanup_(strv_freep) char **locations = NULL;

                        if (h->d_name[0] == '.')
                                continue;
                        snprintf(path, sizeof(path), "%s/holders/%s", *syspath, h->d_name);
                        holder = realpath(path, NULL);
                        described = holder ? describe_holder(holder) : strdup(h->d_name);
                        if (!described)
                                return -ENOMEM;
                        r = block_device_locations(*syspath, &locations);
                        if (r < 0)
                                return r;
                        STRV_FOREACH(l, locations) {
                                char *reason;

                                (void) strdup_printf(&reason, "%s is built on its block device %s", described,
                                                     block_device_name(*syspath));
                                r = host_use_add(view, *l, reason);
                                if (r < 0)
                                        return r;
                        }
                        break; /* one holder names the use well enough */
                }
        }
        return 0;
}

static int read_tag(const char *path, char **ret) {
        int r = sysfs_read_string(path, ret);
        if (r >= 0)
                (*ret)[strcspn(*ret, "\n")] = '\0'; /* older kernels end the tag with NULs */
        return r;
}

/* certain: the kernel named this device as the one with the tag; otherwise it may be. */
static int add_tag_use(struct host_use_view *view, const char *device_syspath, const struct mount_entry *m,
                       const char *kind, bool certain) {
        char ns[128];
        char *reason;

        describe_namespace(m->namespace_pid, ns, sizeof(ns));
        (void) strdup_printf(&reason, "it %s the %s filesystem mounted on %s%s (tag %s)%s",
                             certain ? "carries" : "may carry", kind, m->mount_point, ns, m->source,
                             certain ? "" : "; this kernel does not say which virtio-fs device has which tag");
        return host_use_add(view, device_syspath, reason);
}

/* 9pnet_virtio shows each channel's tag as virtioN/mount_tag. */
static int add_9p_mount(struct host_use_view *view, const struct mount_entry *m) {
        _cleanup_(closedirp) DIR *dir = opendir("/sys/bus/virtio/devices");
        struct dirent *de;

        while (dir && (de = readdir(dir))) {
                _cleanup_(freep) char *syspath = NULL, *tag = NULL;
                char path[PATH_MAX];

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s", de->d_name);
                syspath = realpath(path, NULL);
                if (!syspath)
                        continue;
                snprintf(path, sizeof(path), "%s/mount_tag", syspath);
                if (read_tag(path, &tag) >= 0 && strcmp(tag, m->source) == 0)
                        return add_tag_use(view, syspath, m, "9p", true);
        }
        return 0;
}

/* Kernels since 6.10 list virtio-fs instances as /sys/fs/virtiofs/N with their tag and a device
 * link. Older ones do not say which device has which tag: then every virtio-fs device counts as
 * carrying the mount, since unbinding the wrong one would hang the host on its filesystem. */
static int add_virtiofs_mount(struct host_use_view *view, const struct mount_entry *m) {
        _cleanup_(closedirp) DIR *instances = opendir("/sys/fs/virtiofs");
        _cleanup_(closedirp) DIR *devices = NULL;
        struct dirent *de;
        int r;

        if (instances) {
                while ((de = readdir(instances))) {
                        _cleanup_(freep) char *tag = NULL, *syspath = NULL;
                        char path[PATH_MAX];

                        if (de->d_name[0] == '.')
                                continue;
                        snprintf(path, sizeof(path), "/sys/fs/virtiofs/%s/tag", de->d_name);
                        if (read_tag(path, &tag) < 0 || strcmp(tag, m->source) != 0)
                                continue;
                        snprintf(path, sizeof(path), "/sys/fs/virtiofs/%s/device", de->d_name);
                        syspath = realpath(path, NULL);
                        if (syspath)
                                return add_tag_use(view, syspath, m, "virtio-fs", true);
                }
                return 0;
        }

        devices = opendir("/sys/bus/virtio/drivers/virtiofs");
        while (devices && (de = readdir(devices))) {
                _cleanup_(freep) char *syspath = NULL;
                char path[PATH_MAX];

                if (strncmp(de->d_name, "virtio", 6) != 0)
                        continue;
                snprintf(path, sizeof(path), "/sys/bus/virtio/drivers/virtiofs/%s", de->d_name);
                syspath = realpath(path, NULL);
                if (!syspath)
                        continue;
                r = add_tag_use(view, syspath, m, "virtio-fs", false);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_virtio_filesystems(struct host_use_view *view, const struct mount_table *mounts) {
        int r = 0;

        for (size_t i = 0; i < mounts->n && r >= 0; i++) {
                const struct mount_entry *m = &mounts->entries[i];

                if (strcmp(m->fstype, "9p") == 0)
                        r = add_9p_mount(view, m);
                else if (strcmp(m->fstype, "virtiofs") == 0)
                        r = add_virtiofs_mount(view, m);
        }
        return r;
}

int host_use_collect_storage(struct host_use_view *view) {
        _cleanup_(mount_table_done) struct mount_table mounts = {};
        _cleanup_(udev_unrefp) struct udev *udev = udev_new(); /* per call: libudev is not thread-safe */
        int r;

        r = mount_table_read(&mounts);
        if (r < 0)
                return r;
        /* Swap first: it is the graver loss, and a swap file names more than its filesystem does. */
        r = add_swaps(view, &mounts, udev);
        if (r >= 0)
                r = add_mounts(view, &mounts, udev);
        if (r >= 0)
                r = add_holders(view);
        if (r >= 0)
                r = add_virtio_filesystems(view, &mounts);
        return r;
}
