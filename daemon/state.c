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
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "address-directory.h"
#include "log.h"
#include "macro.h"
#include "pci-device.h"
#include "vfio-nodes.h"

/* Where records of another device found at their address are moved, kept for an admin to look at. */
#define SET_ASIDE_DIR "set-aside"
#define TEMPORARY_INFIX ".tmp-"

static const char *const intent_names[] = {
        [INTENT_NONE] = "", [INTENT_ATTACH] = "attach", [INTENT_DETACH] = "detach",
        [INTENT_RESTORE] = "restore", [INTENT_GRANT] = "grant",
};

const char *record_intent_to_string(enum record_intent intent) {
        return intent >= 0 && (size_t) intent < ELEMENTSOF(intent_names) ? intent_names[intent] : "?";
}

struct device_record *device_record_free(struct device_record *record) {
        if (!record)
                return NULL;
        free(record->original_driver);
        free(record->original_override);
        for (size_t i = 0; i < record->n_nodes; i++)
                free(record->nodes[i].path);
        for (size_t i = 0; i < record->n_intent_nodes; i++)
                free(record->intent_nodes[i].path);
        free(record);
        return NULL;
}

void device_record_freep(struct device_record **record) {
        device_record_free(*record);
}

int device_ids_read(const struct pci_device *d, struct device_ids *ret) {
        *ret = (struct device_ids) {
                .vendor = d->vendor_id,
                .device = d->device_id,
                .subsystem_vendor = d->subsystem_vendor_id,
                .subsystem_device = d->subsystem_device_id,
        };
        ret->has_serial = pci_device_read_serial(&d->address, &ret->serial) >= 0;
        return 0;
}

bool device_ids_equal(const struct device_ids *a, const struct device_ids *b) {
        return a->vendor == b->vendor && a->device == b->device && a->subsystem_vendor == b->subsystem_vendor &&
               a->subsystem_device == b->subsystem_device && a->has_serial == b->has_serial &&
               (!a->has_serial || a->serial == b->serial);
}

int device_record_new(const struct pci_device *d, uid_t owner_uid, struct device_record **ret) {
        _cleanup_(device_record_freep) struct device_record *record = calloc(1, sizeof(*record));

        if (!record)
                return -ENOMEM;
        memcpy(record->address, d->name, sizeof(record->address));
        (void) device_ids_read(d, &record->ids);
        if (d->driver && !(record->original_driver = strdup(d->driver)))
                return -ENOMEM;
        if (d->driver_override && !(record->original_override = strdup(d->driver_override)))
                return -ENOMEM;
        record->owner_uid = owner_uid;
        *ret = TAKE_PTR(record);
        return 0;
}

int state_record_path(const char *state_dir, const struct pci_address *address, char **ret) {
        char name[PCI_ADDRESS_STRING_MAX];

        return strdup_printf(ret, "%s/%s", state_dir, pci_address_format(address, name));
}

