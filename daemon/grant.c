/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "grant.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "iommu-group.h"
#include "log.h"
#include "pci-device.h"
#include "strv.h"
#include "sysfs.h"
#include "vfio-passthrough-bus.h"
#include "vfio-viability.h"
#include "wait.h"

/* QEMU locks all guest RAM for VFIO DMA; below this a small VM already fails to start. */
#define MEMLOCK_WARNING_BYTES (UINT64_C(1) << 30)

/* Nodes are reached through their directory: stat and chown the name relative to it, never opening
 * the node itself (opening /dev/vfio/N claims the group), and never following a symlink. */
static int open_node_dir(const char *path, const char **ret_name) {
        char dir[PATH_MAX];
        const char *slash = strrchr(path, '/');
        int fd;

        if (!slash || slash == path || (size_t) (slash - path) >= sizeof(dir))
                return -EINVAL;
        memcpy(dir, path, slash - path);
        dir[slash - path] = '\0';
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        *ret_name = slash + 1;
        return fd;
}

static int node_stat(const char *path, struct stat *ret) {
        _cleanup_(closep) int fd = -1;
        const char *name;

        fd = open_node_dir(path, &name);
        if (fd < 0)
                return fd;
        if (fstatat(fd, name, ret, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        if (!S_ISCHR(ret->st_mode))
                return -ENOTTY;
        return 0;
}

static int node_chown(const char *path, uid_t uid, gid_t gid) {
        _cleanup_(closep) int fd = -1;
        const char *name;

        fd = open_node_dir(path, &name);
        if (fd < 0)
                return fd;
        if (fchownat(fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        return 0;
}

static int node_chmod(const char *path, mode_t mode) {
        _cleanup_(closep) int fd = -1;
        const char *name;

        fd = open_node_dir(path, &name);
        if (fd < 0)
                return fd;
        if (fchmodat(fd, name, mode, 0) < 0)
                return negative_errno();
        return 0;
}

static bool node_exists(void *userdata) {
        struct stat st;
        return node_stat(userdata, &st) >= 0;
}

/* On kernels with the VFIO device cdev, devices/ADDR/vfio-dev/vfioN names /dev/vfio/devices/vfioN. */
static int add_cdev_node(const struct pci_address *a, char ***nodes) {
        _cleanup_(closedirp) DIR *dir = NULL;
        char path[PATH_MAX];
        struct dirent *de;
        int r;

        r = pci_device_path(a, "vfio-dev", path, sizeof(path));
        if (r < 0)
                return r;
        dir = opendir(path);
        if (!dir)
                return 0;
        while ((de = readdir(dir))) {
                const char *n = de->d_name + strlen("vfio");
                if (strncmp(de->d_name, "vfio", 4) != 0 || *n == '\0' || strlen(n) > 10 ||
                    strspn(n, "0123456789") != strlen(n))
                        continue;
                snprintf(path, sizeof(path), "/dev/vfio/devices/%s", de->d_name);
                if (node_exists(path) && !strv_contains(*nodes, path)) {
                        r = strv_push(nodes, path);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int collect_nodes(struct operation *op, const struct iommu_group *group, char ***nodes) {
        int r;

        r = strv_push(nodes, op->group_node);
        if (r < 0)
                return r;
        r = add_cdev_node(&op->address, nodes);
        if (r < 0)
                return r;
        for (size_t i = 0; group && (op->flags & VFIO_PT_FLAG_GROUP) && i < group->n_members; i++)
                if (vfio_driver_is_vfio(group->members[i]->driver)) {
                        r = add_cdev_node(&group->members[i]->address, nodes);
                        if (r < 0)
                                return r;
                }
        /* iommufd users need /dev/iommu too. */
        if (node_exists((void *) "/dev/iommu"))
                return strv_push(nodes, "/dev/iommu");
        return 0;
}

/* Whether another member's record already holds the node's previous owner (a second grant in the
 * same group must not record the first grantee as the owner to restore). */
static bool recorded_elsewhere(struct operation *op, const struct iommu_group *group, const char *path) {
        for (size_t i = 0; group && i < group->n_members; i++) {
                _cleanup_(device_record_freep) struct device_record *other = NULL;

                if (pci_address_equal(&group->members[i]->address, &op->address))
                        continue;
                if (state_load(op->state_dir, &group->members[i]->address, &other) >= 0 &&
                    device_record_find_node(other, path))
                        return true;
        }
        return false;
}

static int load_or_create_record(struct operation *op, const struct pci_device *d, struct device_record **ret) {
        struct device_record *record;
        int r;

        r = state_load(op->state_dir, &d->address, ret);
        if (r != -ENOENT)
                return r;
        /* Attached outside the daemon: remember it as it is now, so Restore gives back only the nodes. */
        record = calloc(1, sizeof(*record));
        if (!record)
                return -ENOMEM;
        memcpy(record->address, d->name, sizeof(record->address));
        record->original_driver = strdup(d->driver);
        record->original_override = d->driver_override ? strdup(d->driver_override) : NULL;
        if (!record->original_driver || (d->driver_override && !record->original_override)) {
                device_record_free(record);
                return -ENOMEM;
        }
        *ret = record;
        return 0;
}

static void check_memlock(struct operation *op) {
        _cleanup_(fclosep) FILE *f = NULL;
        char path[64], line[256];

        if (op->caller_pid <= 0)
                return;
        snprintf(path, sizeof(path), "/proc/%d/limits", (int) op->caller_pid);
        f = fopen(path, "re");
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                char soft[32];
                uint64_t bytes;

                if (strncmp(line, "Max locked memory", strlen("Max locked memory")) != 0)
                        continue;
                if (sscanf(line + strlen("Max locked memory"), "%31s", soft) != 1 || strcmp(soft, "unlimited") == 0)
                        return;
                if (sscanf(soft, "%" SCNu64, &bytes) != 1 || bytes >= MEMLOCK_WARNING_BYTES)
                        return;
                if (asprintf(&op->warning,
                             "Your locked-memory limit is %" PRIu64 " KiB; a VM using VFIO locks all its RAM "
                             "and will fail to start. Raise it (ulimit -l, LimitMEMLOCK= or "
                             "/etc/security/limits.conf) above the VM's memory size.",
                             bytes / 1024) < 0)
                        op->warning = NULL;
                return;
        }
}

int grant_run(struct operation *op) {
        _cleanup_(pci_device_freep) struct pci_device *d = NULL;
        _cleanup_(iommu_group_freep) struct iommu_group *group = NULL;
        _cleanup_(device_record_freep) struct device_record *record = NULL;
        int r;

        r = pci_device_load(NULL, &op->address, &d);
        if (r == -ENODEV)
                return operation_fail(op, VFIO_PT_ERROR_NO_SUCH_DEVICE, r, "No PCI device at %s (any more).",
                                      op->name);
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r, "Could not read %s: %s", op->name,
                                      strerror(-r));
        if (!vfio_driver_is_vfio(d->driver))
                return operation_fail(op, VFIO_PT_ERROR_NOT_BOUND, -ENXIO,
                                      "%s is on %s, not on vfio-pci, so there is no VFIO node to grant. Run "
                                      "'vfio-passthroughctl attach %s' first.",
                                      op->name, driver_or_none(d->driver), op->name);
        if (d->iommu_group < 0)
                return operation_fail(op, VFIO_PT_ERROR_GROUP_NOT_VIABLE, -EXDEV,
                                      "%s has no IOMMU group; enable the IOMMU to use it with VFIO.", op->name);

        if (asprintf(&op->group_node, "/dev/vfio/%d", d->iommu_group) < 0) {
                op->group_node = NULL;
                return -ENOMEM;
        }
        /* udev creates the node asynchronously after the bind. */
        if (!wait_until(node_exists, op->group_node, op->settle_usec))
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, -ENOENT,
                                      "%s is on vfio-pci but %s does not exist. Is udev running?", op->name,
                                      op->group_node);

        (void) iommu_group_load(NULL, d->iommu_group, &group);
        r = collect_nodes(op, group, &op->nodes);
        if (r < 0)
                return r;

        r = load_or_create_record(op, d, &record);
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r, "Could not read the state of %s: %s",
                                      op->name, strerror(-r));

        /* The previous owners are on disk before the first chown. */
        STRV_FOREACH(node, op->nodes) {
                struct stat st;

                if (node_stat(*node, &st) < 0 || recorded_elsewhere(op, group, *node))
                        continue;
                r = device_record_add_node(record, *node, st.st_uid, st.st_gid, st.st_mode);
                if (r < 0)
                        return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                              "Could not record the owner of %s: %s", *node, strerror(-r));
        }
        record->granted = true;
        record->granted_uid = op->target_uid;
        r = state_save(op->state_dir, record);
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                      "Could not write the state of %s to %s: %s. Nothing was changed.", op->name,
                                      op->state_dir, strerror(-r));

        STRV_FOREACH(node, op->nodes) {
                r = node_chown(*node, op->target_uid, (gid_t) -1);
                if (r < 0)
                        return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r, "Could not chown %s: %s",
                                              *node, strerror(-r));
                log_info("uid %u: %s: granted %s to uid %u", (unsigned) op->caller_uid, op->name, *node,
                         (unsigned) op->target_uid);
        }

        check_memlock(op);
        return 0;
}

