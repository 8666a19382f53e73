/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vfio-nodes.h"

#include <dirent.h>
#include <stdlib.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "macro.h"
#include "strv.h"
#include "sysfs.h"
#include "wait.h"

const char *vfio_group_node(int iommu_group, char buf[static VFIO_GROUP_NODE_MAX]) {
        snprintf(buf, VFIO_GROUP_NODE_MAX, "/dev/vfio/%d", iommu_group);
        return buf;
}

bool vfio_node_exists(const char *path) {
        struct stat st;
        return stat(path, &st) >= 0 && S_ISCHR(st.st_mode);
}

static bool node_exists(void *userdata) {
        return vfio_node_exists(userdata);
}

int vfio_group_node_wait(int iommu_group, uint64_t timeout_usec, char **ret_path) {
        char node[VFIO_GROUP_NODE_MAX];

        *ret_path = strdup(vfio_group_node(iommu_group, node));
        if (!*ret_path)
                return -ENOMEM;
        return wait_until(node_exists, *ret_path, timeout_usec, "the VFIO group node") ? 0 : -ETIMEDOUT;
}

static bool decimal_valid(const char *n);

static bool cdev_name_valid(const char *name) {
        return strncmp(name, "vfio", 4) == 0 && decimal_valid(name + strlen("vfio"));
}

static bool decimal_valid(const char *n) {
        return *n != '\0' && strlen(n) <= 10 && strspn(n, "0123456789") == strlen(n);
}

#define CDEV_DIR "/dev/vfio/devices/"

enum vfio_node_kind vfio_node_classify(const char *path, const char **ret_name) {
        if (ret_name)
                *ret_name = NULL;
        if (strcmp(path, "/dev/iommu") == 0)
                return VFIO_NODE_IOMMU;
        if (strncmp(path, CDEV_DIR, strlen(CDEV_DIR)) == 0) {
                const char *name = path + strlen(CDEV_DIR);
                if (!cdev_name_valid(name))
                        return VFIO_NODE_INVALID;
                if (ret_name)
                        *ret_name = name;
                return VFIO_NODE_CDEV;
        }
        if (strncmp(path, "/dev/vfio/", strlen("/dev/vfio/")) == 0 && decimal_valid(path + strlen("/dev/vfio/")))
                return VFIO_NODE_GROUP;
        return VFIO_NODE_INVALID;
}

static int push_unique(char ***nodes, const char *path) {
        if (strv_contains(*nodes, path))
                return 0;
        return strv_push(nodes, path);
}

int vfio_nodes_add_cdev(const struct pci_address *a, char ***nodes) {
        _cleanup_(closedirp) DIR *dir = NULL;
        char path[PATH_MAX];
        struct dirent *de;
        int r;

        r = pci_device_path(a, "vfio-dev", path, sizeof(path));
        if (r < 0)
                return r;
        dir = opendir(path);
        while (dir && (de = readdir(dir))) {
                if (!cdev_name_valid(de->d_name))
                        continue;
                snprintf(path, sizeof(path), "/dev/vfio/devices/%s", de->d_name);
                if (vfio_node_exists(path)) {
                        r = push_unique(nodes, path);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int vfio_nodes_of_device(const struct pci_address *address, int iommu_group, char ***nodes) {
        char group_node[VFIO_GROUP_NODE_MAX];
        int r;

        if (iommu_group >= 0 && vfio_node_exists(vfio_group_node(iommu_group, group_node))) {
                r = push_unique(nodes, group_node);
                if (r < 0)
                        return r;
        }
        r = vfio_nodes_add_cdev(address, nodes);
        if (r < 0)
                return r;
        if (vfio_node_exists("/dev/iommu"))
                return push_unique(nodes, "/dev/iommu");
        return 0;
}