static int record_path(const char *state_dir, const struct pci_address *address, char buf[static PATH_MAX]) {
        char name[PCI_ADDRESS_STRING_MAX];
        int n;

        n = snprintf(buf, PATH_MAX, "%s/%s", state_dir, pci_address_format(address, name));
        return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* The state directory is root's, but a record is still parsed as untrusted text: a node path must
 * be one of the three kinds the daemon grants, so a corrupted record cannot make it touch arbitrary
 * files. */
static bool node_path_valid(const char *path) {
        return vfio_node_classify(path, NULL) != VFIO_NODE_INVALID;
}

static bool driver_name_valid(const char *name) {
        return name[0] != '\0' && name[0] != '.' && strlen(name) < 64 && !strpbrk(name, "/ \t\n");
}

static int add_node(struct granted_node *nodes, size_t *n, const char *path, dev_t rdev) {
        char *copy;

        for (size_t i = 0; i < *n; i++)
                if (strcmp(nodes[i].path, path) == 0)
                        return 0;
        if (*n >= DEVICE_RECORD_MAX_NODES)
                return -E2BIG;
        if (!node_path_valid(path))
                return -EINVAL;
        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        nodes[(*n)++] = (struct granted_node) { .path = copy, .rdev = rdev };
        return 1;
}

int device_record_add_node(struct device_record *record, const char *path, dev_t rdev) {
        return add_node(record->nodes, &record->n_nodes, path, rdev);
}

int device_record_add_intent_node(struct device_record *record, const char *path, dev_t rdev) {
        return add_node(record->intent_nodes, &record->n_intent_nodes, path, rdev);
}

const struct granted_node *device_record_find_node(const struct device_record *record, const char *path) {
        for (size_t i = 0; i < record->n_nodes; i++)
                if (strcmp(record->nodes[i].path, path) == 0)
                        return &record->nodes[i];
        return NULL;
}

void device_record_clear_intent(struct device_record *record) {
        for (size_t i = 0; i < record->n_intent_nodes; i++)
                free(record->intent_nodes[i].path);
        record->n_intent_nodes = 0;
        record->intent = INTENT_NONE;
        record->intent_uid = 0;
        record->intent_grantee = 0;
}

static int parse_uid(const char *value, uid_t *ret) {
        unsigned long v;
        char *end;

        errno = 0;
        v = strtoul(value, &end, 10);
        /* (uid_t) -1 is nobody's: it means "no change" to the kernel. */
        if (errno != 0 || end == value || *end != '\0' || value[0] == '-' || v >= UINT32_MAX)
                return -EBADMSG;
        *ret = (uid_t) v;
        return 0;
}

enum {
        SEEN_ADDRESS = 1 << 0,
        SEEN_IDS = 1 << 1,
        SEEN_ORIGINAL_DRIVER = 1 << 2,
        SEEN_ORIGINAL_OVERRIDE = 1 << 3,
        SEEN_OWNER = 1 << 4,
        SEEN_REQUIRED = (1 << 5) - 1,
};

static int parse_line(struct device_record *record, char *line, unsigned *seen) {
        char *value = strchr(line, '=');

        if (!value)
                return -EBADMSG;
        *value++ = '\0';

        if (strcmp(line, "address") == 0) {
                char canonical[PCI_ADDRESS_STRING_MAX];
                if (pci_address_canonicalize(value, canonical) < 0 || strcmp(canonical, record->address) != 0)
                        return -EBADMSG;
                *seen |= SEEN_ADDRESS;
        } else if (strcmp(line, "ids") == 0) {
                unsigned v, d, sv, sd;
                char tail;
                if (sscanf(value, "%4x:%4x %4x:%4x%c", &v, &d, &sv, &sd, &tail) != 4)
                        return -EBADMSG;
                record->ids.vendor = (uint16_t) v;
                record->ids.device = (uint16_t) d;
                record->ids.subsystem_vendor = (uint16_t) sv;
                record->ids.subsystem_device = (uint16_t) sd;
                *seen |= SEEN_IDS;
        } else if (strcmp(line, "serial") == 0) {
                uint64_t serial;
                char tail;
                if (sscanf(value, "%16" SCNx64 "%c", &serial, &tail) != 1 || strspn(value, "0123456789abcdef") != 16)
                        return -EBADMSG;
                record->ids.has_serial = true;
                record->ids.serial = serial;
        } else if (strcmp(line, "original_driver") == 0 || strcmp(line, "original_override") == 0) {
                bool driver = strcmp(line, "original_driver") == 0;
                char **field = driver ? &record->original_driver : &record->original_override;
                *seen |= driver ? SEEN_ORIGINAL_DRIVER : SEEN_ORIGINAL_OVERRIDE;
                if (value[0] == '\0')
                        return 0;
                if (!driver_name_valid(value))
                        return -EBADMSG;
                free(*field);
                *field = strdup(value);
                if (!*field)
                        return -ENOMEM;
        } else if (strcmp(line, "owner_uid") == 0) {
                if (parse_uid(value, &record->owner_uid) < 0)
                        return -EBADMSG;
                *seen |= SEEN_OWNER;
        } else if (strcmp(line, "granted_uid") == 0) {
                if (parse_uid(value, &record->granted_uid) < 0)
                        return -EBADMSG;
                record->granted = true;
        } else if (strcmp(line, "intent") == 0) {
                size_t i;
                for (i = 1; i < ELEMENTSOF(intent_names) && strcmp(value, intent_names[i]) != 0; i++)
                        ;
                if (i == ELEMENTSOF(intent_names))
                        return -EBADMSG;
                record->intent = (enum record_intent) i;
        } else if (strcmp(line, "intent_uid") == 0) {
                if (parse_uid(value, &record->intent_uid) < 0)
                        return -EBADMSG;
        } else if (strcmp(line, "intent_grantee") == 0) {
                if (parse_uid(value, &record->intent_grantee) < 0)
                        return -EBADMSG;
        } else if (strcmp(line, "grant_node") == 0 || strcmp(line, "intent_node") == 0) {
                char path[PATH_MAX], tail;
                unsigned major, minor;
                int r;
                if (sscanf(value, "%4095s %u:%u%c", path, &major, &minor, &tail) != 3)
                        return -EBADMSG;
                if (line[0] == 'g')
                        r = device_record_add_node(record, path, makedev(major, minor));
                else
                        r = device_record_add_intent_node(record, path, makedev(major, minor));
                if (r < 0)
                        return r == -EINVAL ? -EBADMSG : r;
        }
        /* Unknown keys are skipped: a newer daemon may have written them. */
        return 0;
}

static const char *missing_key(unsigned seen) {
        if (!(seen & SEEN_ADDRESS))
                return "address";
        if (!(seen & SEEN_IDS))
                return "ids";
        if (!(seen & SEEN_ORIGINAL_DRIVER))
                return "original_driver";
        if (!(seen & SEEN_ORIGINAL_OVERRIDE))
                return "original_override";
        return "owner_uid";
}

int state_load(const char *state_dir, const struct pci_address *address, struct device_record **ret,
               char **ret_problem) {
        _cleanup_(device_record_freep) struct device_record *record = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        char path[PATH_MAX], line[PATH_MAX + 64];
        unsigned seen = 0, n = 0;
        int r;

        if (ret_problem)
                *ret_problem = NULL;
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
                n++;
                line[strcspn(line, "\n")] = '\0';
                if (line[0] == '#' || line[0] == '\0')
                        continue;
                r = parse_line(record, line, &seen);
                if (r == -EBADMSG && ret_problem)
                        (void) strdup_printf(ret_problem, "line %u is malformed", n);
                if (r < 0)
                        return r;
        }
        if (ferror(f))
                return -EIO;
        if ((seen & SEEN_REQUIRED) != SEEN_REQUIRED) {
                if (ret_problem)
                        (void) strdup_printf(ret_problem, "it has no %s", missing_key(seen));
                return -EBADMSG;
        }

        *ret = TAKE_PTR(record);
        return 0;
}

