/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel-emulator.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pci-tree.h"

#define VFIO_PCI "vfio-pci"
#define VFIO_CLASS_DIR "/sys/devices/virtual/vfio"
/* Device numbers from the majors Linux reserves for local use (60-63) and never hands out: what
 * the emulated nodes stand for can never be a real device of the machine running the tests. */
#define VFIO_GROUP_MAJOR 62
#define VFIO_CDEV_MAJOR 63
#define VFIO_MISC_MAJOR 61 /* /dev/vfio/vfio and /dev/iommu; misc devices really */

enum control_kind {
        CONTROL_PROBE,      /* /sys/bus/pci/drivers_probe */
        CONTROL_BUS_RESCAN, /* /sys/bus/pci/rescan */
        CONTROL_BIND,       /* /sys/bus/pci/drivers/DRV/bind */
        CONTROL_UNBIND,     /* /sys/bus/pci/drivers/DRV/unbind */
        CONTROL_NEW_ID,     /* /sys/bus/pci/drivers/DRV/new_id: recorded, never acted on */
        CONTROL_REMOVE,     /* devices/ADDR/remove */
        CONTROL_DEV_RESCAN, /* devices/ADDR/rescan */
};

/* One write-only control file, a FIFO the emulator holds open (O_RDWR) so writers never block —
 * unless the emulator fills the pipe to make the next write hang. */
struct control_file {
        enum control_kind kind;
        char *owner;      /* driver name or device address */
        char *path;       /* real path in the testbed */
        int fd;
        size_t filler;    /* bytes the emulator put in the pipe to make writers hang; 0: not hanging */
        GString *pending; /* read, not yet handled */
};

struct emulated_device {
        const struct fake_pci_device *tree;
        char *syspath; /* "/sys/devices/..." as the daemon sees it */
        char *host_driver;
        unsigned failing_probes;
        gboolean removed;
        int cdev_index; /* -1: no vfio-dev/vfioN */
        /* Races, once each, right after the next driver_override write (see the header). */
        void (*override_hook)(gpointer data);
        gpointer override_hook_data;
        char *rebind_on_override;
};

struct kernel_emulator {
        UMockdevTestbed *testbed;
        char *root;
        gboolean cdev_kernel;

        GMutex lock;
        GThread *thread;
        gboolean stopping;
        gboolean busy;
        int wake_fd;
        int inotify_fd;

        GPtrArray *devices;  /* struct emulated_device */
        GPtrArray *controls; /* struct control_file */
        GHashTable *watches; /* inotify wd → real path of the watched directory */
        GPtrArray *stash;    /* addresses of removed subtrees, waiting for a rescan */
        GString *journal;
        int next_cdev_index;
};

/* --- paths and files -------------------------------------------------------------------------- */

static char *real_path(struct kernel_emulator *e, const char *path) {
        return g_build_filename(e->root, path, NULL);
}

static void journal(struct kernel_emulator *e, const char *format, ...) G_GNUC_PRINTF(2, 3);
static void journal(struct kernel_emulator *e, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        g_string_append_vprintf(e->journal, format, ap);
        va_end(ap);
        g_string_append_c(e->journal, '\n');
}

/* Replaces a file's contents atomically, so the inotify watch sees no close-after-write on it. */
static void replace_file(const char *path, const char *contents) {
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *base = g_path_get_basename(path);
        g_autofree char *tmp = g_strdup_printf("%s/.%s.emulator-tmp", dir, base);
        g_autoptr(GError) error = NULL;

        g_assert_true(g_file_set_contents_full(tmp, contents, -1, G_FILE_SET_CONTENTS_NONE, 0644, &error));
        g_assert_no_error(error);
        g_assert_cmpint(rename(tmp, path), ==, 0);
}

/* Device nodes are real character devices with the numbers they stand for, as the daemon checks
 * (S_ISCHR, and the number it recorded) before it touches one; the majors are local ones, so even
 * a wrong open() of one could do no harm. umockdev reports a node's number from its dev/.node
 * link, which says the same. */
static void make_node(const char *root, const char *devname, mode_t mode, unsigned major, unsigned minor) {
        g_autofree char *path = g_strdup_printf("%s/dev/%s", root, devname);
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *link_dir = g_strdup_printf("%s/dev/.node", root);
        g_autofree char *link_name = g_strdelimit(g_strdup(devname), "/", '_');
        g_autofree char *link = g_build_filename(link_dir, link_name, NULL);
        g_autofree char *number = g_strdup_printf("%u:%u", major, minor);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(link_dir, 0755), ==, 0);
        g_unlink(path);
        if (mknod(path, S_IFCHR | mode, makedev(major, minor)) < 0)
                g_error("emulator: mknod %s: %s (the service tests need root)", path, g_strerror(errno));
        g_assert_cmpint(lchown(path, 0, 0), ==, 0);
        g_assert_cmpint(chmod(path, mode), ==, 0);
        g_unlink(link);
        g_assert_cmpint(symlink(number, link), ==, 0);
}

