/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "module-loader.h"

#include <errno.h>
#include <libkmod.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>

#include "log.h"
#include "macro.h"
#include "sysfs.h"
#include "wait.h"

#define VFIO_PCI_MODULE "vfio-pci"
#define VFIO_PCI_MODULE_NAME "vfio_pci" /* as modprobe@ and the blacklist spell it */
#define VFIO_PCI_DRIVER_DIR SYSFS_PCI_DRIVERS "/vfio-pci"

static bool driver_registered(void *userdata) {
        struct stat st;
        return stat(VFIO_PCI_DRIVER_DIR, &st) >= 0;
}

static void kmod_unrefp(struct kmod_ctx **ctx) {
        if (*ctx)
                kmod_unref(*ctx);
}

static void kmod_module_unref_listp(struct kmod_list **list) {
        if (*list)
                kmod_module_unref_list(*list);
}

static void kmod_module_unrefp(struct kmod_module **module) {
        if (*module)
                kmod_module_unref(*module);
}

static int not_available(char **ret_message, const char *format, ...) _printf_(2, 3);
static int not_available(char **ret_message, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(ret_message, format, ap);
        va_end(ap);
        if (r < 0) {
                *ret_message = NULL;
                return -ENOMEM;
        }
        return -ENOPKG;
}

/* Under systemd the daemon may not load modules itself (the unit has ProtectKernelModules= and no
 * CAP_SYS_MODULE): systemd's modprobe@.service does it, started like any unit. Returns 0 when
 * the job was queued, a negative errno when there is no systemd to ask. */
static int start_modprobe_unit(void) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        /* A connection of this thread's own: the daemon's is the main loop's. */
        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "StartUnit", &error, &reply, "ss",
                               "modprobe@" VFIO_PCI_MODULE_NAME ".service", "replace");
        if (r < 0) {
                log_debug("Could not have systemd load %s: %s", VFIO_PCI_MODULE_NAME, error.message ?: strerror(-r));
                return r;
        }
        log_info("Asked systemd to load the vfio-pci kernel module (modprobe@" VFIO_PCI_MODULE_NAME ".service).");
        return 0;
}

/* Whether modprobe.d blacklists the module: its configuration is readable where the module
 * directory is not (ProtectKernelModules=). */
static bool module_blacklisted(const char *kmod_dir) {
        _cleanup_(kmod_unrefp) struct kmod_ctx *ctx = kmod_new(kmod_dir, NULL);
        struct kmod_config_iter *iter;
        bool found = false;

        if (!ctx || !(iter = kmod_config_get_blacklists(ctx)))
                return false;
        while (!found && kmod_config_iter_next(iter))
                found = strcmp(kmod_config_iter_get_key(iter), VFIO_PCI_MODULE_NAME) == 0;
        kmod_config_iter_free_iter(iter);
        return found;
}

static int blacklisted(char **ret_message) {
        return not_available(ret_message,
                             "The vfio-pci kernel module is blacklisted (a 'blacklist vfio_pci' line in "
                             "/etc/modprobe.d or /usr/lib/modprobe.d). Remove that line, then try again.");
}

static int load_module(const char *kmod_dir, char **ret_message) {
        _cleanup_(kmod_unrefp) struct kmod_ctx *ctx = NULL;
        _cleanup_(kmod_module_unref_listp) struct kmod_list *list = NULL;
        _cleanup_(kmod_module_unrefp) struct kmod_module *module = NULL;
        int r;

        ctx = kmod_new(kmod_dir, NULL);
        if (!ctx)
                return -ENOMEM;
        r = kmod_module_new_from_lookup(ctx, VFIO_PCI_MODULE, &list);
        if (r < 0 || !list)
                return not_available(ret_message,
                                     "The vfio-pci kernel module was not found in %s. Install the kernel's "
                                     "modules package (or build the kernel with CONFIG_VFIO_PCI), then try again.",
                                     kmod_dir ?: "the running kernel's module directory");
        module = kmod_module_get_module(list);

        r = kmod_module_probe_insert_module(module, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL, NULL, NULL);
        if (r == KMOD_PROBE_APPLY_BLACKLIST)
                return blacklisted(ret_message);
        if (r < 0)
                return not_available(ret_message,
                                     "Loading the vfio-pci kernel module failed: %s. 'dmesg' may say why; "
                                     "'modprobe vfio-pci' as root shows the same error.",
                                     strerror(-r));
        log_info("Loaded the vfio-pci kernel module.");
        return 0;
}

int vfio_pci_driver_ensure(const char *kmod_dir, uint64_t wait_usec, char **ret_message) {
        int r;

        /* Loading is only ever attempted when the driver is missing: on a test bed the real module
         * directory would hold the real vfio-pci, and loading it there would touch the real host. */
        if (driver_registered(NULL))
                return 0;
        if (module_blacklisted(kmod_dir))
                return blacklisted(ret_message);

        /* systemd's modprobe@ first (a given --kmod-dir means a test's module tree: libkmod); without
         * systemd (started through the bus's Exec=), libkmod. */
        r = kmod_dir ? -EOPNOTSUPP : start_modprobe_unit();
        if (r < 0)
                r = load_module(kmod_dir, ret_message);
        if (r < 0)
                return r;
        if (!wait_until(driver_registered, NULL, wait_usec, "vfio-pci's driver to register"))
                return not_available(ret_message,
                                     "vfio-pci's driver did not appear in " SYSFS_PCI_DRIVERS " after loading the "
                                     "module. Check 'dmesg' and 'journalctl -u modprobe@" VFIO_PCI_MODULE_NAME "'.");
        return 0;
}
