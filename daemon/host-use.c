/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host-use.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-use-internal.h"
#include "strv.h"
#include "sysfs.h"
#include "vfio-viability.h"

bool sysfs_path_is_below(const char *path, const char *top) {
        size_t n = strlen(top);
        return strncmp(path, top, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

int host_use_add(struct host_use_view *view, const char *syspath, char *reason) {
        _cleanup_(freep) char *owned_reason = reason;
        struct host_use *p;
        char *copy;

        if (!reason)
                return -ENOMEM;
        copy = strdup(syspath);
        if (!copy)
                return -ENOMEM;
        p = reallocarray(view->uses, view->n_uses + 1, sizeof(*p));
        if (!p) {
                free(copy);
                return -ENOMEM;
        }
        view->uses = p;
        view->uses[view->n_uses++] = (struct host_use) { .syspath = copy, .reason = TAKE_PTR(owned_reason) };
        return 0;
}

struct host_use_view *host_use_view_free(struct host_use_view *view) {
        if (!view)
                return NULL;
        for (size_t i = 0; i < view->n_uses; i++) {
                free(view->uses[i].syspath);
                free(view->uses[i].reason);
        }
        free(view->uses);
        for (size_t i = 0; i < view->n_blocks; i++) {
                free(view->blocks[i].node);
                strv_free(view->blocks[i].locations);
        }
        free(view->blocks);
        for (size_t i = 0; i < view->n_openers; i++)
                free(view->openers[i].comm);
        free(view->openers);
        free(view);
        return NULL;
}

void host_use_view_freep(struct host_use_view **view) {
        host_use_view_free(*view);
}

int host_use_view_new(struct host_use_view **ret) {
        _cleanup_(host_use_view_freep) struct host_use_view *view = calloc(1, sizeof(*view));
        int r;

        if (!view)
                return -ENOMEM;
        /* Storage first: losing a filesystem is worse than losing a link, and its reason is the
         * one a person recognizes. */
        r = host_use_collect_storage(view);
        if (r < 0)
                return r;
        r = host_use_collect_network(view);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(view);
        return 0;
}

static int check_boot_vga(const struct pci_device *d, char **ret_reason) {
        char path[PATH_MAX];
        int v, r;

        r = pci_device_path(&d->address, "boot_vga", path, sizeof(path));
        if (r < 0)
                return r;
        if (sysfs_read_int(path, &v) < 0 || v != 1)
                return 0;
        *ret_reason = strdup("it is the boot VGA device and drives the console (boot_vga is 1)");
        return *ret_reason ? 1 : -ENOMEM;
}

static int check_bridge(const struct pci_device *d, char **ret_reason) {
        unsigned subclass = (d->class_code >> 8) & 0xff;

        if (!pci_device_is_bridge(d))
                return 0;
        if (subclass == 0x04 || subclass == 0x09) /* PCI-to-PCI, semi-transparent PCI-to-PCI */
                *ret_reason = strdup("it is a PCI bridge; devices below it would lose hotplug and error reporting");
        else if (subclass == 0x00)
                *ret_reason = strdup("it is a host bridge, the link between the processor and the PCI bus");
        else
                (void) strdup_printf(ret_reason, "it is a bridge (class %06x) the platform depends on", d->class_code);
        return *ret_reason ? 1 : -ENOMEM;
}

/* A physical function cannot go while its virtual functions are in use: unbinding the PF's driver
 * disables SR-IOV, which removes every VF, from under its driver or a VM. The VFs sit beside the
 * PF in sysfs, not below it, so they are found through its virtfnN links. */
static int check_virtual_functions(const struct pci_device *d, char **ret_reason) {
        _cleanup_(closedirp) DIR *dir = NULL;
        char path[PATH_MAX];
        struct dirent *de;
        int r;

        r = pci_device_path(&d->address, NULL, path, sizeof(path));
        if (r < 0)
                return r;
        dir = opendir(path);
        while (dir && (de = readdir(dir))) {
                _cleanup_(freep) char *vf_name = NULL, *driver = NULL;
                struct pci_address vf;

                if (strncmp(de->d_name, "virtfn", 6) != 0)
                        continue;
                r = pci_device_path(&d->address, de->d_name, path, sizeof(path));
                if (r < 0)
                        return r;
                if (sysfs_read_link_name(path, &vf_name) < 0 || pci_address_parse(vf_name, &vf) < 0 ||
                    pci_device_read_driver(&vf, &driver) < 0 || !driver)
                        continue;
                if (vfio_driver_is_vfio(driver) || strcmp(driver, "pci-stub") == 0)
                        r = strdup_printf(ret_reason, "its virtual function %s is on %s (passed through)", vf_name,
                                          driver);
                else
                        r = strdup_printf(ret_reason, "its virtual function %s is bound to %s", vf_name, driver);
                return r < 0 ? r : 1;
        }
        return 0;
}

int host_use_find(struct host_use_view *view, const struct pci_device *d, unsigned flags, char **ret_reason) {
        static int (*const device_checks[])(const struct pci_device *, char **) = {
                check_boot_vga,
                check_bridge,
                check_virtual_functions,
        };
        _cleanup_(freep) char *syspath = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(device_checks); i++) {
                r = device_checks[i](d, ret_reason);
                if (r != 0)
                        return r;
        }

        r = pci_device_resolve_syspath(&d->address, &syspath);
        if (r < 0)
                return r;
        for (size_t i = 0; i < view->n_uses; i++)
                if (sysfs_path_is_below(view->uses[i].syspath, syspath)) {
                        *ret_reason = strdup(view->uses[i].reason);
                        return *ret_reason ? 1 : -ENOMEM;
                }

        return host_use_find_openers(view, syspath, flags, ret_reason);
}
