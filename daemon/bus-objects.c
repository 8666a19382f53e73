/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-objects.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "bus-operations.h"
#include "bus-path.h"
#include "device-model.h"
#include "log.h"
#include "macro.h"
#include "strv.h"
#include "vfio-passthrough-bus.h"

/* --- finding objects ---------------------------------------------------------------------------- */

static int find_device(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                       sd_bus_error *error) {
        struct context *c = userdata;
        const struct device_state *s;
        struct pci_address a;

        if (bus_device_path_parse(path, &a) < 0)
                return 0;
        s = device_model_find(c, &a);
        if (!s)
                return 0;
        *found = (void *) s;
        return 1;
}

static int find_group(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                      sd_bus_error *error) {
        struct context *c = userdata;
        const struct group_state *g;
        int id;

        if (bus_group_path_parse(path, &id) < 0)
                return 0;
        g = device_model_find_group(c, id);
        if (!g)
                return 0;
        *found = (void *) g;
        return 1;
}

static int enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes, sd_bus_error *error) {
        return device_model_paths(userdata, nodes);
}

/* --- properties --------------------------------------------------------------------------------- */

static int get_nodes(sd_bus *bus, const char *path, const char *interface, const char *property,
                     sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const struct device_state *s = userdata;
        return sd_bus_message_append_strv(reply, s->nodes);
}

