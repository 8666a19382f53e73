/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who holds a PCI function's block devices open: programs (a VM using the disk directly, a backup
 * tool, dd), found through /proc/PID/fd, and exclusive holders of any kind, found by trying an
 * exclusive open ourselves. */
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

struct block_node {
        char *syspath;
        dev_t devnum;
        char *node; /* "/dev/nvme0n1", from the kernel's DEVNAME */
};

struct block_nodes {
        struct block_node *nodes;
        size_t n;
};

static void block_nodes_done(struct block_nodes *b) {
        for (size_t i = 0; i < b->n; i++) {
                free(b->nodes[i].syspath);
                free(b->nodes[i].node);
        }
        free(b->nodes);
}

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

static int add_node(struct block_nodes *b, const char *syspath) {
        _cleanup_(freep) char *dev = NULL, *node = NULL, *copy = NULL;
        char path[PATH_MAX];
        unsigned major, minor;
        struct block_node *p;

        snprintf(path, sizeof(path), "%s/dev", syspath);
        if (sysfs_read_string(path, &dev) < 0 || sscanf(dev, "%u:%u", &major, &minor) != 2 ||
            read_devname(syspath, &node) < 0)
                return 0;
        copy = strdup(syspath);
        p = copy ? reallocarray(b->nodes, b->n + 1, sizeof(*p)) : NULL;
        if (!p)
                return -ENOMEM;
        b->nodes = p;
        b->nodes[b->n++] = (struct block_node) {
                .syspath = TAKE_PTR(copy), .devnum = makedev(major, minor), .node = TAKE_PTR(node),
        };
        return 0;
}

static bool any_below(char **paths, const char *top) {
        STRV_FOREACH(p, paths)
                if (sysfs_path_is_below(*p, top))
                        return true;
        return false;
}

/* Every block device on the function: disks, their partitions, NVMe namespaces its controller
 * shares with others. */
static int find_block_nodes(const char *pci_syspath, struct block_nodes *ret) {
        _cleanup_(closedirp) DIR *dir = opendir("/sys/class/block");
        struct dirent *de;
        int r;

        while (dir && (de = readdir(dir))) {
                _cleanup_(strv_freep) char **locations = NULL;
                _cleanup_(freep) char *syspath = NULL;
                char path[PATH_MAX];

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/class/block/%s", de->d_name);
                syspath = realpath(path, NULL);
                if (!syspath)
                        continue;
                r = block_device_locations(syspath, &locations);
                if (r < 0)
                        return r;
                if (!any_below(locations, pci_syspath))
                        continue;
                r = add_node(ret, syspath);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const struct block_node *find_devnum(const struct block_nodes *b, dev_t devnum) {
        for (size_t i = 0; i < b->n; i++)
                if (b->nodes[i].devnum == devnum)
                        return &b->nodes[i];
        return NULL;
}

/* One process: whether one of its open files is one of the nodes. Other users' processes need
 * CAP_SYS_PTRACE to be looked into; those the daemon cannot read are skipped. */
static int scan_process(const struct block_nodes *b, const char *pid, char **ret_reason) {
        _cleanup_(closedirp) DIR *fds = NULL;
        _cleanup_(freep) char *comm = NULL;
        char path[64];
        struct dirent *de;

        snprintf(path, sizeof(path), "/proc/%s/fd", pid);
        fds = opendir(path);
        while (fds && (de = readdir(fds))) {
                const struct block_node *hit;
                struct stat st;

                if (de->d_name[0] == '.' || fstatat(dirfd(fds), de->d_name, &st, 0) < 0 || !S_ISBLK(st.st_mode))
                        continue;
                hit = find_devnum(b, st.st_rdev);
                if (!hit)
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/comm", pid);
                (void) sysfs_read_string(path, &comm);
                return strdup_printf(ret_reason, "process %s (%s) has its block device %s open", pid,
                                     comm ?: "?", hit->node) < 0 ? -ENOMEM : 1;
        }
        return 0;
}

static int find_opening_process(const struct block_nodes *b, char **ret_reason) {
        _cleanup_(closedirp) DIR *proc = opendir("/proc");
        char self[16];
        struct dirent *de;
        int r;

        snprintf(self, sizeof(self), "%d", (int) getpid());
        while (proc && (de = readdir(proc))) {
                if (strspn(de->d_name, "0123456789") != strlen(de->d_name) || strcmp(de->d_name, self) == 0)
                        continue;
                r = scan_process(b, de->d_name, ret_reason);
                if (r != 0)
                        return r;
        }
        return 0;
}

/* Mounts, swap, md, dm and LVM, btrfs, ZFS and bcache all open their devices exclusively, so an
 * exclusive open fails with EBUSY while any of them has it, whether or not the daemon knew how to
 * find it. The probe holds the device for an instant only. */
static int find_exclusive_holder(const struct block_nodes *b, char **ret_reason) {
        for (size_t i = 0; i < b->n; i++) {
                _cleanup_(closep) int fd = -1;

                /* Any other failure (no node, no such device) says nothing either way. */
                fd = open(b->nodes[i].node, O_RDONLY | O_EXCL | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
                if (fd < 0 && errno == EBUSY)
                        return strdup_printf(ret_reason,
                                             "its block device %s is held open exclusively (by a filesystem, a "
                                             "swap area, a RAID or LVM set, or a program)",
                                             b->nodes[i].node) < 0 ? -ENOMEM : 1;
        }
        return 0;
}

int host_use_find_openers(const char *pci_syspath, char **ret_reason) {
        _cleanup_(block_nodes_done) struct block_nodes b = {};
        int r;

        r = find_block_nodes(pci_syspath, &b);
        if (r < 0 || b.n == 0)
                return r;
        r = find_opening_process(&b, ret_reason);
        if (r != 0)
                return r;
        return find_exclusive_holder(&b, ret_reason);
}
