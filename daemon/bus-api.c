/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bus-objects.h"
#include "bus-operations.h"
#include "bus-util.h"
#include "host-use.h"
#include "iommu-group.h"
#include "log.h"
#include "macro.h"
#include "pci-device.h"
#include "recovery.h"
#include "state.h"
#include "vfio-passthrough-bus.h"
#include "vfio-viability.h"
#include "worker.h"

static int append_entry(sd_bus_message *m, const char *key, const char *type, ...) {
        va_list ap;
        int r;

        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r < 0)
                return r;
        r = sd_bus_message_append_basic(m, 's', key);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'v', type);
        if (r < 0)
                return r;
        va_start(ap, type);
        r = sd_bus_message_appendv(m, type, ap);
        va_end(ap);
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

/* Why the host needs the device, "" when it does not. NULL when that is unknown: no view (it could
 * not be read), or an operation runs on the device's group, when the answer is about to change
 * and some of it cannot be read without blocking. */
static int device_host_use(struct host_use_view *view, const struct pci_device *d, char **ret) {
        int r;

        *ret = NULL;
        if (!view || d->busy)
                return 0;
        r = host_use_find(view, d, 0, ret);
        if (r < 0) {
                log_warning_errno(r, "Could not check whether the host uses %s", d->name);
                return r == -ENOMEM ? r : 0;
        }
        if (r == 0)
                *ret = strdup("");
        return *ret ? 0 : -ENOMEM;
}

/* Optional facts are left out of the dictionary rather than sent as empty strings, so a caller can
 * tell "unknown" from "none". Driver is always present ("" means none); DriverOverride and HostUse
 * too, except while an operation runs on the device's IOMMU group (Busy), when reading them could
 * block. */
/* What the daemon's record says about a device it moved: who owns it, who it is granted to, the
 * driver it came from; or why the record cannot be read. */
static int append_record_entries(sd_bus_message *m, const struct context *c, const struct pci_device *d) {
        _cleanup_(device_record_freep) struct device_record *record = NULL;
        _cleanup_(freep) char *problem = NULL, *path = NULL;
        struct device_ids now;
        int r;

        const char *state_dir = c->state_dir;
        const char *note = recovery_note(c, &d->address);

        if (note) {
                r = append_entry(m, VFIO_PT_KEY_RECOVERY, "s", note);
                if (r < 0)
                        return r;
        }
        r = state_load(state_dir, &d->address, &record, &problem);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                _cleanup_(freep) char *text = NULL;

                (void) state_record_path(state_dir, &d->address, &path);
                if (strdup_printf(&text, "%s: %s", path ?: "the record", problem ?: strerror(-r)) < 0)
                        return -ENOMEM;
                return append_entry(m, VFIO_PT_KEY_RECORD_PROBLEM, "s", text);
        }
        (void) device_ids_read(d, &now);
        if (!device_ids_equal(&now, &record->ids))
                return 0; /* about another device: not this one's, and set aside by the next operation */
        r = append_entry(m, VFIO_PT_KEY_OWNER, "u", (uint32_t) record->owner_uid);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_ORIGINAL_DRIVER, "s", record->original_driver ?: "");
        if (r >= 0 && record->granted)
                r = append_entry(m, VFIO_PT_KEY_GRANTEE, "u", (uint32_t) record->granted_uid);
        if (r >= 0 && record->intent != INTENT_NONE && worker_recovering(c, d->iommu_group, &d->address))
                r = append_entry(m, VFIO_PT_KEY_INTERRUPTED, "s", record_intent_to_string(record->intent));
        return r;
}

static int append_device_entries(sd_bus_message *m, const struct pci_device *d, struct host_use_view *view,
                                 const struct context *c) {
        _cleanup_(freep) char *host_use = NULL;
        int r;

        r = device_host_use(view, d, &host_use);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_ADDRESS, "s", d->name);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_VENDOR_ID, "q", d->vendor_id);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_DEVICE_ID, "q", d->device_id);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_SUBSYSTEM_VENDOR_ID, "q", d->subsystem_vendor_id);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_SUBSYSTEM_DEVICE_ID, "q", d->subsystem_device_id);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_CLASS, "u", d->class_code);
        if (r >= 0 && d->vendor_name)
                r = append_entry(m, VFIO_PT_KEY_VENDOR_NAME, "s", d->vendor_name);
        if (r >= 0 && d->device_name)
                r = append_entry(m, VFIO_PT_KEY_DEVICE_NAME, "s", d->device_name);
        if (r >= 0 && d->class_name)
                r = append_entry(m, VFIO_PT_KEY_CLASS_NAME, "s", d->class_name);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_DRIVER, "s", d->driver ?: "");
        if (r >= 0 && !d->busy)
                r = append_entry(m, VFIO_PT_KEY_DRIVER_OVERRIDE, "s", d->driver_override ?: "");
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_BUSY, "b", d->busy);
        if (r >= 0 && host_use)
                r = append_entry(m, VFIO_PT_KEY_HOST_USE, "s", host_use);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_IOMMU_GROUP, "i", d->iommu_group);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_NUMA_NODE, "i", d->numa_node);
        if (r >= 0)
                r = append_record_entries(m, c, d);
        return r;
}

static int append_device(sd_bus_message *m, const struct pci_device *d, struct host_use_view *view,
                         const struct context *c) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        r = append_device_entries(m, d, view, c);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

static int append_group_member(sd_bus_message *m, const struct pci_device *d, struct host_use_view *view,
                               const struct context *c) {
        const char *reason;
        bool ready;
        int r;

        ready = vfio_driver_allows_group(d->driver, &reason);
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        r = append_device_entries(m, d, view, c);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_VFIO_READY, "b", ready);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_VFIO_NOTE, "s", reason);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