static int get_members(sd_bus *bus, const char *path, const char *interface, const char *property,
                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const struct group_state *g = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "o");
        STRV_FOREACH(m, g->members)
                if (r >= 0)
                        r = sd_bus_message_append(reply, "o", *m);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int get_blockers(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const struct group_state *g = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(os)");
        for (size_t i = 0; r >= 0 && g->blocker_paths[i]; i++)
                r = sd_bus_message_append(reply, "(os)", g->blocker_paths[i], g->blocker_reasons[i]);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

/* --- methods ------------------------------------------------------------------------------------ */

/* The options of a Device method: "force" and "group" (booleans) and, for Grant, "user" (a
 * string), where the method knows them. An unknown key, or one of the wrong type, is refused
 * rather than ignored. */
static int read_options(sd_bus_message *m, enum operation_kind kind, uint64_t *ret_flags, const char **ret_user,
                        sd_bus_error *error) {
        const char *user = NULL;
        uint64_t flags = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;
                uint64_t bit;
                int value;

                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (streq_ptr(key, "user") && kind == OPERATION_GRANT) {
                        r = sd_bus_message_read(m, "v", "s", &user);
                        if (r < 0)
                                return sd_bus_error_setf(error, VFIO_PT_ERROR_INVALID_ARGUMENT,
                                                         "The option 'user' is a string.");
                        r = sd_bus_message_exit_container(m);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (streq_ptr(key, "force") && (kind == OPERATION_DETACH || kind == OPERATION_ATTACH))
                        bit = VFIO_PT_FLAG_FORCE;
                else if (streq_ptr(key, "group") && kind != OPERATION_FORGET)
                        bit = VFIO_PT_FLAG_GROUP;
                else
                        return sd_bus_error_setf(error, VFIO_PT_ERROR_INVALID_ARGUMENT,
                                                 "%s takes no option '%s'.", operation_kind_to_string(kind),
                                                 key);
                r = sd_bus_message_read(m, "v", "b", &value);
                if (r < 0)
                        return sd_bus_error_setf(error, VFIO_PT_ERROR_INVALID_ARGUMENT,
                                                 "The option '%s' is a boolean.", key);
                if (value)
                        flags |= bit;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret_flags = flags;
        *ret_user = user ?: "";
        return 0;
}

static int device_method(sd_bus_message *m, void *userdata, sd_bus_error *error, enum operation_kind kind) {
        const struct device_state *s = userdata;
        struct context *c = s->context;
        const char *user = NULL; /* set on success; -O3 cannot see it */
        uint64_t flags = 0;
        int r;

        r = read_options(m, kind, &flags, &user, error);
        if (r < 0)
                return r;
        return bus_operation_start(m, c, kind, s->name, kind == OPERATION_GRANT ? user : NULL, flags, true, error);
}

static int method_device_detach(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return device_method(m, userdata, error, OPERATION_DETACH);
}

static int method_device_attach(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return device_method(m, userdata, error, OPERATION_ATTACH);
}

static int method_device_restore(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return device_method(m, userdata, error, OPERATION_RESTORE);
}

static int method_device_grant(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return device_method(m, userdata, error, OPERATION_GRANT);
}

static int method_device_forget(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return device_method(m, userdata, error, OPERATION_FORGET);
}

/* Reads the device and the rest of its group again now, for what nothing announces (a mount in
 * another mount namespace, a driver_override written by another tool), announces the changes,
 * then replies: a caller that reads the properties after the reply sees them as they are. */
static int method_device_refresh(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const struct device_state *s = userdata;
        struct context *c = s->context;
        struct pci_address address = s->address;

        /* The refresh may replace s: nothing of it is used after this point. */
        device_model_refresh_device(c, &address);
        return sd_bus_reply_method_return(m, NULL);
}

/* --- vtables ------------------------------------------------------------------------------------ */

#define CONST SD_BUS_VTABLE_PROPERTY_CONST
#define CHANGES SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
#define DEVICE_FIELD(name, type, field, flags) \
        SD_BUS_PROPERTY(name, type, NULL, offsetof(struct device_state, field), flags)

static const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        DEVICE_FIELD("Address", "s", address_text, CONST),
        DEVICE_FIELD("VendorId", "q", vendor_id, CONST),
        DEVICE_FIELD("DeviceId", "q", device_id, CONST),
        DEVICE_FIELD("SubsystemVendorId", "q", subsystem_vendor_id, CONST),
        DEVICE_FIELD("SubsystemDeviceId", "q", subsystem_device_id, CONST),
        DEVICE_FIELD("Class", "u", class_code, CONST),
        DEVICE_FIELD("VendorName", "s", vendor_name, CONST),
        DEVICE_FIELD("DeviceName", "s", device_name, CONST),
        DEVICE_FIELD("ClassName", "s", class_name, CONST),
        DEVICE_FIELD("NumaNode", "i", numa_node, CONST),
        DEVICE_FIELD("Driver", "s", driver, CHANGES),
        DEVICE_FIELD("DriverOverride", "s", driver_override, CHANGES),
        DEVICE_FIELD("IommuGroup", "o", group_path, CHANGES),
        DEVICE_FIELD("Busy", "b", busy, CHANGES),
        DEVICE_FIELD("HostUse", "s", host_use, CHANGES),
        DEVICE_FIELD("Managed", "b", managed, CHANGES),
        DEVICE_FIELD("OriginalDriver", "s", original_driver, CHANGES),
        DEVICE_FIELD("Owner", "u", owner, CHANGES),
        DEVICE_FIELD("Grantee", "u", grantee, CHANGES),
        SD_BUS_PROPERTY("Nodes", "as", get_nodes, 0, CHANGES),
        DEVICE_FIELD("Interrupted", "s", interrupted, CHANGES),
        DEVICE_FIELD("Recovery", "s", recovery, CHANGES),
        DEVICE_FIELD("RecordProblem", "s", record_problem, CHANGES),
        DEVICE_FIELD("VfioReady", "b", vfio_ready, CHANGES),
        DEVICE_FIELD("VfioNote", "s", vfio_note, CHANGES),
        /* Everyone may call; the methods ask polkit themselves (authorize.h). */
        SD_BUS_METHOD_WITH_ARGS("Detach",
                                SD_BUS_ARGS("a{sv}", options),
                                SD_BUS_RESULT("s", previous_driver),
                                method_device_detach,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Attach",
                                SD_BUS_ARGS("a{sv}", options),
                                SD_BUS_RESULT("o", group, "b", group_viable, "ao", moved),
                                method_device_attach,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Restore",
                                SD_BUS_ARGS("a{sv}", options),
                                SD_BUS_RESULT("s", driver, "ao", restored),
                                method_device_restore,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Grant",
                                SD_BUS_ARGS("a{sv}", options),
                                SD_BUS_RESULT("u", uid, "as", nodes, "t", memlock_limit, "t", memlock_minimum),
                                method_device_grant,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Forget",
                                SD_BUS_ARGS("a{sv}", options),
                                SD_BUS_NO_RESULT,
                                method_device_forget,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Refresh",
                                SD_BUS_NO_ARGS,
                                SD_BUS_NO_RESULT,
                                method_device_refresh,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable group_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "i", NULL, offsetof(struct group_state, id), CONST),
        SD_BUS_PROPERTY("Viable", "b", NULL, offsetof(struct group_state, viable), CHANGES),
        SD_BUS_PROPERTY("Members", "ao", get_members, 0, CHANGES),
        SD_BUS_PROPERTY("Blockers", "a(os)", get_blockers, 0, CHANGES),
        SD_BUS_PROPERTY("Node", "s", NULL, offsetof(struct group_state, node), CHANGES),
        SD_BUS_VTABLE_END,
};

int bus_objects_register(struct context *c) {
        int r;

        r = sd_bus_add_object_manager(c->bus, &c->object_slots[0], VFIO_PT_OBJECT_PATH);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(c->bus, &c->object_slots[1], VFIO_PT_OBJECT_PATH, enumerate, c);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(c->bus, &c->object_slots[2], VFIO_PT_DEVICES_PATH,
                                               VFIO_PT_DEVICE_INTERFACE, device_vtable, find_device, c);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(c->bus, &c->object_slots[3], VFIO_PT_GROUPS_PATH,
                                               VFIO_PT_GROUP_INTERFACE, group_vtable, find_group, c);
        if (r < 0)
                return log_error_errno(r, "Failed to register the device and group objects");
        return 0;
}

void bus_objects_unregister(struct context *c) {
        for (size_t i = 0; i < ELEMENTSOF(c->object_slots); i++)
                c->object_slots[i] = sd_bus_slot_unref(c->object_slots[i]);
}
