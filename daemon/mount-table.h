/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* One line of /proc/PID/mountinfo, unescaped. */
struct mount_entry {
        unsigned major, minor; /* the filesystem's device; major 0 for btrfs, ZFS, 9p, tmpfs, ... */
        char *mount_point;
        char *fstype;
        char *source; /* "/dev/nvme0n1p2", "tank/home", the 9p or virtio-fs tag, ... */
        /* Whose mount namespace it was read from: 0 for the daemon's own and PID 1's (the host's),
         * otherwise a process in that namespace, so a refusal can say where the mount is. */
        pid_t namespace_pid;
};

/* The mounts of every mount namespace the daemon can see: its own first, then PID 1's, then
 * one process per other namespace (containers, services with private mounts). */
struct mount_table {
        struct mount_entry *entries;
        size_t n;
};

void mount_table_done(struct mount_table *t);

/* Reads every namespace. Processes that vanish meanwhile are skipped. */
int mount_table_read(struct mount_table *ret);

/* One line, without its newline. -EBADMSG when it is not a mountinfo line. */
int mount_entry_parse(const char *line, struct mount_entry *ret);
void mount_entry_done(struct mount_entry *m);

/* The kernel writes space, tab, newline and backslash in the paths of mountinfo and /proc/swaps
 * as \ooo. Returns the first n bytes of s with those decoded, or NULL when out of memory. */
char *mountinfo_unescape(const char *s, size_t n);

/* The mount of the daemon's own namespace that holds path: the one whose mount point is the
 * longest prefix of it, the last such (the one on top). NULL when none is (a relative path). */
const struct mount_entry *mount_table_find_path(const struct mount_table *t, const char *path);
