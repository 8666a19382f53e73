/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* grant: hand a device's VFIO nodes to a user, so that an unprivileged QEMU can open them. */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "address-argument.h"
#include "bus-call.h"
#include "json.h"
#include "log.h"
#include "macro.h"
#include "operation-call.h"
#include "strv.h"
#include "verbs.h"

struct grant_result {
        const char *group_node;
        uint32_t uid;
        char **nodes; /* every node granted, the group node included */
        uint64_t memlock_limit;   /* the caller's RLIMIT_MEMLOCK; UINT64_MAX: unlimited or unknown */
        uint64_t memlock_minimum; /* below this, the daemon says, a VM with VFIO fails to start */
};

static void grant_result_done(struct grant_result *g) {
        strv_free(g->nodes);
}

static int read_grant(sd_bus_message *reply, struct grant_result *ret) {
        int r;

        r = sd_bus_message_read(reply, "u", &ret->uid);
        if (r >= 0)
                r = sd_bus_message_read_strv(reply, &ret->nodes);
        /* The group node comes first. */
        if (r >= 0)
                ret->group_node = ret->nodes && ret->nodes[0] ? ret->nodes[0] : "";
        if (r >= 0)
                r = sd_bus_message_read(reply, "tt", &ret->memlock_limit, &ret->memlock_minimum);
        return r;
}

static int print_json(const char *address, const struct grant_result *g) {
        struct json_writer w;

        json_writer_init(&w, stdout);
        json_begin_object(&w);
        json_key(&w, "address");
        json_string(&w, address);
        json_key(&w, "group_node");
        json_string(&w, g->group_node);
        json_key(&w, "uid");
        json_int(&w, g->uid);
        json_key(&w, "nodes");
        json_string_array(&w, g->nodes);
        /* null: unlimited, or the daemon could not tell. */
        json_key(&w, "memlock_limit");
        if (g->memlock_limit == UINT64_MAX)
                json_null(&w);
        else
                json_uint(&w, g->memlock_limit);
        json_key(&w, "memlock_minimum");
        json_uint(&w, g->memlock_minimum);
        json_end_object(&w);
        return json_writer_finish(&w);
}

/* "alice (uid 1000) may now use /dev/vfio/6, /dev/vfio/devices/vfio0 and /dev/iommu". The name
 * is looked up here, for the reader only: the daemon decided by uid. */
static void print_text(const struct grant_result *g) {
        struct passwd *pw = getpwuid(g->uid);

        if (pw && pw->pw_name)
                printf("%s (uid %u) may now use ", pw->pw_name, (unsigned) g->uid);
        else
                printf("uid %u may now use ", (unsigned) g->uid);
        if (g->nodes && g->nodes[0])
                strv_print_joined(stdout, g->nodes);
        else
                fputs(g->group_node, stdout);
        putchar('\n');
}

/* On stderr, also with --quiet: the grant worked, but the VM will not start. */
static void warn_memlock(const struct grant_result *g) {
        if (g->memlock_limit >= g->memlock_minimum)
                return;
        /* Let the line before reach a shared terminal first. */
        fflush(stdout);
        fprintf(stderr,
                "vfio-passthroughctl: warning: your locked-memory limit is %" PRIu64 " KiB; a VM using "
                "VFIO locks all its RAM and will fail to start. Raise it (ulimit -l, LimitMEMLOCK= or "
                "/etc/security/limits.conf) above the VM's memory size.\n",
                g->memlock_limit / 1024);
}

int verb_grant(int argc, char *argv[], const struct options *options) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(grant_result_done) struct grant_result result = {};
        char address[PCI_ADDRESS_STRING_MAX];
        int r;

        r = address_argument_parse(argv[1], address);
        if (r < 0)
                return r;
        r = bus_connect(&bus);
        if (r < 0)
                return r;

        /* No USER: "", which the daemon reads as the caller, by the uid the bus reports. */
        r = operation_call(bus, options, "Grant", address, argc > 2 ? argv[2] : "", &reply);
        if (r < 0)
                return r;
        r = read_grant(reply, &result);
        if (r < 0)
                return bus_log_parse_error(r);

        if (options->json && !options->quiet) {
                r = print_json(address, &result);
                if (r < 0 && !ferror(stdout))
                        log_error(NULL, "failed to print the result: %s", strerror(-r));
                return r < 0 ? -EIO : 0;
        }
        if (!options->quiet)
                print_text(&result);
        warn_memlock(&result);
        return 0;
}
