/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "device-model.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host-use.h"
#include "hwdb-names.h"
#include "iommu-group.h"
#include "log.h"
#include "macro.h"
#include "pci-device.h"
#include "recovery.h"
#include "state.h"
#include "strv.h"
#include "vfio-nodes.h"
#include "vfio-passthrough-bus.h"
#include "vfio-viability.h"
#include "wait.h"
#include "worker.h"

/* Long enough to take a whole group's uevents in one refresh, short enough to feel immediate. */
#define REFRESH_DELAY_USEC (20 * USEC_PER_MSEC)
/* Functions (or groups) read between two looks at the bus: a refresh of thousands (a udevadm
 * trigger, the sweep) must not leave callers unanswered for its whole length. */
#define REFRESH_SLICE 32
/* More invalidations than this before a refresh: reading everything costs no more. */
#define DIRTY_MAX 512
/* What the host uses is the costliest read (the mount tables of every namespace, every program's
 * open block devices), so refreshes share one reading for this long. Whatever announces a change
 * of it (a mount here, a swap area, a link, a disk event, the sweep) drops it at once, Refresh()
 * reads it afresh, and operations always read their own. */
#define HOST_USE_MAX_AGE_USEC (1 * USEC_PER_SEC)
/* The sweep for changes nobody announces. */
#define SWEEP_INTERVAL_USEC (30 * USEC_PER_SEC)

struct device_model {
        struct device_state **devices; /* sorted by address */
        size_t n_devices;
        struct group_state **groups; /* sorted by id */
        size_t n_groups;

        /* What the next refresh reads again; duplicates are sorted out when it starts. */
        bool dirty_all;
        struct pci_address *dirty;
        size_t n_dirty;
        int *dirty_groups;
        size_t n_dirty_groups;

        /* The refresh under way, read a slice at a time (sorted, unique once planned). */
        struct pci_address *work;
        size_t n_work, done_work;
        int *work_groups; /* the groups its devices were and are in, and those invalidated */
        size_t n_work_groups, done_work_groups;
        bool work_groups_sorted;
        bool working;

        struct host_use_view *host_use; /* NULL: read it when next needed */
        uint64_t host_use_read_usec;

        sd_event_source *refresh_source;
        sd_event_source *sweep_source;
        sd_event_source *mounts_source, *swaps_source, *links_source;
        int mounts_fd, swaps_fd, links_fd;
};

/* ---------------------------------------------------------------------------------------------- */

static struct device_state *device_state_free(struct device_state *s) {
        if (!s)
                return NULL;
        free(s->address_text);
        free(s->vendor_name);
        free(s->device_name);
        free(s->class_name);
        free(s->driver);
        free(s->driver_override);
        free(s->group_path);
        free(s->host_use);
        free(s->original_driver);
        strv_free(s->nodes);
        free(s->interrupted);
        free(s->recovery);
        free(s->record_problem);
        free(s->vfio_note);
        free(s);
        return NULL;
}

static void device_state_freep(struct device_state **s) {
        device_state_free(*s);
}

static struct group_state *group_state_free(struct group_state *g) {
        if (!g)
                return NULL;
        strv_free(g->members);
        strv_free(g->blocker_paths);
        strv_free(g->blocker_reasons);
        free(g->node);
        free(g);
        return NULL;
}

static void group_state_freep(struct group_state **g) {
        group_state_free(*g);
}