static int set_aside(const char *state_dir, const struct pci_address *address) {
        char from[PATH_MAX], name[PCI_ADDRESS_STRING_MAX], *to = NULL;
        _cleanup_(freep) char *dir = NULL, *target = NULL;
        int r;

        r = record_path(state_dir, address, from);
        if (r < 0)
                return r;
        r = strdup_printf(&dir, "%s/" SET_ASIDE_DIR, state_dir);
        if (r < 0)
                return r;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        r = strdup_printf(&target, "%s/%s.%lld", dir, pci_address_format(address, name), (long long) time(NULL));
        if (r < 0)
                return r;
        to = target;
        if (rename(from, to) < 0)
                return negative_errno();
        return 0;
}

int state_load_for(const char *state_dir, const struct pci_device *d, struct device_record **ret,
                   char **ret_problem) {
        _cleanup_(device_record_freep) struct device_record *record = NULL;
        struct device_ids now;
        int r;

        r = state_load(state_dir, &d->address, &record, ret_problem);
        if (r < 0)
                return r;
        (void) device_ids_read(d, &now);
        if (!device_ids_equal(&now, &record->ids)) {
                r = set_aside(state_dir, &d->address);
                log_warning("The record of %s is about another device (%04x:%04x %04x:%04x, now %04x:%04x %04x:%04x, "
                            "or another serial number); %s it: the device there now is not managed.",
                            d->name, record->ids.vendor, record->ids.device, record->ids.subsystem_vendor,
                            record->ids.subsystem_device, now.vendor, now.device, now.subsystem_vendor,
                            now.subsystem_device, r < 0 ? "could not set aside" : "set aside");
                return -ENOENT;
        }
        *ret = TAKE_PTR(record);
        return 0;
}

