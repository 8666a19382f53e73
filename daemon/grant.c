/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "grant.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crash-point.h"
#include "iommu-group.h"
#include "log.h"
#include "node-acl.h"
#include "pci-device.h"
#include "strv.h"
#include "sysfs.h"
#include "vfio-nodes.h"
#include "vfio-passthrough-bus.h"
#include "vfio-viability.h"

static int collect_nodes(struct operation *op, const struct iommu_group *group, char ***nodes) {
        int r;

        r = strv_push(nodes, op->grant.group_node);
        if (r < 0)
                return r;
        r = vfio_nodes_add_cdev(&op->address, nodes);
        if (r < 0)
                return r;
        for (size_t i = 0; group && (op->flags & VFIO_PT_FLAG_GROUP) && i < group->n_members; i++)
                if (vfio_driver_is_vfio(group->members[i]->driver)) {
                        r = vfio_nodes_add_cdev(&group->members[i]->address, nodes);
                        if (r < 0)
                                return r;
                }
        /* iommufd users need /dev/iommu too. */
        if (vfio_node_exists("/dev/iommu"))
                return strv_push(nodes, "/dev/iommu");
        return 0;
}

/* Whether a node stands for the device a record says: the same device number, and for a device
 * cdev, still the device's own (the kernel hands vfioN out again once its device is gone). */
static bool node_is_recorded_device(const struct device_record *record, const struct granted_node *n) {
        struct pci_address a;
        char path[PATH_MAX];
        const char *name;
        struct stat st;

        if (stat(n->path, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != n->rdev)
                return false;
        if (vfio_node_classify(n->path, &name) != VFIO_NODE_CDEV)
                return true;
        if (pci_address_parse(record->address, &a) < 0 || pci_device_path(&a, "vfio-dev", path, sizeof(path)) < 0 ||
            strlen(path) + strlen(name) + 2 > sizeof(path))
                return false;
        strcat(path, "/");
        strcat(path, name);
        return stat(path, &st) >= 0;
}

/* Whether a record other than except's grants path (as the same device) to uid. */
static bool granted_elsewhere(const char *state_dir, const struct device_record *except, const char *path,
                              dev_t rdev, uid_t uid) {
        _cleanup_(freep) struct pci_address *addresses = NULL;
        size_t n;

        if (state_list(state_dir, &addresses, &n) < 0)
                return true; /* cannot tell: keep the entry rather than cut off another VM */
        for (size_t i = 0; i < n; i++) {
                _cleanup_(device_record_freep) struct device_record *other = NULL;
                const struct granted_node *node;
                char name[PCI_ADDRESS_STRING_MAX];

                if (strcmp(pci_address_format(&addresses[i], name), except->address) == 0 ||
                    state_load(state_dir, &addresses[i], &other, NULL) < 0 || !other->granted ||
                    other->granted_uid != uid)
                        continue;
                node = device_record_find_node(other, path);
                if (node && node->rdev == rdev)
                        return true;
        }
        return false;
}

/* Removes uid's ACL entry from each of nodes, unless another device's record grants that same node
 * to uid too. */
static void revoke_entries(const char *state_dir, const struct device_record *record, uid_t uid,
                           const struct granted_node *nodes, size_t n_nodes) {
        for (size_t i = 0; i < n_nodes; i++) {
                const struct granted_node *n = &nodes[i];
                int r;

                if (granted_elsewhere(state_dir, record, n->path, n->rdev, uid))
                        continue;
                r = node_acl_revoke(n->path, uid, n->rdev);
                if (r == -ESTALE)
                        log_info("%s: %s is another device now; left alone.", record->address, n->path);
                else if (r < 0)
                        log_warning_errno(r, "Could not take %s back from uid %u", n->path, (unsigned) uid);
                else
                        log_info("%s: took %s back from uid %u.", record->address, n->path, (unsigned) uid);
        }
}

void grant_revoke(const char *state_dir, struct device_record *record) {
        if (!record->granted)
                return;
        revoke_entries(state_dir, record, record->granted_uid, record->nodes, record->n_nodes);
        for (size_t i = 0; i < record->n_nodes; i++)
                free(record->nodes[i].path);
        record->n_nodes = 0;
        record->granted = false;
        record->granted_uid = 0;
}

static void reapply_record(const struct device_record *record);

int grant_roll_back(const char *state_dir, struct device_record *record) {
        struct pci_address a;

        for (size_t i = 0; i < record->n_intent_nodes; i++) {
                const struct granted_node *n = &record->intent_nodes[i];

                /* The grant that stays gives this node to the same user. */
                if (record->granted && record->granted_uid == record->intent_grantee &&
                    device_record_find_node(record, n->path))
                        continue;
                revoke_entries(state_dir, record, record->intent_grantee, n, 1);
        }
        if (record->granted)
                reapply_record(record);
        device_record_clear_intent(record);
        /* A record that only the interrupted Grant made (of a device attached by someone else) has
         * nothing left to say. */
        if (!record->granted && vfio_driver_is_vfio(record->original_driver) &&
            pci_address_parse(record->address, &a) >= 0)
                return state_remove(state_dir, &a);
        return state_save(state_dir, record);
}

/* The caller's locked-memory limit, for the reply: the caller turns it into advice. */
static void read_memlock(struct operation *op) {
        _cleanup_(fclosep) FILE *f = NULL;
        char path[64], line[256];

        op->grant.memlock_limit = UINT64_MAX;
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
                if (sscanf(line + strlen("Max locked memory"), "%31s", soft) == 1 &&
                    sscanf(soft, "%" SCNu64, &bytes) == 1)
                        op->grant.memlock_limit = bytes;
                return;
        }
}