static void remove_tree(const char *path) {
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
                g_autofree char *child = g_build_filename(path, name, NULL);
                if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
                        remove_tree(child);
                else
                        g_unlink(child);
        }
        g_rmdir(path);
}

/* Relative path from a directory below /sys back up to /sys, as the kernel writes links. */
static char *up_to_sys(const char *sys_dir) {
        GString *s = g_string_new(NULL);
        for (const char *p = sys_dir + strlen("/sys"); *p; p++)
                if (*p == '/')
                        g_string_append(s, "../");
        return g_string_free(s, FALSE);
}

static void make_link(struct kernel_emulator *e, const char *target, const char *link) {
        g_autofree char *full = real_path(e, link);
        g_unlink(full);
        if (symlink(target, full) < 0)
                g_error("emulator: symlink %s: %s", full, g_strerror(errno));
}

/* --- the device model ------------------------------------------------------------------------- */

static struct emulated_device *find_device(struct kernel_emulator *e, const char *address) {
        for (guint i = 0; i < e->devices->len; i++) {
                struct emulated_device *d = g_ptr_array_index(e->devices, i);
                if (strcmp(d->tree->address, address) == 0)
                        return d;
        }
        return NULL;
}

static char *bound_driver(struct kernel_emulator *e, struct emulated_device *d) {
        g_autofree char *link = g_strdup_printf("%s/driver", d->syspath);
        g_autofree char *full = real_path(e, link);
        g_autofree char *target = g_file_read_link(full, NULL);
        return target ? g_path_get_basename(target) : NULL;
}

static gboolean driver_loaded(struct kernel_emulator *e, const char *driver) {
        g_autofree char *dir = g_strdup_printf("%s/sys/bus/pci/drivers/%s", e->root, driver);
        return g_file_test(dir, G_FILE_TEST_IS_DIR);
}

/* driver_override as the kernel keeps it: NULL when unset. */
static char *read_override(struct kernel_emulator *e, struct emulated_device *d) {
        g_autofree char *path = g_strdup_printf("%s%s/driver_override", e->root, d->syspath);
        g_autofree char *contents = NULL;

        if (!g_file_get_contents(path, &contents, NULL, NULL))
                return NULL;
        g_strstrip(contents);
        if (contents[0] == '\0' || strcmp(contents, "(null)") == 0)
                return NULL;
        return g_steal_pointer(&contents);
}

static void uevent(struct kernel_emulator *e, const char *syspath, const char *action) {
        umockdev_testbed_uevent(e->testbed, syspath, action);
}

static gboolean group_has_vfio_member(struct kernel_emulator *e, int group) {
        for (guint i = 0; i < e->devices->len; i++) {
                struct emulated_device *d = g_ptr_array_index(e->devices, i);
                g_autofree char *driver = NULL;
                if (d->tree->iommu_group != group || d->removed)
                        continue;
                driver = bound_driver(e, d);
                if (g_strcmp0(driver, VFIO_PCI) == 0)
                        return TRUE;
        }
        return FALSE;
}

/* The vfio group device: /sys/devices/virtual/vfio/G, its class link, and /dev/vfio/G. */
static void vfio_group_create(struct kernel_emulator *e, int group) {
        g_autofree char *syspath = g_strdup_printf(VFIO_CLASS_DIR "/%d", group);
        g_autofree char *dir = real_path(e, syspath);
        g_autofree char *node = g_strdup_printf("%s/dev/vfio/%d", e->root, group);
        g_autofree char *uevent_text = g_strdup_printf("MAJOR=%d\nMINOR=%d\nDEVNAME=vfio/%d\n", VFIO_GROUP_MAJOR,
                                                       group, group);
        g_autofree char *dev = g_strdup_printf("%d:%d\n", VFIO_GROUP_MAJOR, group);
        g_autofree char *devname = g_strdup_printf("vfio/%d", group);
        g_autofree char *class_link = g_strdup_printf("/sys/class/vfio/%d", group);
        g_autofree char *class_target = g_strdup_printf("../../devices/virtual/vfio/%d", group);
        g_autofree char *uevent_path = g_build_filename(dir, "uevent", NULL);
        g_autofree char *dev_path = g_build_filename(dir, "dev", NULL);
        g_autofree char *subsystem = g_strdup_printf("%s/subsystem", syspath);

        if (g_file_test(node, G_FILE_TEST_EXISTS))
                return;
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(uevent_path, uevent_text, -1, NULL));
        g_assert_true(g_file_set_contents(dev_path, dev, -1, NULL));
        make_link(e, "../../../../class/vfio", subsystem);
        make_link(e, class_target, class_link);
        make_node(e->root, devname, 0600, VFIO_GROUP_MAJOR, (unsigned) group);
        journal(e, "create /dev/vfio/%d", group);
        uevent(e, syspath, "add");
}

