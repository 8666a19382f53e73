/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bus-objects.h"
#include "bus-operations.h"
#include "bus-util.h"
#include "device-model.h"
#include "log.h"
#include "macro.h"
#include "vfio-passthrough-bus.h"

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

/* The reply dictionaries are the Device objects' facts (device-model.h), so a read costs no
 * sysfs access. Optional facts are left out rather than sent as empty strings, so a caller can
 * tell "unknown" from "none". Driver is always present ("" means none); DriverOverride and
 * HostUse too, except while an operation runs on the device's IOMMU group (Busy), when what was
 * last read may be stale. */
static int append_device_entries(sd_bus_message *m, const struct device_state *s) {
        int r;

        r = append_entry(m, VFIO_PT_KEY_ADDRESS, "s", s->name);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_VENDOR_ID, "q", s->vendor_id);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_DEVICE_ID, "q", s->device_id);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_SUBSYSTEM_VENDOR_ID, "q", s->subsystem_vendor_id);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_SUBSYSTEM_DEVICE_ID, "q", s->subsystem_device_id);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_CLASS, "u", s->class_code);
        if (r >= 0 && s->vendor_name[0])
                r = append_entry(m, VFIO_PT_KEY_VENDOR_NAME, "s", s->vendor_name);
        if (r >= 0 && s->device_name[0])
                r = append_entry(m, VFIO_PT_KEY_DEVICE_NAME, "s", s->device_name);
        if (r >= 0 && s->class_name[0])
                r = append_entry(m, VFIO_PT_KEY_CLASS_NAME, "s", s->class_name);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_DRIVER, "s", s->driver);
        if (r >= 0 && !s->busy)
                r = append_entry(m, VFIO_PT_KEY_DRIVER_OVERRIDE, "s", s->driver_override);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_BUSY, "b", s->busy);
        if (r >= 0 && !s->busy)
                r = append_entry(m, VFIO_PT_KEY_HOST_USE, "s", s->host_use);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_IOMMU_GROUP, "i", s->iommu_group);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_NUMA_NODE, "i", s->numa_node);
        if (r >= 0 && s->recovery[0])
                r = append_entry(m, VFIO_PT_KEY_RECOVERY, "s", s->recovery);
        if (r >= 0 && s->record_problem[0])
                r = append_entry(m, VFIO_PT_KEY_RECORD_PROBLEM, "s", s->record_problem);
        if (!s->managed || r < 0)
                return r;
        /* What the daemon's record says about a device it moved. */
        r = append_entry(m, VFIO_PT_KEY_OWNER, "u", s->owner);
        if (r >= 0)
                r = append_entry(m, VFIO_PT_KEY_ORIGINAL_DRIVER, "s", s->original_driver);
        if (r >= 0 && s->grantee != VFIO_PT_NO_UID)
                r = append_entry(m, VFIO_PT_KEY_GRANTEE, "u", s->grantee);
        if (r >= 0 && s->interrupted[0])
                r = append_entry(m, VFIO_PT_KEY_INTERRUPTED, "s", s->interrupted);
        return r;
}

static int append_device(sd_bus_message *m, const struct device_state *s, bool with_vfio_readiness) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        r = append_device_entries(m, s);
        if (r >= 0 && with_vfio_readiness)
                r = append_entry(m, VFIO_PT_KEY_VFIO_READY, "b", s->vfio_ready);
        if (r >= 0 && with_vfio_readiness)
                r = append_entry(m, VFIO_PT_KEY_VFIO_NOTE, "s", s->vfio_note);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
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

/* Whatever was announced and not yet refreshed is refreshed first: a caller never reads an
 * answer older than a signal it already saw. */
static int method_list_devices(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct context *c = userdata;
        const struct device_state *const *devices;
        size_t n;
        int r;

        log_call(m, "all devices");
        device_model_refresh_now(c);

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        if (r < 0)
                return r;
        devices = device_model_devices(c, &n);
        for (size_t i = 0; i < n; i++) {
                r = append_device(reply, devices[i], false);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* One device is read again now, with the rest of its group and what the host uses, as the Device
 * object's Refresh() does: the answer includes what nothing announces (a mount in another mount
 * namespace). */
static int method_describe_device(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct context *c = userdata;
        const struct device_state *device, *const *devices;
        const struct group_state *group;
        struct pci_address address;
        char shown[64];
        const char *text;
        size_t n;
        int r;

        r = sd_bus_message_read(m, "s", &text);
        if (r < 0)
                return r;
        log_call(m, bus_printable_argument(text, shown, sizeof(shown)));

        r = bus_parse_address(text, &address, error);
        if (r < 0)
                return r;

        device_model_refresh_device(c, &address);
        device = device_model_find(c, &address);
        if (!device)
                return set_no_such_device(error, &address);
        group = device_model_find_group(c, device->iommu_group);

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = append_device(reply, device, false);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "ib", device->iommu_group, group ? group->viable : false);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        if (r < 0)
                return r;
        devices = device_model_devices(c, &n);
        for (size_t i = 0; group && i < n; i++) {
                if (devices[i]->iommu_group != group->id)
                        continue;
                r = append_device(reply, devices[i], true);
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
