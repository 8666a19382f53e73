/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <libudev.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus-api.h"
#include "bus-errors.h"
#include "context.h"
#include "crash-point.h"
#include "device-model.h"
#include "hwdb-names.h"
#include "log.h"
#include "macro.h"
#include "polkit.h"
#include "reconcile.h"
#include "thread-job.h"
#include "udev-watch.h"
#include "vfio-passthrough-bus.h"
#include "wait.h"
#include "worker.h"

#define DEFAULT_STATE_DIR RUNSTATEDIR "/vfio-passthroughd"
#define DEFAULT_OPERATION_TIMEOUT_SEC 10U
/* A day: long enough for anything the kernel does, short enough not to overflow. */
#define MAX_OPERATION_TIMEOUT_SEC 86400UL
/* The longest one kernel step (an unbind, a probe, udev making a node) is waited for. */
#define SETTLE_MAX_USEC (5 * USEC_PER_SEC)

static void help(void) {
        printf("Usage: vfio-passthroughd [OPTIONS]\n"
               "\n"
               "System service that moves PCI devices between their host drivers and vfio-pci\n"
               "on behalf of unprivileged callers, over D-Bus as %s.\n"
               "It is normally started by D-Bus activation, not by hand.\n"
               "\n"
               "Options:\n"
               "  -h --help                  Show this help and exit\n"
               "     --version               Show the version and exit\n"
               "     --state-dir=DIR         Keep the record of moved devices in DIR\n"
               "                             (default: %s)\n"
               "     --operation-timeout=SEC Answer Error.Timeout when a privileged operation\n"
               "                             takes longer (default: %u)\n"
               "     --kmod-dir=DIR          Load vfio-pci from this module directory\n"
               "                             (default: the running kernel's)\n"
               "     --list-crash-points     List the points between two steps of an operation\n"
               "                             where the tests kill the daemon, and exit\n"
               "\n"
               "Environment:\n"
               "  DBUS_SYSTEM_BUS_ADDRESS   Connect to this bus instead of the system bus\n"
               "  VFIO_PASSTHROUGHD_DEBUG   Log debug messages too\n"
               "  VFIO_PASSTHROUGHD_CRASH_AT=POINT\n"
               "                            Kill the daemon (SIGKILL) at that crash point;\n"
               "                            for testing recovery\n"
               "\n"
               "See vfio-passthroughd(8).\n",
               VFIO_PT_BUS_NAME, DEFAULT_STATE_DIR, DEFAULT_OPERATION_TIMEOUT_SEC);
}

static int parse_timeout(const char *text, uint64_t *ret) {
        unsigned long v;
        char *end;

        errno = 0;
        v = strtoul(text, &end, 10);
        if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v == 0 || v > MAX_OPERATION_TIMEOUT_SEC)
                return -EINVAL;
        *ret = (uint64_t) v * USEC_PER_SEC;
        return 0;
}

/* Returns 1 to run, 0 to exit successfully, negative errno on bad usage. */
static int parse_argv(int argc, char *argv[], struct context *c) {
        enum { ARG_VERSION = 0x100, ARG_STATE_DIR, ARG_OPERATION_TIMEOUT, ARG_KMOD_DIR, ARG_LIST_CRASH_POINTS };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "operation-timeout", required_argument, NULL, ARG_OPERATION_TIMEOUT },
                { "kmod-dir", required_argument, NULL, ARG_KMOD_DIR },
                { "list-crash-points", no_argument, NULL, ARG_LIST_CRASH_POINTS },
                {},
        };
        int opt;

        c->state_dir = DEFAULT_STATE_DIR;
        c->operation_timeout_usec = DEFAULT_OPERATION_TIMEOUT_SEC * USEC_PER_SEC;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("vfio-passthroughd %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_STATE_DIR:
                        if (optarg[0] != '/') {
                                fprintf(stderr, "--state-dir needs an absolute path.\n");
                                return -EINVAL;
                        }
                        c->state_dir = optarg;
                        break;
                case ARG_OPERATION_TIMEOUT:
                        if (parse_timeout(optarg, &c->operation_timeout_usec) < 0) {
                                fprintf(stderr, "--operation-timeout needs whole seconds between 1 and %lu.\n",
                                        MAX_OPERATION_TIMEOUT_SEC);
                                return -EINVAL;
                        }
                        break;
                case ARG_KMOD_DIR:
                        if (optarg[0] != '/') {
                                fprintf(stderr, "--kmod-dir needs an absolute path.\n");
                                return -EINVAL;
                        }
                        c->kmod_dir = optarg;
                        break;
                case ARG_LIST_CRASH_POINTS:
                        crash_points_print(stdout);
                        return 0;
                default:
                        return -EINVAL;
                }

        if (optind < argc) {
                fprintf(stderr, "vfio-passthroughd takes no arguments; see --help.\n");
                return -EINVAL;
        }
        c->settle_usec = c->operation_timeout_usec / 2 < SETTLE_MAX_USEC ? c->operation_timeout_usec / 2
                                                                         : SETTLE_MAX_USEC;
        return 1;
}