static void vfio_group_destroy(struct kernel_emulator *e, int group) {
        g_autofree char *syspath = g_strdup_printf(VFIO_CLASS_DIR "/%d", group);
        g_autofree char *dir = real_path(e, syspath);
        g_autofree char *node = g_strdup_printf("%s/dev/vfio/%d", e->root, group);
        g_autofree char *class_link = g_strdup_printf("%s/sys/class/vfio/%d", e->root, group);

        if (!g_file_test(node, G_FILE_TEST_EXISTS))
                return;
        uevent(e, syspath, "remove");
        g_unlink(node);
        g_unlink(class_link);
        remove_tree(dir);
        journal(e, "remove /dev/vfio/%d", group);
}

static void vfio_cdev_create(struct kernel_emulator *e, struct emulated_device *d) {
        int index = e->next_cdev_index++;
        g_autofree char *dir = g_strdup_printf("%s%s/vfio-dev/vfio%d", e->root, d->syspath, index);
        g_autofree char *dev_path = g_build_filename(dir, "dev", NULL);
        g_autofree char *dev = g_strdup_printf("%d:%d\n", VFIO_CDEV_MAJOR, index);
        g_autofree char *uevent_path = g_build_filename(dir, "uevent", NULL);
        g_autofree char *uevent_text = g_strdup_printf("MAJOR=%d\nMINOR=%d\nDEVNAME=vfio/devices/vfio%d\n",
                                                       VFIO_CDEV_MAJOR, index, index);
        g_autofree char *node_name = g_strdup_printf("vfio/devices/vfio%d", index);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(dev_path, dev, -1, NULL));
        g_assert_true(g_file_set_contents(uevent_path, uevent_text, -1, NULL));
        make_node(e->root, node_name, 0600, VFIO_CDEV_MAJOR, (unsigned) index);
        d->cdev_index = index;
        journal(e, "create /dev/vfio/devices/vfio%d for %s", index, d->tree->address);
}

static void vfio_cdev_destroy(struct kernel_emulator *e, struct emulated_device *d) {
        g_autofree char *dir = NULL;
        g_autofree char *node = NULL;

        if (d->cdev_index < 0)
                return;
        dir = g_strdup_printf("%s%s/vfio-dev", e->root, d->syspath);
        node = g_strdup_printf("%s/dev/vfio/devices/vfio%d", e->root, d->cdev_index);
        remove_tree(dir);
        g_unlink(node);
        journal(e, "remove /dev/vfio/devices/vfio%d", d->cdev_index);
        d->cdev_index = -1;
}

static void bind(struct kernel_emulator *e, struct emulated_device *d, const char *driver) {
        g_autofree char *up = up_to_sys(d->syspath);
        g_autofree char *target = g_strdup_printf("%sbus/pci/drivers/%s", up, driver);
        g_autofree char *link = g_strdup_printf("%s/driver", d->syspath);
        g_autofree char *back = g_strdup_printf("/sys/bus/pci/drivers/%s/%s", driver, d->tree->address);
        g_autofree char *back_target = g_strdup_printf("../../../..%s", d->syspath + strlen("/sys"));

        make_link(e, target, link);
        make_link(e, back_target, back);
        journal(e, "bind %s %s", driver, d->tree->address);
        if (strcmp(driver, VFIO_PCI) == 0) {
                vfio_group_create(e, d->tree->iommu_group);
                if (e->cdev_kernel)
                        vfio_cdev_create(e, d);
        }
        uevent(e, d->syspath, "bind");
}

static void unbind(struct kernel_emulator *e, struct emulated_device *d) {
        g_autofree char *driver = bound_driver(e, d);
        g_autofree char *link = NULL;
        g_autofree char *back = NULL;

        if (!driver)
                return;
        link = g_strdup_printf("%s%s/driver", e->root, d->syspath);
        back = g_strdup_printf("%s/sys/bus/pci/drivers/%s/%s", e->root, driver, d->tree->address);
        g_unlink(link);
        g_unlink(back);
        journal(e, "unbind %s %s", driver, d->tree->address);
        if (strcmp(driver, VFIO_PCI) == 0) {
                vfio_cdev_destroy(e, d);
                if (!group_has_vfio_member(e, d->tree->iommu_group))
                        vfio_group_destroy(e, d->tree->iommu_group);
        }
        uevent(e, d->syspath, "unbind");
}