void grant_give_back_nodes(struct operation *op, const struct device_record *record) {
        for (size_t i = 0; i < record->n_nodes; i++) {
                const struct node_owner *n = &record->nodes[i];
                int r;

                if (!node_exists(n->path))
                        continue; /* gone with the unbind, or never created again */
                r = node_chown(n->path, n->uid, n->gid);
                if (r >= 0)
                        r = node_chmod(n->path, n->mode);
                if (r < 0)
                        log_warning_errno(r, "Could not give %s back to uid %u", n->path, (unsigned) n->uid);
                else
                        log_info("uid %u: %s: gave %s back to uid %u", (unsigned) op->caller_uid, record->address,
                                 n->path, (unsigned) n->uid);
        }
}

static void reapply_node(const char *path, uid_t uid) {
        struct stat st;
        int r;

        if (node_stat(path, &st) < 0 || st.st_uid == uid)
                return;
        r = node_chown(path, uid, (gid_t) -1);
        if (r < 0)
                log_warning_errno(r, "Could not re-apply the grant of %s to uid %u", path, (unsigned) uid);
        else
                log_info("Re-applied the grant of %s to uid %u after udev changed it.", path, (unsigned) uid);
}

void grant_reapply_group(const char *state_dir, int iommu_group) {
        _cleanup_(closedirp) DIR *dir = NULL;
        char path[PATH_MAX];
        struct dirent *de;

        if (iommu_group < 0)
                return;
        snprintf(path, sizeof(path), SYSFS_IOMMU_GROUPS "/%d/devices", iommu_group);
        dir = opendir(path);
        while (dir && (de = readdir(dir))) {
                _cleanup_(device_record_freep) struct device_record *record = NULL;
                struct pci_address a;

                if (pci_address_parse(de->d_name, &a) < 0 || state_load(state_dir, &a, &record) < 0 ||
                    !record->granted)
                        continue;
                snprintf(path, sizeof(path), "/dev/vfio/%d", iommu_group);
                reapply_node(path, record->granted_uid);
                for (size_t i = 0; i < record->n_nodes; i++)
                        reapply_node(record->nodes[i].path, record->granted_uid);
        }
}