static int load_or_create_record(struct operation *op, const struct pci_device *d, struct device_record **ret) {
        _cleanup_(freep) char *problem = NULL;
        int r;

        r = state_load_for(op->state_dir, d, ret, &problem);
        if (r == -ENOENT)
                /* Attached outside the daemon: remember it as it is now, so Restore only takes the
                 * grant back; the caller owns it from here on. */
                return device_record_new(d, op->caller_uid, ret);
        if (r == -EBADMSG)
                return operation_fail_record(op, &d->address, problem);
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r, "Could not read the state of %s: %s",
                                      op->name, strerror(-r));
        return 0;
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
                                      "%s is on %s, not on vfio-pci, so there is no VFIO node to grant.",
                                      op->name, driver_or_none(d->driver));
        if (d->iommu_group < 0)
                return operation_fail(op, VFIO_PT_ERROR_GROUP_NOT_VIABLE, -EXDEV,
                                      "%s has no IOMMU group; enable the IOMMU to use it with VFIO.", op->name);

        r = vfio_group_node_wait(d->iommu_group, op->settle_usec, &op->grant.group_node);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, -ENOENT,
                                      "%s is on vfio-pci but %s does not exist. Is udev running?", op->name,
                                      op->grant.group_node);

        (void) iommu_group_load(NULL, d->iommu_group, &group);
        r = collect_nodes(op, group, &op->grant.nodes);
        if (r < 0)
                return r;
        r = load_or_create_record(op, d, &record);
        if (r < 0)
                return r;
        r = operation_check_owner(op, record);
        if (r < 0)
                return r;

        /* The new grantee and its nodes, with the devices they are now, go on disk before the first
         * ACL changes; the grant there is stays recorded until the new one is complete, so an
         * interruption can put it back. */
        device_record_clear_intent(record);
        record->intent = INTENT_GRANT;
        record->intent_uid = op->caller_uid;
        record->intent_grantee = op->target_uid;
        STRV_FOREACH(node, op->grant.nodes) {
                struct stat st;

                if (stat(*node, &st) < 0 || !S_ISCHR(st.st_mode))
                        continue;
                r = device_record_add_intent_node(record, *node, st.st_rdev);
                if (r < 0)
                        return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r, "Could not record %s: %s",
                                              *node, strerror(-r));
        }
        r = state_save(op->state_dir, record);
        if (r < 0)
                return operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                      "Could not write the state of %s to %s: %s. Nothing was changed.", op->name,
                                      op->state_dir, strerror(-r));
        crash_point(CRASH_POINT_GRANT_INTENT);

        /* A new grantee replaces the old one. */
        if (record->granted && record->granted_uid != op->target_uid)
                revoke_entries(op->state_dir, record, record->granted_uid, record->nodes, record->n_nodes);
        crash_point(CRASH_POINT_GRANT_PREVIOUS_REVOKED);

        for (size_t i = 0; i < record->n_intent_nodes; i++) {
                const struct granted_node *n = &record->intent_nodes[i];

                r = node_acl_grant(n->path, op->target_uid, n->rdev, NULL);
                if (r < 0) {
                        operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                                       "Could not give uid %u access to %s: %s. The grant was rolled back.",
                                       (unsigned) op->target_uid, n->path, strerror(-r));
                        (void) grant_roll_back(op->state_dir, record);
                        return r;
                }
                log_info("uid %u: %s: granted %s to uid %u", (unsigned) op->caller_uid, op->name, n->path,
                         (unsigned) op->target_uid);
        }
        crash_point(CRASH_POINT_GRANT_ACL_ADDED);

        /* Commit: the new grant replaces the old one in the record. */
        for (size_t i = 0; i < record->n_nodes; i++)
                free(record->nodes[i].path);
        memcpy(record->nodes, record->intent_nodes, sizeof(record->nodes));
        record->n_nodes = record->n_intent_nodes;
        record->n_intent_nodes = 0;
        record->granted = true;
        record->granted_uid = op->target_uid;
        r = state_commit(op->state_dir, record);
        if (r < 0) {
                operation_fail(op, VFIO_PT_ERROR_OPERATION_FAILED, r,
                               "Could not write the state of %s to %s: %s. The grant was rolled back.", op->name,
                               op->state_dir, strerror(-r));
                (void) grant_roll_back(op->state_dir, record);
                return r;
        }
        crash_point(CRASH_POINT_GRANT_COMMITTED);

        read_memlock(op);
        return 0;
}

static void reapply_record(const struct device_record *record) {
        for (size_t i = 0; i < record->n_nodes; i++) {
                const struct granted_node *n = &record->nodes[i];
                bool granted = false;
                int r;

                if (!node_is_recorded_device(record, n))
                        continue; /* gone, or another device now: never handed to the old grantee */
                if (node_acl_granted(n->path, record->granted_uid, n->rdev, &granted) >= 0 && granted)
                        continue;
                r = node_acl_grant(n->path, record->granted_uid, n->rdev, NULL);
                if (r < 0)
                        log_warning_errno(r, "Could not re-apply the grant of %s to uid %u", n->path,
                                          (unsigned) record->granted_uid);
                else
                        log_info("Re-applied the grant of %s to uid %u after udev changed it.", n->path,
                                 (unsigned) record->granted_uid);
        }
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

                if (pci_address_parse(de->d_name, &a) < 0 || state_load(state_dir, &a, &record, NULL) < 0 ||
                    !record->granted)
                        continue;
                reapply_record(record);
        }
}