static void probe(struct kernel_emulator *e, struct emulated_device *d) {
        g_autofree char *bound = bound_driver(e, d);
        g_autofree char *override = NULL;
        const char *driver;

        if (bound) {
                journal(e, "probe %s: already on %s", d->tree->address, bound);
                return;
        }
        if (d->failing_probes > 0) {
                d->failing_probes--;
                journal(e, "probe %s: nothing bound (hostile)", d->tree->address);
                return;
        }
        override = read_override(e, d);
        driver = override ?: d->host_driver;
        if (!driver || !driver_loaded(e, driver)) {
                journal(e, "probe %s: nothing bound (%s)", d->tree->address, driver ? driver : "no driver");
                return;
        }
        bind(e, d, driver);
}

/* --- remove and rescan ------------------------------------------------------------------------ */

static gboolean below(const char *syspath, const char *top) {
        return g_str_has_prefix(syspath, top) && (syspath[strlen(top)] == '\0' || syspath[strlen(top)] == '/');
}

static void remove_device(struct kernel_emulator *e, struct emulated_device *top) {
        g_autofree char *dir = real_path(e, top->syspath);
        g_autofree char *stashed = g_strdup_printf("%s/.removed-%s", e->root, top->tree->address);

        /* Children go first, as the kernel tears a subtree down bottom-up. */
        for (guint i = e->devices->len; i-- > 0;) {
                struct emulated_device *d = g_ptr_array_index(e->devices, i);
                g_autofree char *bus_link = NULL;
                if (d->removed || !below(d->syspath, top->syspath))
                        continue;
                unbind(e, d);
                uevent(e, d->syspath, "remove");
                bus_link = g_strdup_printf("%s/sys/bus/pci/devices/%s", e->root, d->tree->address);
                g_unlink(bus_link);
                d->removed = TRUE;
                journal(e, "remove %s", d->tree->address);
        }
        g_assert_cmpint(rename(dir, stashed), ==, 0);
        g_ptr_array_add(e->stash, g_strdup(top->tree->address));
}

static void rescan(struct kernel_emulator *e, const char *scope) {
        for (guint s = 0; s < e->stash->len;) {
                struct emulated_device *top = find_device(e, g_ptr_array_index(e->stash, s));
                g_autofree char *dir = real_path(e, top->syspath);
                g_autofree char *stashed = g_strdup_printf("%s/.removed-%s", e->root, top->tree->address);

                if (scope && !below(top->syspath, scope)) {
                        s++;
                        continue;
                }
                g_assert_cmpint(rename(stashed, dir), ==, 0);
                g_ptr_array_remove_index(e->stash, s);

                for (guint i = 0; i < e->devices->len; i++) {
                        struct emulated_device *d = g_ptr_array_index(e->devices, i);
                        g_autofree char *bus_link = NULL;
                        g_autofree char *target = NULL;
                        g_autofree char *override = NULL;
                        if (!d->removed || !below(d->syspath, top->syspath))
                                continue;
                        d->removed = FALSE;
                        bus_link = g_strdup_printf("/sys/bus/pci/devices/%s", d->tree->address);
                        target = g_strdup_printf("../../..%s", d->syspath + strlen("/sys"));
                        make_link(e, target, bus_link);
                        /* A new struct pci_dev: no override. */
                        override = g_strdup_printf("%s%s/driver_override", e->root, d->syspath);
                        replace_file(override, "(null)\n");
                        journal(e, "add %s", d->tree->address);
                        uevent(e, d->syspath, "add");
                        probe(e, d);
                }
        }
}

/* --- control files ---------------------------------------------------------------------------- */

static void add_control(struct kernel_emulator *e, enum control_kind kind, const char *owner, const char *path) {
        struct control_file *c = g_new0(struct control_file, 1);
        g_autofree char *full = real_path(e, path);

        g_unlink(full);
        if (mkfifo(full, 0200) < 0)
                g_error("emulator: mkfifo %s: %s", full, g_strerror(errno));
        c->kind = kind;
        c->owner = g_strdup(owner);
        c->path = g_steal_pointer(&full);
        c->fd = open(c->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        g_assert_cmpint(c->fd, >=, 0);
        c->pending = g_string_new(NULL);
        g_ptr_array_add(e->controls, c);
}

static void control_file_free(gpointer p) {
        struct control_file *c = p;
        if (c->fd >= 0)
                close(c->fd);
        g_string_free(c->pending, TRUE);
        g_free(c->owner);
        g_free(c->path);
        g_free(c);
}

static void watch_dir(struct kernel_emulator *e, const char *path) {
        char *dir = real_path(e, path);
        int wd = inotify_add_watch(e->inotify_fd, dir, IN_CLOSE_WRITE);

        g_assert_cmpint(wd, >=, 0);
        g_hash_table_insert(e->watches, GINT_TO_POINTER(wd), dir);
}

static void add_driver_controls(struct kernel_emulator *e, const char *driver) {
        g_autofree char *dir = g_strdup_printf("/sys/bus/pci/drivers/%s", driver);

        static const struct {
                enum control_kind kind;
                const char *name;
        } files[] = { { CONTROL_BIND, "bind" }, { CONTROL_UNBIND, "unbind" }, { CONTROL_NEW_ID, "new_id" } };

        for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
                g_autofree char *path = g_strdup_printf("/sys/bus/pci/drivers/%s/%s", driver, files[i].name);
                add_control(e, files[i].kind, driver, path);
        }
        watch_dir(e, dir);
}