static bool reader_group_busy(int iommu_group, void *userdata) {
        return worker_group_busy(userdata, iommu_group);
}

static int on_terminate(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        struct context *c = userdata;

        log_info("Received %s; stopping.", si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        return worker_stop(c);
}

static int context_setup(struct context *c) {
        sigset_t mask;
        int r;

        r = sd_event_default(&c->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop");

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(negative_errno(), "Failed to block signals");
        r = sd_event_add_signal(c->event, NULL, SIGTERM, on_terminate, c);
        if (r >= 0)
                r = sd_event_add_signal(c->event, NULL, SIGINT, on_terminate, c);
        if (r < 0)
                return log_error_errno(r, "Failed to handle termination signals");

        c->udev = udev_new();
        if (!c->udev)
                return log_error_errno(-ENOMEM, "Failed to allocate a udev context");
        r = hwdb_names_new(c->udev, &c->names);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the device name cache");
        c->reader = (struct pci_reader) {
                .names = c->names,
                .group_busy = reader_group_busy,
                .userdata = c,
        };

        r = sd_bus_error_add_map(vfio_pt_error_map);
        if (r < 0)
                return log_error_errno(r, "Failed to register error names");

        /* Honours DBUS_SYSTEM_BUS_ADDRESS, which is how the tests point the daemon at a private bus. */
        r = sd_bus_open_system(&c->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus");
        c->polkit = polkit_registry_new();
        if (!c->polkit)
                return log_error_errno(-ENOMEM, "Failed to allocate the polkit registry");
        r = bus_api_register(c);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(c->bus, c->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop");
        r = sd_bus_set_exit_on_disconnect(c->bus, true);
        if (r < 0)
                return log_error_errno(r, "Failed to arrange exit on bus disconnect");

        r = worker_setup(c);
        if (r < 0)
                return r;
        r = thread_jobs_setup(c);
        if (r < 0)
                return r;
        r = udev_watch_start(c);
        if (r < 0)
                return r;
        /* What a previous run moved: log it, make its grants true again, and queue the recovery of
         * what it left half done. */
        reconcile_state(c);
        /* The Device and Group objects, read once now and kept true from here on. */
        r = device_model_start(c);
        if (r < 0)
                return r;

        /* Last: once the name is ours, callers may arrive, so everything must be ready. */
        r = sd_bus_request_name(c->bus, VFIO_PT_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire the bus name %s", VFIO_PT_BUS_NAME);
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(context_done) struct context c = CONTEXT_INIT;
        int r;

        r = parse_argv(argc, argv, &c);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        r = context_setup(&c);
        if (r < 0)
                return EXIT_FAILURE;

        log_info("vfio-passthroughd %s running as %s.", PACKAGE_VERSION, VFIO_PT_BUS_NAME);
        r = sd_event_loop(c.event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed"), EXIT_FAILURE;
        log_info("vfio-passthroughd stopping.");
        return EXIT_SUCCESS;
}