static int set_string(char **field, const char *value) {
        *field = strdup(value ?: "");
        return *field ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------------------------------------- */

static size_t device_index(const struct device_model *m, const struct pci_address *a, bool *found) {
        size_t lo = 0, hi = m->n_devices;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int cmp = pci_address_compare(&m->devices[mid]->address, a);
                if (cmp == 0) {
                        *found = true;
                        return mid;
                }
                if (cmp < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = false;
        return lo;
}

static size_t group_index(const struct device_model *m, int id, bool *found) {
        size_t lo = 0, hi = m->n_groups;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (m->groups[mid]->id == id) {
                        *found = true;
                        return mid;
                }
                if (m->groups[mid]->id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = false;
        return lo;
}

const struct device_state *device_model_find(const struct context *c, const struct pci_address *a) {
        bool found;
        size_t i;

        if (!c->model)
                return NULL;
        i = device_index(c->model, a, &found);
        return found ? c->model->devices[i] : NULL;
}

const struct group_state *device_model_find_group(const struct context *c, int id) {
        bool found;
        size_t i;

        if (!c->model)
                return NULL;
        i = group_index(c->model, id, &found);
        return found ? c->model->groups[i] : NULL;
}

static int insert_at(void ***array, size_t *n, size_t at, void *item) {
        void **p = reallocarray(*array, *n + 1, sizeof(void *));
        if (!p)
                return -ENOMEM;
        memmove(p + at + 1, p + at, (*n - at) * sizeof(void *));
        p[at] = item;
        *array = p;
        (*n)++;
        return 0;
}

static void remove_at(void **array, size_t *n, size_t at) {
        memmove(array + at, array + at + 1, (*n - at - 1) * sizeof(void *));
        (*n)--;
}

/* ---------------------------------------------------------------------------------------------- */

/* The record's facts, when the record is about this device. */
static int read_record(const struct context *c, const struct pci_device *d, struct device_state *s) {
        _cleanup_(device_record_freep) struct device_record *record = NULL;
        _cleanup_(freep) char *problem = NULL;
        struct device_ids now;
        int r;

        s->owner = s->grantee = VFIO_PT_NO_UID;
        r = state_load(c->state_dir, &d->address, &record, &problem);
        if (r == -ENOENT)
                return set_string(&s->original_driver, "") ?: set_string(&s->interrupted, "") ?:
                       set_string(&s->record_problem, "");
        if (r < 0) {
                _cleanup_(freep) char *path = NULL, *text = NULL;
                (void) state_record_path(c->state_dir, &d->address, &path);
                if (strdup_printf(&text, "%s: %s", path ?: "the record", problem ?: strerror(-r)) < 0)
                        return -ENOMEM;
                return set_string(&s->original_driver, "") ?: set_string(&s->interrupted, "") ?:
                       set_string(&s->record_problem, text);
        }
        (void) device_ids_read(d, &now);
        if (!device_ids_equal(&now, &record->ids))
                /* About another device: not this one's. */
                return set_string(&s->original_driver, "") ?: set_string(&s->interrupted, "") ?:
                       set_string(&s->record_problem, "");
        s->managed = true;
        s->owner = record->owner_uid;
        if (record->granted)
                s->grantee = record->granted_uid;
        return set_string(&s->original_driver, record->original_driver) ?:
               set_string(&s->interrupted, record->intent != INTENT_NONE &&
                                                   worker_recovering(c, d->iommu_group, &d->address)
                                           ? record_intent_to_string(record->intent)
                                           : "") ?:
               set_string(&s->record_problem, "");
}

/* Reads one device as it is now. old: what was shown, for what cannot be read while Busy. */
static int read_device(struct context *c, struct host_use_view **view, const struct pci_address *a,
                       const struct device_state *old, struct device_state **ret) {
        _cleanup_(device_state_freep) struct device_state *s = NULL;
        _cleanup_(pci_device_freep) struct pci_device *d = NULL;
        char group_path[BUS_PATH_MAX];
        int r;

        r = pci_device_load(&c->reader, a, &d);
        if (r < 0)
                return r;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->context = c;
        s->address = *a;
        memcpy(s->name, d->name, sizeof(s->name));
        bus_device_path(a, s->path);
        s->vendor_id = d->vendor_id;
        s->device_id = d->device_id;
        s->subsystem_vendor_id = d->subsystem_vendor_id;
        s->subsystem_device_id = d->subsystem_device_id;
        s->class_code = d->class_code;
        s->iommu_group = d->iommu_group;
        s->numa_node = d->numa_node;
        s->busy = d->busy;
        r = set_string(&s->address_text, d->name) ?: set_string(&s->vendor_name, d->vendor_name) ?:
            set_string(&s->device_name, d->device_name) ?: set_string(&s->class_name, d->class_name) ?:
            set_string(&s->driver, d->driver) ?: set_string(&s->group_path, bus_group_path(d->iommu_group, group_path));
        if (r < 0)
                return r;

        if (d->busy) {
                /* Not read now (it could block): what was last shown stands. */
                r = set_string(&s->driver_override, old ? old->driver_override : "") ?:
                    set_string(&s->host_use, old ? old->host_use : "");
        } else {
                _cleanup_(freep) char *reason = NULL;

                if (!*view && host_use_view_new(view) < 0)
                        *view = NULL;
                if (*view && host_use_find(*view, d, 0, &reason) < 0)
                        reason = NULL;
                r = set_string(&s->driver_override, d->driver_override) ?: set_string(&s->host_use, reason);
        }
        if (r < 0)
                return r;

        r = read_record(c, d, s);
        if (r < 0)
                return r;
        {
                const char *note;
                s->vfio_ready = vfio_driver_allows_group(d->driver, &note);
                r = set_string(&s->vfio_note, note);
                if (r < 0)
                        return r;
        }
        r = set_string(&s->recovery, recovery_note(c, a));
        if (r < 0)
                return r;
        if (vfio_driver_is_vfio(d->driver)) {
                r = vfio_nodes_of_device(a, d->iommu_group, &s->nodes);
                if (r < 0)
                        return r;
        }
        if (!s->nodes) {
                s->nodes = calloc(1, sizeof(char *));
                if (!s->nodes)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static bool strv_equal_or_empty(char **a, char **b) {
        size_t i;

        for (i = 0; a && b && a[i] && b[i]; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return false;
        return (!a || !a[i]) && (!b || !b[i]);
}

/* The names of the properties that differ. */
static int device_changes(const struct device_state *a, const struct device_state *b, char ***ret) {
        char **names = NULL;
        int r = 0;

#define STRING_CHANGE(field, name)                                     \
        if (r >= 0 && strcmp(a->field, b->field) != 0)                \
                r = strv_push(&names, name);
#define VALUE_CHANGE(field, name)                                      \
        if (r >= 0 && a->field != b->field)                            \
                r = strv_push(&names, name);
        STRING_CHANGE(driver, "Driver");
        STRING_CHANGE(driver_override, "DriverOverride");
        STRING_CHANGE(group_path, "IommuGroup");
        VALUE_CHANGE(busy, "Busy");
        STRING_CHANGE(host_use, "HostUse");
        VALUE_CHANGE(managed, "Managed");
        STRING_CHANGE(original_driver, "OriginalDriver");
        VALUE_CHANGE(owner, "Owner");
        VALUE_CHANGE(grantee, "Grantee");
        if (r >= 0 && !strv_equal_or_empty(a->nodes, b->nodes))
                r = strv_push(&names, "Nodes");
        STRING_CHANGE(interrupted, "Interrupted");
        STRING_CHANGE(recovery, "Recovery");
        STRING_CHANGE(record_problem, "RecordProblem");
        VALUE_CHANGE(vfio_ready, "VfioReady");
        STRING_CHANGE(vfio_note, "VfioNote");
#undef STRING_CHANGE
#undef VALUE_CHANGE
        if (r < 0) {
                strv_free(names);
                return r;
        }
        *ret = names;
        return 0;
}

/* ---------------------------------------------------------------------------------------------- */

static int read_group(struct context *c, int id, struct group_state **ret) {
        _cleanup_(group_state_freep) struct group_state *g = NULL;
        char node[VFIO_GROUP_NODE_MAX];
        size_t n_foreign;
        int r;

        r = iommu_group_count_foreign(id, &n_foreign);
        if (r < 0)
                return r;
        g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->id = id;
        bus_group_path(id, g->path);
        g->viable = true;
        /* The members as the model has them: read in this same refresh. */
        for (size_t i = 0; i < c->model->n_devices; i++) {
                const struct device_state *d = c->model->devices[i];
                const char *reason;

                if (d->iommu_group != id)
                        continue;
                r = strv_push(&g->members, d->path);
                if (r < 0)
                        return r;
                if (!vfio_driver_allows_group(d->driver[0] ? d->driver : NULL, &reason)) {
                        g->viable = false;
                        r = strv_push(&g->blocker_paths, d->path);
                        if (r >= 0)
                                r = strv_push(&g->blocker_reasons, reason);
                        if (r < 0)
                                return r;
                }
        }
        /* The kernel frees a group with its last member; a directory left without one is gone too. */
        if (!g->members && n_foreign == 0)
                return -ENODEV;
        if (n_foreign > 0) {
                g->viable = false;
                r = strv_push(&g->blocker_paths, "/");
                if (r >= 0)
                        r = strv_push(&g->blocker_reasons, "a member that is not a PCI function");
                if (r < 0)
                        return r;
        }
        if (!g->members && !(g->members = calloc(1, sizeof(char *))))
                return -ENOMEM;
        if (!g->blocker_paths && !(g->blocker_paths = calloc(1, sizeof(char *))))
                return -ENOMEM;
        if (!g->blocker_reasons && !(g->blocker_reasons = calloc(1, sizeof(char *))))
                return -ENOMEM;
        r = set_string(&g->node, vfio_node_exists(vfio_group_node(id, node)) ? node : "");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(g);
        return 0;
}

static int group_changes(const struct group_state *a, const struct group_state *b, char ***ret) {
        char **names = NULL;
        int r = 0;

        if (a->viable != b->viable)
                r = strv_push(&names, "Viable");
        if (r >= 0 && !strv_equal_or_empty(a->members, b->members))
                r = strv_push(&names, "Members");
        if (r >= 0 && (!strv_equal_or_empty(a->blocker_paths, b->blocker_paths) ||
                       !strv_equal_or_empty(a->blocker_reasons, b->blocker_reasons)))
                r = strv_push(&names, "Blockers");
        if (r >= 0 && strcmp(a->node, b->node) != 0)
                r = strv_push(&names, "Node");
        if (r < 0) {
                strv_free(names);
                return r;
        }
        *ret = names;
        return 0;
}

/* ---------------------------------------------------------------------------------------------- */

static void emit_changed(struct context *c, const char *path, const char *interface, char **names) {
        int r;

        if (!c->bus || !names || !names[0])
                return;
        r = sd_bus_emit_properties_changed_strv(c->bus, path, interface, names);
        if (r < 0)
                log_warning_errno(r, "Could not announce the change of %s", path);
}

static void emit_added(struct context *c, const char *path, const char *interface) {
        int r;

        if (!c->bus)
                return;
        r = sd_bus_emit_interfaces_added(c->bus, path, interface, NULL);
        if (r < 0)
                log_warning_errno(r, "Could not announce %s", path);
}

static void emit_removed(struct context *c, const char *path, const char *interface) {
        int r;

        if (!c->bus)
                return;
        r = sd_bus_emit_interfaces_removed(c->bus, path, interface, NULL);
        if (r < 0)
                log_warning_errno(r, "Could not announce that %s is gone", path);
}

static int push_group(int **groups, size_t *n, int id) {
        int *p;

        if (id < 0)
                return 0;
        p = reallocarray(*groups, *n + 1, sizeof(int));
        if (!p)
                return -ENOMEM;
        p[(*n)++] = id;
        *groups = p;
        return 0;
}

/* A group the refresh under way must read again once its devices are read. */
static int mark_group(struct device_model *m, int id) {
        return push_group(&m->work_groups, &m->n_work_groups, id);
}

/* Reads a device again and puts the answer in the model, announcing what changed. */
static void refresh_device(struct context *c, struct host_use_view **view, const struct pci_address *a,
                           bool announce) {
        struct device_model *m = c->model;
        _cleanup_(device_state_freep) struct device_state *now = NULL;
        bool found;
        size_t i = device_index(m, a, &found);
        struct device_state *old = found ? m->devices[i] : NULL;
        int r;

        r = read_device(c, view, a, old, &now);
        if (r < 0) {
                if (r != -ENODEV) {
                        char name[PCI_ADDRESS_STRING_MAX];
                        log_warning_errno(r, "Could not read %s", pci_address_format(a, name));
                        return;
                }
                if (!old)
                        return;
                (void) mark_group(m, old->iommu_group);
                remove_at((void **) m->devices, &m->n_devices, i);
                if (announce)
                        emit_removed(c, old->path, VFIO_PT_DEVICE_INTERFACE);
                device_state_free(old);
                return;
        }
        (void) mark_group(m, now->iommu_group);
        if (!old) {
                struct device_state *s = now;
                if (insert_at((void ***) &m->devices, &m->n_devices, i, s) < 0)
                        return;
                TAKE_PTR(now);
                if (announce)
                        emit_added(c, s->path, VFIO_PT_DEVICE_INTERFACE);
                return;
        }
        {
                _cleanup_(strv_freep) char **names = NULL;

                (void) mark_group(m, old->iommu_group);
                if (device_changes(old, now, &names) < 0)
                        return;
                m->devices[i] = TAKE_PTR(now);
                device_state_free(old);
                if (announce)
                        emit_changed(c, m->devices[i]->path, VFIO_PT_DEVICE_INTERFACE, names);
        }
}

static void refresh_group(struct context *c, int id, bool announce) {
        struct device_model *m = c->model;
        _cleanup_(group_state_freep) struct group_state *now = NULL;
        bool found;
        size_t i = group_index(m, id, &found);
        struct group_state *old = found ? m->groups[i] : NULL;
        int r;

        r = read_group(c, id, &now);
        if (r < 0) {
                if (r != -ENODEV || !old)
                        return;
                remove_at((void **) m->groups, &m->n_groups, i);
                if (announce)
                        emit_removed(c, old->path, VFIO_PT_GROUP_INTERFACE);
                group_state_free(old);
                return;
        }
        if (!old) {
                struct group_state *g = now;
                if (insert_at((void ***) &m->groups, &m->n_groups, i, g) < 0)
                        return;
                TAKE_PTR(now);
                if (announce)
                        emit_added(c, g->path, VFIO_PT_GROUP_INTERFACE);
                return;
        }
        {
                _cleanup_(strv_freep) char **names = NULL;

                if (group_changes(old, now, &names) < 0)
                        return;
                m->groups[i] = TAKE_PTR(now);
                group_state_free(old);
                if (announce)
                        emit_changed(c, m->groups[i]->path, VFIO_PT_GROUP_INTERFACE, names);
        }
}

static void forget_host_use(struct device_model *m) {
        m->host_use = host_use_view_free(m->host_use);
}

static int compare_int(const void *a, const void *b) {
        int x = *(const int *) a, y = *(const int *) b;
        return x < y ? -1 : x > y;
}

static size_t sort_unique(void *base, size_t n, size_t size, int (*compare)(const void *, const void *)) {
        char *items = base;
        size_t kept = 0;

        if (n == 0)
                return 0;
        qsort(items, n, size, compare);
        for (size_t i = 1; i < n; i++)
                if (compare(items + kept * size, items + i * size) != 0) {
                        kept++;
                        if (kept != i)
                                memcpy(items + kept * size, items + i * size, size);
                }
        return kept + 1;
}

static int compare_address(const void *a, const void *b) {
        return pci_address_compare(a, b);
}

/* Turns what is dirty into the work of a refresh: every function there is and every one the
 * model knows (all), or the invalidated ones. */
static void plan(struct device_model *m) {
        _cleanup_(freep) struct pci_address *dirty = TAKE_PTR(m->dirty);
        _cleanup_(freep) int *dirty_groups = TAKE_PTR(m->dirty_groups);
        size_t n_dirty = m->n_dirty, n_dirty_groups = m->n_dirty_groups;
        bool all = m->dirty_all;

        m->n_dirty = m->n_dirty_groups = 0;
        m->dirty_all = false;
        m->working = true;
        m->done_work = m->done_work_groups = 0;
        m->work_groups_sorted = false;
        if (all) {
                _cleanup_(freep) struct pci_address *present = NULL;
                size_t n_present = 0;
                struct pci_address *work;

                if (pci_device_enumerate(&present, &n_present) < 0) {
                        m->working = false;
                        return;
                }
                work = reallocarray(present, n_present + m->n_devices, sizeof(*work));
                if (!work) {
                        m->working = false;
                        return;
                }
                present = NULL;
                /* Gone ones are read too: that is how they leave the model. */
                for (size_t i = 0; i < m->n_devices; i++)
                        work[n_present + i] = m->devices[i]->address;
                m->work = work;
                m->n_work = sort_unique(work, n_present + m->n_devices, sizeof(*work), compare_address);
                /* Every group there was; those there are get marked as their devices are read. */
                for (size_t i = 0; i < m->n_groups; i++)
                        (void) mark_group(m, m->groups[i]->id);
        } else {
                m->work = TAKE_PTR(dirty);
                m->n_work = sort_unique(m->work, n_dirty, sizeof(*m->work), compare_address);
        }
        for (size_t i = 0; i < n_dirty_groups; i++)
                (void) mark_group(m, dirty_groups[i]);
}

/* Reads up to limit functions or groups of the work (0: all of it). Returns true once done. */
static bool run_slice(struct context *c, size_t limit, bool announce) {
        struct device_model *m = c->model;
        size_t budget = limit ? limit : SIZE_MAX;
        uint64_t now = now_usec();

        if (m->host_use && now - m->host_use_read_usec > HOST_USE_MAX_AGE_USEC)
                forget_host_use(m);
        if (!m->host_use)
                m->host_use_read_usec = now;
        for (; m->done_work < m->n_work && budget > 0; budget--) {
                struct pci_address a = m->work[m->done_work++];
                refresh_device(c, &m->host_use, &a, announce);
        }
        if (m->done_work < m->n_work)
                return false;
        if (!m->work_groups_sorted) {
                m->n_work_groups = sort_unique(m->work_groups, m->n_work_groups, sizeof(int), compare_int);
                m->work_groups_sorted = true;
        }
        for (; m->done_work_groups < m->n_work_groups && budget > 0; budget--)
                refresh_group(c, m->work_groups[m->done_work_groups++], announce);
        if (m->done_work_groups < m->n_work_groups)
                return false;
        free(TAKE_PTR(m->work));
        free(TAKE_PTR(m->work_groups));
        /* Names of kinds seen are cached: the database's pages need not stay resident. */
        hwdb_names_close(c->names);
        m->n_work = m->done_work = m->n_work_groups = m->done_work_groups = 0;
        m->working = false;
        return true;
}

static bool anything_dirty(const struct device_model *m) {
        return m->dirty_all || m->n_dirty > 0 || m->n_dirty_groups > 0;
}

static void schedule(struct context *c);

static int on_refresh(sd_event_source *source, uint64_t usec, void *userdata) {
        struct context *c = userdata;
        struct device_model *m = c->model;
        int r;

        m->refresh_source = sd_event_source_disable_unref(m->refresh_source);
        if (!m->working)
                plan(m);
        if (!run_slice(c, REFRESH_SLICE, true)) {
                /* The next slice after whatever waits on the bus: idle priority comes last. */
                r = sd_event_add_time(c->event, &m->refresh_source, CLOCK_MONOTONIC, 0, 0, on_refresh, c);
                if (r >= 0)
                        r = sd_event_source_set_priority(m->refresh_source, SD_EVENT_PRIORITY_IDLE);
                if (r < 0) {
                        log_warning_errno(r, "Could not schedule the rest of a refresh; reading it all now");
                        m->refresh_source = sd_event_source_disable_unref(m->refresh_source);
                        (void) run_slice(c, 0, true);
                }
                return 0;
        }
        if (anything_dirty(m))
                schedule(c);
        return 0;
}

static void schedule(struct context *c) {
        struct device_model *m = c->model;
        int r;

        if (m->refresh_source || !c->event)
                return;
        /* Accuracy 1 µs: 0 would mean sd-event's default, a quarter of a second. */
        r = sd_event_add_time_relative(c->event, &m->refresh_source, CLOCK_MONOTONIC, REFRESH_DELAY_USEC, 1,
                                       on_refresh, c);
        if (r < 0)
                log_warning_errno(r, "Could not schedule a refresh of the device objects");
}

void device_model_invalidate(struct context *c, const struct pci_address *a) {
        struct device_model *m = c->model;
        struct pci_address *p;

        if (!m)
                return;
        if (!a) /* everything: what the host uses may be what changed */
                forget_host_use(m);
        if (!a || m->n_dirty >= DIRTY_MAX)
                m->dirty_all = true;
        if (!m->dirty_all) {
                p = reallocarray(m->dirty, m->n_dirty + 1, sizeof(*p));
                if (p) {
                        p[m->n_dirty++] = *a;
                        m->dirty = p;
                } else
                        m->dirty_all = true;
        }
        if (m->dirty_all) {
                free(TAKE_PTR(m->dirty));
                m->n_dirty = 0;
        }
        schedule(c);
}

void device_model_invalidate_group(struct context *c, int id) {
        struct device_model *m = c->model;

        if (!m || id < 0)
                return;
        for (size_t i = 0; i < m->n_devices; i++)
                if (m->devices[i]->iommu_group == id)
                        device_model_invalidate(c, &m->devices[i]->address);
        if (push_group(&m->dirty_groups, &m->n_dirty_groups, id) < 0)
                m->dirty_all = true;
        schedule(c);
}

void device_model_refresh_now(struct context *c) {
        struct device_model *m = c->model;

        if (!m)
                return;
        m->refresh_source = sd_event_source_disable_unref(m->refresh_source);
        /* What is under way first, then what was invalidated since. */
        if (m->working)
                (void) run_slice(c, 0, true);
        if (anything_dirty(m)) {
                plan(m);
                (void) run_slice(c, 0, true);
        }
}

const struct device_state *const *device_model_devices(const struct context *c, size_t *ret_n) {
        *ret_n = c->model ? c->model->n_devices : 0;
        return c->model ? (const struct device_state *const *) c->model->devices : NULL;
}

void device_model_refresh_device(struct context *c, const struct pci_address *address) {
        const struct device_state *s;
        int group;

        if (c->model)
                forget_host_use(c->model);
        device_model_invalidate(c, address);
        s = device_model_find(c, address);
        group = s ? s->iommu_group : -1;
        device_model_invalidate_group(c, group);
        device_model_refresh_now(c);
        /* Unknown before, or moved to another group: that group's other members too. */
        s = device_model_find(c, address);
        if (s && s->iommu_group != group) {
                device_model_invalidate_group(c, s->iommu_group);
                device_model_refresh_now(c);
        }
}

int device_model_paths(const struct context *c, char ***ret) {
        _cleanup_(strv_freep) char **paths = NULL;
        int r;

        for (size_t i = 0; c->model && i < c->model->n_devices; i++) {
                r = strv_push(&paths, c->model->devices[i]->path);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; c->model && i < c->model->n_groups; i++) {
                r = strv_push(&paths, c->model->groups[i]->path);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(paths);
        return 0;
}

/* ---------------------------------------------------------------------------------------------- */

/* What the host uses changes without a uevent: a mount, a swap area, a link going up. */
static int on_host_change(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct context *c = userdata;

        if (fd == c->model->links_fd) {
                char buf[8192];
                while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
                        ;
        }
        device_model_invalidate(c, NULL);
        return 0;
}

static int on_sweep(sd_event_source *source, uint64_t usec, void *userdata) {
        struct context *c = userdata;
        int r;

        device_model_invalidate(c, NULL);
        r = sd_event_source_set_time_relative(source, SWEEP_INTERVAL_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(source, SD_EVENT_ON);
        return r;
}

static void watch_proc_file(struct context *c, const char *path, int *fd, sd_event_source **source) {
        int r;

        *fd = open(path, O_RDONLY | O_CLOEXEC);
        if (*fd < 0)
                return;
        /* The kernel marks these POLLPRI (EPOLLPRI) when they change. */
        r = sd_event_add_io(c->event, source, *fd, EPOLLPRI, on_host_change, c);
        if (r < 0)
                log_debug_errno(r, "Cannot watch %s; the sweep will notice its changes", path);
}

static void watch_links(struct context *c) {
        struct sockaddr_nl sa = {
                .nl_family = AF_NETLINK,
                .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
        };
        struct device_model *m = c->model;
        int r;

        m->links_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        if (m->links_fd < 0)
                return;
        if (bind(m->links_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                close(m->links_fd);
                m->links_fd = -1;
                return;
        }
        r = sd_event_add_io(c->event, &m->links_source, m->links_fd, EPOLLIN, on_host_change, c);
        if (r < 0)
                log_debug_errno(r, "Cannot watch the network links; the sweep will notice their changes");
}

int device_model_start(struct context *c) {
        struct device_model *m;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->mounts_fd = m->swaps_fd = m->links_fd = -1;
        c->model = m;

        m->dirty_all = true;
        plan(m);
        (void) run_slice(c, 0, false);

        watch_proc_file(c, "/proc/self/mountinfo", &m->mounts_fd, &m->mounts_source);
        watch_proc_file(c, "/proc/swaps", &m->swaps_fd, &m->swaps_source);
        watch_links(c);
        r = sd_event_add_time_relative(c->event, &m->sweep_source, CLOCK_MONOTONIC, SWEEP_INTERVAL_USEC,
                                       USEC_PER_SEC, on_sweep, c);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the sweep of the device objects");
        return 0;
}

void device_model_free(struct context *c) {
        struct device_model *m = c->model;

        if (!m)
                return;
        m->refresh_source = sd_event_source_disable_unref(m->refresh_source);
        m->sweep_source = sd_event_source_disable_unref(m->sweep_source);
        m->mounts_source = sd_event_source_disable_unref(m->mounts_source);
        m->swaps_source = sd_event_source_disable_unref(m->swaps_source);
        m->links_source = sd_event_source_disable_unref(m->links_source);
        if (m->mounts_fd >= 0)
                close(m->mounts_fd);
        if (m->swaps_fd >= 0)
                close(m->swaps_fd);
        if (m->links_fd >= 0)
                close(m->links_fd);
        for (size_t i = 0; i < m->n_devices; i++)
                device_state_free(m->devices[i]);
        for (size_t i = 0; i < m->n_groups; i++)
                group_state_free(m->groups[i]);
        free(m->devices);
        free(m->groups);
        free(m->dirty);
        free(m->dirty_groups);
        free(m->work);
        free(m->work_groups);
        forget_host_use(m);
        free(m);
        c->model = NULL;
}