/* Takes what one write() put into a control file off the front of what was read: a later write
 * may already be queued behind it without a separator, which the fixed shape of a PCI address
 * makes unambiguous. Garbage comes back prefixed with "!", NULL when nothing is left. */
static char *take_written_value(GString *pending) {
        const char *p = pending->str;
        const char *start;
        char *value;

        while (*p && g_ascii_isspace(*p))
                p++;
        if (!*p) {
                g_string_truncate(pending, 0);
                return NULL;
        }
        start = p;
        while (g_ascii_isxdigit(*p))
                p++;
        if (*p == ':' && g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2]) && p[3] == ':' && g_ascii_isxdigit(p[4]) &&
            g_ascii_isxdigit(p[5]) && p[6] == '.' && p[7] >= '0' && p[7] <= '7') {
                p += 8;
                value = g_strndup(start, p - start);
        } else if (p == start + 1 && *start == '1') {
                value = g_strdup("1");
        } else {
                while (*p && !g_ascii_isspace(*p))
                        p++;
                value = g_strdup_printf("!%.*s", (int) (p - start), start);
        }
        g_string_erase(pending, 0, p - pending->str);
        return value;
}

static void handle_address_write(struct kernel_emulator *e, struct control_file *c, const char *address) {
        struct emulated_device *d = address[0] == '!' ? NULL : find_device(e, address);
        g_autofree char *bound = NULL;

        if (c->kind == CONTROL_NEW_ID) {
                journal(e, "new_id %s %s", c->owner, address);
                return;
        }
        if (!d || d->removed) {
                journal(e, "write to %s: no such device '%s'", c->path + strlen(e->root), address);
                return;
        }
        bound = bound_driver(e, d);
        switch (c->kind) {
        case CONTROL_PROBE:
                probe(e, d);
                break;
        case CONTROL_UNBIND:
                if (g_strcmp0(bound, c->owner) != 0)
                        journal(e, "unbind %s %s: not bound to it", c->owner, address);
                else
                        unbind(e, d);
                break;
        case CONTROL_BIND: {
                g_autofree char *override = read_override(e, d);
                if (bound || (override && strcmp(override, c->owner) != 0))
                        journal(e, "bind %s %s: refused", c->owner, address);
                else
                        bind(e, d, c->owner);
                break;
        }
        default:
                g_assert_not_reached();
        }
}

/* One writer closed the control file: handle its write, and only its own. Several writes to
 * different files are handled in the order of their close events, which is the order the writer
 * made them — the order the kernel would have handled them in, each write being synchronous. */
static void handle_control(struct kernel_emulator *e, struct control_file *c) {
        char buf[4096];
        g_autofree char *value = NULL;
        ssize_t n;

        if (c->filler > 0) /* hanging: the writer is still blocked, nothing of it arrived */
                return;
        while ((n = read(c->fd, buf, sizeof(buf))) > 0)
                g_string_append_len(c->pending, buf, n);
        value = take_written_value(c->pending);
        if (!value)
                return;

        switch (c->kind) {
        case CONTROL_REMOVE: {
                struct emulated_device *d = find_device(e, c->owner);
                if (strcmp(value, "1") == 0 && !d->removed)
                        remove_device(e, d);
                break;
        }
        case CONTROL_DEV_RESCAN:
                if (strcmp(value, "1") == 0) {
                        journal(e, "rescan below %s", c->owner);
                        rescan(e, find_device(e, c->owner)->syspath);
                }
                break;
        case CONTROL_BUS_RESCAN:
                if (strcmp(value, "1") == 0) {
                        journal(e, "rescan");
                        rescan(e, NULL);
                }
                break;
        default:
                handle_address_write(e, c, value);
        }
}

static struct control_file *control_by_path(struct kernel_emulator *e, const char *path) {
        for (guint i = 0; i < e->controls->len; i++) {
                struct control_file *c = g_ptr_array_index(e->controls, i);
                if (strcmp(c->path, path) == 0)
                        return c;
        }
        return NULL;
}

static struct emulated_device *device_by_dir(struct kernel_emulator *e, const char *dir) {
        for (guint i = 0; i < e->devices->len; i++) {
                struct emulated_device *d = g_ptr_array_index(e->devices, i);
                g_autofree char *full = real_path(e, d->syspath);
                if (strcmp(full, dir) == 0)
                        return d;
        }
        return NULL;
}

