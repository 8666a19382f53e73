/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who holds a PCI function's block devices open: programs (a VM using the disk directly, a backup
 * tool, dd), found through /proc/PID/fd, and, before an operation, exclusive holders of any kind,
 * found by trying an exclusive open ourselves. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "block-device.h"
#include "host-use-internal.h"
#include "strv.h"
#include "sysfs.h"

static bool devname_valid(const char *name) {
        return name[0] != '\0' && name[0] != '/' && !strstr(name, "..") && strlen(name) < NAME_MAX;
}

/* DEVNAME= from the device's uevent file: the node devtmpfs made for it, relative to /dev. */
static int read_devname(const char *syspath, char **ret) {
        _cleanup_(fclosep) FILE *f = NULL;
        char path[PATH_MAX], line[PATH_MAX];

        snprintf(path, sizeof(path), "%s/uevent", syspath);
        f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                if (strncmp(line, "DEVNAME=", 8) == 0 && devname_valid(line + 8))
                        return strdup_printf(ret, "/dev/%s", line + 8);
        }
        return -ENOENT;
}

static int add_block_node(struct host_use_view *view, const char *syspath) {
        _cleanup_(strv_freep) char **locations = NULL;
        _cleanup_(freep) char *dev = NULL, *node = NULL;
        char path[PATH_MAX];
        unsigned major, minor;
        struct block_node *p;
        int r;

        snprintf(path, sizeof(path), "%s/dev", syspath);
        if (sysfs_read_string(path, &dev) < 0 || sscanf(dev, "%u:%u", &major, &minor) != 2 ||
            read_devname(syspath, &node) < 0)
                return 0;
        r = block_device_locations(syspath, &locations);
        if (r < 0)
                return r;
        p = reallocarray(view->blocks, view->n_blocks + 1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        view->blocks = p;
        view->blocks[view->n_blocks++] = (struct block_node) {
                .devnum = makedev(major, minor), .node = TAKE_PTR(node), .locations = TAKE_PTR(locations),
        };
        return 0;
}

/* Every block device there is, once per view. */
static int read_block_nodes(struct host_use_view *view) {
        _cleanup_(strv_freep) char **syspaths = NULL;
        int r;

        if (view->blocks_read)
                return 0;
        view->blocks_read = true;
        r = block_device_list(&syspaths);
        if (r < 0)
                return r;
        STRV_FOREACH(s, syspaths) {
                r = add_block_node(view, *s);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool block_node_is_on(const struct block_node *b, const char *pci_syspath) {
        STRV_FOREACH(l, b->locations)
                if (sysfs_path_is_below(*l, pci_syspath))
                        return true;
        return false;
}

static const struct block_node *find_devnum(const struct host_use_view *view, dev_t devnum) {
        for (size_t i = 0; i < view->n_blocks; i++)
                if (view->blocks[i].devnum == devnum)
                        return &view->blocks[i];
        return NULL;
}

static int add_opener(struct host_use_view *view, const char *pid, const struct block_node *b) {
        _cleanup_(freep) char *comm = NULL;
        struct block_opener *p;
        char path[64];

        if (snprintf(path, sizeof(path), "/proc/%s/comm", pid) < (int) sizeof(path))
                (void) sysfs_read_string(path, &comm);
        p = reallocarray(view->openers, view->n_openers + 1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        view->openers = p;
        view->openers[view->n_openers] = (struct block_opener) { .block = b, .pid = (pid_t) atoi(pid) };
        if (strdup_printf(&view->openers[view->n_openers].comm, "%s", comm ?: "?") < 0)
                return -ENOMEM;
        view->n_openers++;
        return 0;
}

/* Every process's open files, once per view, and only the first time a device with block devices
 * is asked about: on a machine with many processes this is the costly part. Other users'
 * processes need CAP_SYS_PTRACE to be looked into; those the daemon cannot read are skipped. */
static int read_openers(struct host_use_view *view) {
        _cleanup_(closedirp) DIR *proc = NULL;
        char self[16];
        struct dirent *de;
        int r;

        if (view->openers_read)
                return 0;
        view->openers_read = true;
        snprintf(self, sizeof(self), "%d", (int) getpid());
        proc = opendir("/proc");
        while (proc && (de = readdir(proc))) {
                _cleanup_(closedirp) DIR *fds = NULL;
                char path[PATH_MAX];
                struct dirent *fd;

                if (strspn(de->d_name, "0123456789") != strlen(de->d_name) || strlen(de->d_name) > 10 ||
                    strcmp(de->d_name, self) == 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/fd", de->d_name);
                fds = opendir(path);
                while (fds && (fd = readdir(fds))) {
                        const struct block_node *b;
                        struct stat st;

                        if (fd->d_name[0] == '.' || fstatat(dirfd(fds), fd->d_name, &st, 0) < 0 ||
                            !S_ISBLK(st.st_mode))
                                continue;
                        b = find_devnum(view, st.st_rdev);
                        if (!b)
                                continue;
                        r = add_opener(view, de->d_name, b);
                        if (r < 0)
                                return r;
                        break; /* one open file names the process well enough */
                }
        }
        return 0;
}

/* Mounts, swap, md, dm and LVM, btrfs, ZFS and bcache all open their devices exclusively, so an
 * exclusive open fails with EBUSY while any of them has it, whether or not the daemon knew how to
 * find it (a mount in a namespace no process is in, say). The probe holds the device for an
 * instant only. */
static int probe_exclusive(const struct block_node *b, char **ret_reason) {
        _cleanup_(closep) int fd = -1;

        /* Any other failure (no node, no such device) says nothing either way. */
        fd = open(b->node, O_RDONLY | O_EXCL | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd >= 0 || errno != EBUSY)
                return 0;
        return strdup_printf(ret_reason,
                             "its block device %s is held open exclusively (by a filesystem, a swap area, a RAID "
                             "or LVM set, or a program)",
                             b->node) < 0 ? -ENOMEM : 1;
}

int host_use_find_openers(struct host_use_view *view, const char *pci_syspath, unsigned flags, char **ret_reason) {
        bool any = false;
        int r;

        r = read_block_nodes(view);
        if (r < 0)
                return r;
        for (size_t i = 0; i < view->n_blocks && !any; i++)
                any = block_node_is_on(&view->blocks[i], pci_syspath);
        if (!any)
                return 0;

        r = read_openers(view);
        if (r < 0)
                return r;
        for (size_t i = 0; i < view->n_openers; i++)
                if (block_node_is_on(view->openers[i].block, pci_syspath))
                        return strdup_printf(ret_reason, "process %d (%s) has its block device %s open",
                                             (int) view->openers[i].pid, view->openers[i].comm,
                                             view->openers[i].block->node) < 0 ? -ENOMEM : 1;

        for (size_t i = 0; (flags & HOST_USE_PROBE_EXCLUSIVE) && i < view->n_blocks; i++) {
                if (!block_node_is_on(&view->blocks[i], pci_syspath))
                        continue;
                r = probe_exclusive(&view->blocks[i], ret_reason);
                if (r != 0)
                        return r;
        }
        return 0;
}