/* What the host uses, read once per call. A failure only leaves HostUse out of the reply. */
static struct host_use_view *read_host_use(void) {
        struct host_use_view *view = NULL;
        int r;

        r = host_use_view_new(&view);
        if (r < 0)
                log_warning_errno(r, "Could not read what the host uses");
        return view;
}

/* Read-only calls are logged at debug level only: any user may make them, and at info level a
 * flood of them would push journald into rate-limiting and hide the lines of privileged calls. */
static void log_call(sd_bus_message *m, const char *what) {
        uid_t uid;

        if (bus_message_caller_uid(m, &uid) >= 0)
                log_debug("%s called by uid %u (%s).", sd_bus_message_get_member(m), (unsigned) uid, what);
        else
                log_debug("%s called by unknown uid (%s).", sd_bus_message_get_member(m), what);
}

static int set_no_such_device(sd_bus_error *error, const struct pci_address *a) {
        char name[PCI_ADDRESS_STRING_MAX];

        return sd_bus_error_setf(error, VFIO_PT_ERROR_NO_SUCH_DEVICE,
                                 "No PCI device at %s.",
                                 pci_address_format(a, name));
}

static int method_list_devices(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) struct pci_address *addresses = NULL;
        _cleanup_(host_use_view_freep) struct host_use_view *view = NULL;
        struct context *c = userdata;
        size_t n;
        int r;

        log_call(m, "all devices");

        r = pci_device_enumerate(&addresses, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to enumerate PCI devices");

        view = read_host_use();
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(pci_device_freep) struct pci_device *d = NULL;

                r = pci_device_load(&c->reader, &addresses[i], &d);
                if (r == -ENODEV) /* hot-unplugged while we listed */
                        continue;
                if (r < 0) {
                        char name[PCI_ADDRESS_STRING_MAX];
                        return log_error_errno(r, "Failed to read PCI device %s",
                                               pci_address_format(&addresses[i], name));
                }
                r = append_device(reply, d, view, c);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_describe_device(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(iommu_group_freep) struct iommu_group *group = NULL;
        _cleanup_(pci_device_freep) struct pci_device *d = NULL;
        _cleanup_(host_use_view_freep) struct host_use_view *view = NULL;
        struct context *c = userdata;
        struct pci_address address;
        char shown[64];
        const char *text;
        int r;

        r = sd_bus_message_read(m, "s", &text);
        if (r < 0)
                return r;
        log_call(m, bus_printable_argument(text, shown, sizeof(shown)));

        r = bus_parse_address(text, &address, error);
        if (r < 0)
                return r;

        r = pci_device_load(&c->reader, &address, &d);
        if (r == -ENODEV)
                return set_no_such_device(error, &address);
        if (r < 0)
                return log_error_errno(r, "Failed to read PCI device %s", shown);

        if (d->iommu_group >= 0) {
                r = iommu_group_load(&c->reader, d->iommu_group, &group);
                if (r < 0 && r != -ENODEV)
                        return log_error_errno(r, "Failed to read IOMMU group %d", d->iommu_group);
        }

        view = read_host_use();
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = append_device(reply, d, view, c);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "ib", d->iommu_group, group ? iommu_group_viable(group) : false);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        if (r < 0)
                return r;
        for (size_t i = 0; group && i < group->n_members; i++) {
                r = append_group_member(reply, group->members[i], view, c);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static const sd_bus_vtable vfio_pt_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        /* Everyone may call: reading needs no authorization, and the privileged methods decide for
         * themselves (authorize.h), so sd-bus' own CAP_SYS_ADMIN check must stay out of the way. */
        SD_BUS_METHOD_WITH_ARGS("ListDevices",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("aa{sv}", devices),
                                method_list_devices,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DescribeDevice",
                                SD_BUS_ARGS("s", address),
                                SD_BUS_RESULT("a{sv}", device, "i", iommu_group, "b", group_viable,
                                              "aa{sv}", group_members),
                                method_describe_device,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Detach",
                                SD_BUS_ARGS("s", address, "t", flags),
                                SD_BUS_RESULT("s", previous_driver),
                                method_detach,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Attach",
                                SD_BUS_ARGS("s", address, "t", flags),
                                SD_BUS_RESULT("s", group_node, "b", group_viable, "as", moved),
                                method_attach,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Restore",
                                SD_BUS_ARGS("s", address, "t", flags),
                                SD_BUS_RESULT("s", driver, "as", restored),
                                method_restore,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Grant",
                                SD_BUS_ARGS("s", address, "s", user, "t", flags),
                                SD_BUS_RESULT("s", group_node, "u", uid, "as", nodes, "t", memlock_limit,
                                              "t", memlock_minimum),
                                method_grant,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Forget",
                                SD_BUS_ARGS("s", address, "t", flags),
                                SD_BUS_NO_RESULT,
                                method_forget,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("DeviceChanged",
                                SD_BUS_ARGS("s", address, "s", action, "s", driver),
                                0),
        SD_BUS_VTABLE_END,
};

int bus_api_register(struct context *c) {
        int r;

        r = sd_bus_add_object_vtable(c->bus, &c->vtable_slot, VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE,
                                     vfio_pt_vtable, c);
        if (r < 0)
                return log_error_errno(r, "Failed to register the object vtable");
        return bus_objects_register(c);
}

int bus_api_emit_device_changed(struct context *c, const char *address, const char *action, const char *driver) {
        return sd_bus_emit_signal(c->bus, VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE, "DeviceChanged", "sss",
                                  address, action, driver ?: "");
}