static void handle_override(struct kernel_emulator *e, struct emulated_device *d) {
        g_autofree char *path = g_strdup_printf("%s%s/driver_override", e->root, d->syspath);
        g_autofree char *override = read_override(e, d);
        g_autofree char *shown = g_strdup_printf("%s\n", override ?: "(null)");
        g_autofree char *current = NULL;

        g_file_get_contents(path, &current, NULL, NULL);
        if (g_strcmp0(current, shown) == 0)
                return;
        replace_file(path, shown);
        journal(e, "override %s %s", d->tree->address, override ?: "(null)");

        if (d->override_hook) {
                void (*hook)(gpointer) = d->override_hook;
                d->override_hook = NULL;
                hook(d->override_hook_data);
        }
        if (d->rebind_on_override) {
                g_autofree char *driver = g_steal_pointer(&d->rebind_on_override);
                journal(e, "another program rebinds %s to %s", d->tree->address, driver);
                unbind(e, d);
                bind(e, d, driver);
        }
}

static void handle_inotify(struct kernel_emulator *e) {
        char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t n = read(e->inotify_fd, buf, sizeof(buf));

        for (char *p = buf; n > 0 && p < buf + n;) {
                const struct inotify_event *ev = (const struct inotify_event *) p;
                const char *dir = g_hash_table_lookup(e->watches, GINT_TO_POINTER(ev->wd));
                g_autofree char *path = NULL;
                struct control_file *c;

                p += sizeof(*ev) + ev->len;
                if (!dir || ev->len == 0)
                        continue;
                path = g_build_filename(dir, ev->name, NULL);
                c = control_by_path(e, path);
                if (c)
                        handle_control(e, c);
                else if (strcmp(ev->name, "driver_override") == 0) {
                        struct emulated_device *d = device_by_dir(e, dir);
                        if (d)
                                handle_override(e, d);
                }
        }
}

static gpointer emulator_thread(gpointer data) {
        struct kernel_emulator *e = data;

        for (;;) {
                g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(struct pollfd));
                struct pollfd p = { .events = POLLIN };

                g_mutex_lock(&e->lock);
                if (e->stopping) {
                        g_mutex_unlock(&e->lock);
                        return NULL;
                }
                p.fd = e->wake_fd;
                g_array_append_val(fds, p);
                p.fd = e->inotify_fd;
                g_array_append_val(fds, p);
                e->busy = FALSE;
                g_mutex_unlock(&e->lock);

                if (poll((struct pollfd *) fds->data, fds->len, -1) < 0) {
                        g_assert_cmpint(errno, ==, EINTR);
                        continue;
                }

                g_mutex_lock(&e->lock);
                e->busy = TRUE;
                if (g_array_index(fds, struct pollfd, 0).revents) {
                        guint64 v;
                        (void) !read(e->wake_fd, &v, sizeof(v));
                }
                if (g_array_index(fds, struct pollfd, 1).revents)
                        handle_inotify(e);
                g_mutex_unlock(&e->lock);
        }
}

static void wake(struct kernel_emulator *e) {
        guint64 one = 1;
        (void) !write(e->wake_fd, &one, sizeof(one));
}

/* --- set-up ----------------------------------------------------------------------------------- */

static void add_device_controls(struct kernel_emulator *e, struct emulated_device *d) {
        g_autofree char *remove = g_strdup_printf("%s/remove", d->syspath);
        g_autofree char *rescan_path = g_strdup_printf("%s/rescan", d->syspath);

        add_control(e, CONTROL_REMOVE, d->tree->address, remove);
        add_control(e, CONTROL_DEV_RESCAN, d->tree->address, rescan_path);
        watch_dir(e, d->syspath);
}

static void emulated_device_free(gpointer p) {
        struct emulated_device *d = p;
        g_free(d->syspath);
        g_free(d->host_driver);
        g_free(d->rebind_on_override);
        g_free(d);
}

struct kernel_emulator *kernel_emulator_new(UMockdevTestbed *testbed, gboolean cdev_kernel) {
        struct kernel_emulator *e = g_new0(struct kernel_emulator, 1);
        g_autofree char *drivers_dir = NULL;
        g_autofree char *vfio_dir = NULL;
        g_autoptr(GDir) dir = NULL;
        const char *name;

        e->testbed = g_object_ref(testbed);
        e->root = umockdev_testbed_get_root_dir(testbed);
        e->cdev_kernel = cdev_kernel;
        g_mutex_init(&e->lock);
        e->devices = g_ptr_array_new_with_free_func(emulated_device_free);
        e->controls = g_ptr_array_new_with_free_func(control_file_free);
        e->watches = g_hash_table_new_full(NULL, NULL, NULL, g_free);
        e->stash = g_ptr_array_new_with_free_func(g_free);
        e->journal = g_string_new(NULL);
        e->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        e->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        g_assert_cmpint(e->wake_fd, >=, 0);
        g_assert_cmpint(e->inotify_fd, >=, 0);