static int format_record(const struct device_record *record, FILE *f) {
        fprintf(f, "# vfio-passthroughd: what to give back when %s is restored. Do not edit.\n",
                record->address);
        fprintf(f, "address=%s\n", record->address);
        fprintf(f, "ids=%04x:%04x %04x:%04x\n", record->ids.vendor, record->ids.device, record->ids.subsystem_vendor,
                record->ids.subsystem_device);
        if (record->ids.has_serial)
                fprintf(f, "serial=%016" PRIx64 "\n", record->ids.serial);
        fprintf(f, "original_driver=%s\n", record->original_driver ?: "");
        fprintf(f, "original_override=%s\n", record->original_override ?: "");
        fprintf(f, "owner_uid=%u\n", (unsigned) record->owner_uid);
        if (record->granted)
                fprintf(f, "granted_uid=%u\n", (unsigned) record->granted_uid);
        for (size_t i = 0; i < record->n_nodes; i++)
                fprintf(f, "grant_node=%s %u:%u\n", record->nodes[i].path, major(record->nodes[i].rdev),
                        minor(record->nodes[i].rdev));
        if (record->intent != INTENT_NONE) {
                fprintf(f, "intent=%s\n", record_intent_to_string(record->intent));
                fprintf(f, "intent_uid=%u\n", (unsigned) record->intent_uid);
                if (record->intent == INTENT_GRANT)
                        fprintf(f, "intent_grantee=%u\n", (unsigned) record->intent_grantee);
                for (size_t i = 0; i < record->n_intent_nodes; i++)
                        fprintf(f, "intent_node=%s %u:%u\n", record->intent_nodes[i].path,
                                major(record->intent_nodes[i].rdev), minor(record->intent_nodes[i].rdev));
        }
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

        r = strdup_printf(&temporary, "%s" TEMPORARY_INFIX "XXXXXX", path);
        if (r < 0)
                return r;
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

int state_prepare(const char *state_dir) {
        _cleanup_(closedirp) DIR *dir = NULL;
        struct dirent *de;

        if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        /* Records name devices and users: nobody but root reads them. */
        if (chmod(state_dir, 0700) < 0)
                return negative_errno();
        dir = opendir(state_dir);
        if (!dir)
                return negative_errno();
        while ((de = readdir(dir))) {
                if (!strstr(de->d_name, TEMPORARY_INFIX))
                        continue;
                if (unlinkat(dirfd(dir), de->d_name, 0) < 0)
                        log_warning_errno(negative_errno(), "Could not remove %s/%s, left by an interrupted write",
                                          state_dir, de->d_name);
                else
                        log_info("Removed %s/%s, left by an interrupted write.", state_dir, de->d_name);
        }
        return 0;
}

int state_begin(const char *state_dir, struct device_record *record, enum record_intent intent, uid_t uid) {
        device_record_clear_intent(record);
        record->intent = intent;
        record->intent_uid = uid;
        return state_save(state_dir, record);
}

int state_commit(const char *state_dir, struct device_record *record) {
        device_record_clear_intent(record);
        return state_save(state_dir, record);
}
