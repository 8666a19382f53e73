/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address-directory.h"
#include "macro.h"

struct device_record *device_record_free(struct device_record *record) {
        if (!record)
                return NULL;
        free(record->original_driver);
        free(record->original_override);
        for (size_t i = 0; i < record->n_nodes; i++)
                free(record->nodes[i].path);
        free(record);
        return NULL;
}

void device_record_freep(struct device_record **record) {
        device_record_free(*record);
}

static int record_path(const char *state_dir, const struct pci_address *address, char buf[static PATH_MAX]) {
        char name[PCI_ADDRESS_STRING_MAX];
        int n;

        n = snprintf(buf, PATH_MAX, "%s/%s", state_dir, pci_address_format(address, name));
        return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* The state directory is root's, but a record is still parsed as untrusted text: a node path must
 * be one of the three kinds the daemon creates, so a corrupted record cannot make it chown
 * arbitrary files. */
static bool node_path_valid(const char *path) {
        const char *p;

        if (strcmp(path, "/dev/iommu") == 0)
                return true;
        if (strncmp(path, "/dev/vfio/devices/vfio", strlen("/dev/vfio/devices/vfio")) == 0)
                p = path + strlen("/dev/vfio/devices/vfio");
        else if (strncmp(path, "/dev/vfio/", strlen("/dev/vfio/")) == 0)
                p = path + strlen("/dev/vfio/");
        else
                return false;
        if (*p == '\0' || strlen(p) > 10)
                return false;
        return strspn(p, "0123456789") == strlen(p);
}

static bool driver_name_valid(const char *name) {
        return name[0] != '\0' && name[0] != '.' && strlen(name) < 64 && !strpbrk(name, "/ \t\n");
}

int device_record_add_node(struct device_record *record, const char *path, uid_t uid, gid_t gid, mode_t mode) {
        char *copy;

        if (device_record_find_node(record, path))
                return 0;
        if (record->n_nodes >= DEVICE_RECORD_MAX_NODES)
                return -E2BIG;
        if (!node_path_valid(path))
                return -EINVAL;
        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        record->nodes[record->n_nodes++] = (struct node_owner) {
                .path = copy, .uid = uid, .gid = gid, .mode = mode & 07777,
        };
        return 1;
}

const struct node_owner *device_record_find_node(const struct device_record *record, const char *path) {
        for (size_t i = 0; i < record->n_nodes; i++)
                if (strcmp(record->nodes[i].path, path) == 0)
                        return &record->nodes[i];
        return NULL;
}

static int parse_line(struct device_record *record, char *line) {
        char *value = strchr(line, '=');

        if (!value)
                return -EBADMSG;
        *value++ = '\0';

        if (strcmp(line, "address") == 0) {
                char canonical[PCI_ADDRESS_STRING_MAX];
                if (pci_address_canonicalize(value, canonical) < 0 || strcmp(canonical, record->address) != 0)
                        return -EBADMSG;
        } else if (strcmp(line, "original_driver") == 0 || strcmp(line, "original_override") == 0) {
                char **field = strcmp(line, "original_driver") == 0 ? &record->original_driver
                                                                    : &record->original_override;
                if (value[0] == '\0')
                        return 0;
                if (!driver_name_valid(value))
                        return -EBADMSG;
                free(*field);
                *field = strdup(value);
                if (!*field)
                        return -ENOMEM;
        } else if (strcmp(line, "granted_uid") == 0) {
                unsigned long uid;
                char *end;
                errno = 0;
                uid = strtoul(value, &end, 10);
                if (errno != 0 || end == value || *end != '\0' || uid >= UINT32_MAX)
                        return -EBADMSG;
                record->granted = true;
                record->granted_uid = (uid_t) uid;
        } else if (strcmp(line, "node") == 0) {
                char path[PATH_MAX];
                unsigned uid, gid, mode;
                int r;
                if (sscanf(value, "%4095s %u %u %o", path, &uid, &gid, &mode) != 4)
                        return -EBADMSG;
                r = device_record_add_node(record, path, uid, gid, mode);
                if (r < 0)
                        return r == -EINVAL ? -EBADMSG : r;
        }
        /* Unknown keys are skipped: a newer daemon may have written them. */
        return 0;
}

int state_load(const char *state_dir, const struct pci_address *address, struct device_record **ret) {
        _cleanup_(device_record_freep) struct device_record *record = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        char path[PATH_MAX], line[PATH_MAX + 64];
        int r;

        r = record_path(state_dir, address, path);
        if (r < 0)
                return r;
        f = fopen(path, "re");
        if (!f)
                return negative_errno();

        record = calloc(1, sizeof(*record));
        if (!record)
                return -ENOMEM;
        pci_address_format(address, record->address);

        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                if (line[0] == '#' || line[0] == '\0')
                        continue;
                r = parse_line(record, line);
                if (r < 0)
                        return r;
        }
        if (ferror(f))
                return -EIO;

        *ret = TAKE_PTR(record);
        return 0;
}

static int format_record(const struct device_record *record, FILE *f) {
        fprintf(f, "# vfio-passthroughd: what to give back when %s is restored. Do not edit.\n",
                record->address);
        fprintf(f, "address=%s\n", record->address);
        fprintf(f, "original_driver=%s\n", record->original_driver ?: "");
        fprintf(f, "original_override=%s\n", record->original_override ?: "");
        if (record->granted)
                fprintf(f, "granted_uid=%u\n", (unsigned) record->granted_uid);
        for (size_t i = 0; i < record->n_nodes; i++)
                fprintf(f, "node=%s %u %u %04o\n", record->nodes[i].path, (unsigned) record->nodes[i].uid,
                        (unsigned) record->nodes[i].gid, (unsigned) record->nodes[i].mode);
        return ferror(f) ? -EIO : 0;
}

static void unlink_temporary(char **path) {
        if (*path) {
                unlink(*path);
                free(*path);
        }
}

int state_save(const char *state_dir, const struct device_record *record) {
        _cleanup_(unlink_temporary) char *temporary = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        char path[PATH_MAX];
        struct pci_address address;
        int fd, r;

        if (pci_address_parse(record->address, &address) < 0)
                return -EINVAL;
        r = record_path(state_dir, &address, path);
        if (r < 0)
                return r;
        if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();

        if (asprintf(&temporary, "%s.tmp-XXXXXX", path) < 0) {
                temporary = NULL;
                return -ENOMEM;
        }
        fd = mkostemp(temporary, O_CLOEXEC);
        if (fd < 0) {
                r = negative_errno();
                free(TAKE_PTR(temporary));
                return r;
        }
        f = fdopen(fd, "w");
        if (!f) {
                r = negative_errno();
                close(fd);
                return r;
        }
        r = format_record(record, f);
        if (r < 0)
                return r;
        if (fflush(f) != 0 || fsync(fileno(f)) < 0)
                return negative_errno();
        if (rename(temporary, path) < 0)
                return negative_errno();
        free(TAKE_PTR(temporary));

        /* Make the rename itself durable. */
        {
                _cleanup_(closep) int dir_fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dir_fd >= 0)
                        (void) fsync(dir_fd);
        }
        return 0;
}

int state_remove(const char *state_dir, const struct pci_address *address) {
        char path[PATH_MAX];
        int r;

        r = record_path(state_dir, address, path);
        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

int state_list(const char *state_dir, struct pci_address **ret, size_t *ret_count) {
        /* Records are named by canonical address; temporary files of an interrupted write are not. */
        return address_directory_list(state_dir, ret, ret_count);
}