        add_control(e, CONTROL_PROBE, NULL, "/sys/bus/pci/drivers_probe");
        add_control(e, CONTROL_BUS_RESCAN, NULL, "/sys/bus/pci/rescan");
        watch_dir(e, "/sys/bus/pci");

        drivers_dir = real_path(e, "/sys/bus/pci/drivers");
        dir = g_dir_open(drivers_dir, 0, NULL);
        g_assert_nonnull(dir);
        while ((name = g_dir_read_name(dir)))
                add_driver_controls(e, name);

        for (size_t i = 0; i < fake_pci_tree_size; i++) {
                struct emulated_device *d = g_new0(struct emulated_device, 1);
                d->tree = &fake_pci_tree[i];
                d->syspath = fake_pci_device_syspath(d->tree->address);
                d->host_driver = g_strdup(d->tree->driver);
                d->cdev_index = -1;
                g_ptr_array_add(e->devices, d);
                add_device_controls(e, d);
        }

        /* The vfio module's own nodes, there whenever vfio is loaded. */
        vfio_dir = real_path(e, "/sys/devices/virtual/vfio");
        g_assert_cmpint(g_mkdir_with_parents(vfio_dir, 0755), ==, 0);
        g_clear_pointer(&vfio_dir, g_free);
        vfio_dir = real_path(e, "/sys/class/vfio");
        g_assert_cmpint(g_mkdir_with_parents(vfio_dir, 0755), ==, 0);
        make_node(e->root, "vfio/vfio", 0666, VFIO_MISC_MAJOR, 0);
        if (cdev_kernel) {
                g_autofree char *devices = real_path(e, "/dev/vfio/devices");
                make_node(e->root, "iommu", 0660, VFIO_MISC_MAJOR, 1);
                g_assert_cmpint(g_mkdir_with_parents(devices, 0755), ==, 0);
        }

        e->thread = g_thread_new("kernel-emulator", emulator_thread, e);
        return e;
}

void kernel_emulator_free(struct kernel_emulator *e) {
        if (!e)
                return;
        kernel_emulator_release_all(e);
        kernel_emulator_settle(e);
        g_mutex_lock(&e->lock);
        e->stopping = TRUE;
        g_mutex_unlock(&e->lock);
        wake(e);
        g_thread_join(e->thread);

        g_ptr_array_unref(e->controls);
        g_ptr_array_unref(e->devices);
        g_ptr_array_unref(e->stash);
        g_hash_table_unref(e->watches);
        g_string_free(e->journal, TRUE);
        close(e->wake_fd);
        close(e->inotify_fd);
        g_free(e->root);
        g_object_unref(e->testbed);
        g_mutex_clear(&e->lock);
        g_free(e);
}

/* --- hostile modes ---------------------------------------------------------------------------- */

static struct control_file *find_control(struct kernel_emulator *e, enum control_kind kind, const char *owner) {
        for (guint i = 0; i < e->controls->len; i++) {
                struct control_file *c = g_ptr_array_index(e->controls, i);
                if (c->kind == kind && g_strcmp0(c->owner, owner) == 0)
                        return c;
        }
        g_error("emulator: no control file for %s", owner);
}

/* The writer must block in write(), not in open(): umockdev's preload holds one process-wide
 * lock across every wrapped open(), so a writer stuck there would freeze all threads of the
 * daemon — which the real kernel does not do. A full pipe blocks write() and nothing else. */
void kernel_emulator_hang_unbind(struct kernel_emulator *e, const char *driver) {
        static const char filler[4096] = { 0 };

        g_mutex_lock(&e->lock);
        {
                struct control_file *c = find_control(e, CONTROL_UNBIND, driver);
                ssize_t n;

                while ((n = write(c->fd, filler, sizeof(filler))) > 0)
                        c->filler += n;
                /* Smaller than a page may still fit; fill to the last byte. */
                while ((n = write(c->fd, filler, 1)) > 0)
                        c->filler += n;
                g_assert_cmpint(errno, ==, EAGAIN);
                journal(e, "hang unbind %s", driver);
        }
        g_mutex_unlock(&e->lock);
        wake(e);
}

static void release(struct kernel_emulator *e, struct control_file *c) {
        char buf[4096];

        if (c->filler == 0)
                return;
        /* Take the filler out; a blocked writer's bytes queue behind it, and its write returns. */
        while (c->filler > 0) {
                ssize_t n = read(c->fd, buf, MIN(sizeof(buf), c->filler));
                g_assert_cmpint(n, >, 0);
                c->filler -= n;
        }
        journal(e, "release unbind %s", c->owner);
}

void kernel_emulator_release_unbind(struct kernel_emulator *e, const char *driver) {
        g_mutex_lock(&e->lock);
        release(e, find_control(e, CONTROL_UNBIND, driver));
        g_mutex_unlock(&e->lock);
        wake(e);
}

void kernel_emulator_release_all(struct kernel_emulator *e) {
        g_mutex_lock(&e->lock);
        for (guint i = 0; i < e->controls->len; i++)
                release(e, g_ptr_array_index(e->controls, i));
        g_mutex_unlock(&e->lock);
        wake(e);
}

void kernel_emulator_fail_probes(struct kernel_emulator *e, const char *address, unsigned n) {
        g_mutex_lock(&e->lock);
        find_device(e, address)->failing_probes = n;
        g_mutex_unlock(&e->lock);
}

void kernel_emulator_set_host_driver(struct kernel_emulator *e, const char *address, const char *driver) {
        struct emulated_device *d;

        g_mutex_lock(&e->lock);
        d = find_device(e, address);
        g_free(d->host_driver);
        d->host_driver = g_strdup(driver);
        if (driver && !driver_loaded(e, driver)) {
                g_autofree char *dir = g_strdup_printf("%s/sys/bus/pci/drivers/%s", e->root, driver);
                g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
                add_driver_controls(e, driver);
        }
        g_mutex_unlock(&e->lock);
        wake(e);
}

void kernel_emulator_on_override(struct kernel_emulator *e, const char *address, void (*hook)(gpointer data),
                                  gpointer data) {
        struct emulated_device *d;

        g_mutex_lock(&e->lock);
        d = find_device(e, address);
        d->override_hook = hook;
        d->override_hook_data = data;
        g_mutex_unlock(&e->lock);
}

void kernel_emulator_rebind_on_override(struct kernel_emulator *e, const char *address, const char *driver) {
        struct emulated_device *d;

        g_mutex_lock(&e->lock);
        d = find_device(e, address);
        g_free(d->rebind_on_override);
        d->rebind_on_override = g_strdup(driver);
        if (!driver_loaded(e, driver)) {
                g_autofree char *dir = g_strdup_printf("%s/sys/bus/pci/drivers/%s", e->root, driver);
                g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
                add_driver_controls(e, driver);
        }
        g_mutex_unlock(&e->lock);
}

void kernel_emulator_renumber_group_node(struct kernel_emulator *e, int group, unsigned minor) {
        g_autofree char *devname = g_strdup_printf("vfio/%d", group);

        g_mutex_lock(&e->lock);
        make_node(e->root, devname, 0600, VFIO_GROUP_MAJOR, minor);
        journal(e, "renumber /dev/vfio/%d %u:%u", group, VFIO_GROUP_MAJOR, minor);
        g_mutex_unlock(&e->lock);
}

void kernel_emulator_udev_reset_node(struct kernel_emulator *e, int group) {
        g_autofree char *node = g_strdup_printf("%s/dev/vfio/%d", e->root, group);
        g_autofree char *syspath = g_strdup_printf(VFIO_CLASS_DIR "/%d", group);

        g_mutex_lock(&e->lock);
        g_assert_cmpint(lchown(node, 0, 0), ==, 0);
        g_assert_cmpint(chmod(node, 0600), ==, 0);
        journal(e, "udev reset /dev/vfio/%d", group);
        uevent(e, syspath, "change");
        g_mutex_unlock(&e->lock);
}

char *kernel_emulator_journal(struct kernel_emulator *e) {
        char *s;
        g_mutex_lock(&e->lock);
        s = g_strdup(e->journal->str);
        g_mutex_unlock(&e->lock);
        return s;
}

int kernel_emulator_journal_find(struct kernel_emulator *e, const char *needle) {
        g_autofree char *text = kernel_emulator_journal(e);
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

        for (int i = 0; lines[i]; i++)
                if (strstr(lines[i], needle))
                        return i;
        return -1;
}

static gboolean pending(int fd) {
        int n = 0;
        return fd >= 0 && ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

void kernel_emulator_settle(struct kernel_emulator *e) {
        gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

        while (g_get_monotonic_time() < deadline) {
                gboolean idle;

                g_mutex_lock(&e->lock);
                idle = !e->busy && !pending(e->inotify_fd);
                for (guint i = 0; idle && i < e->controls->len; i++) {
                        struct control_file *c = g_ptr_array_index(e->controls, i);
                        /* A hanging control's pipe is full of filler on purpose. */
                        idle = c->filler > 0 || !pending(c->fd);
                }
                g_mutex_unlock(&e->lock);
                if (idle)
                        return;
                g_usleep(2000);
        }
}
