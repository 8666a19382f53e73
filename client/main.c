/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "exit-status.h"
#include "log.h"
#include "macro.h"
#include "pager.h"
#include "terminal.h"
#include "verbs.h"
#include "vfio-passthrough-bus.h"

#define PROGRAM "vfio-passthroughctl"

struct verb {
        const char *name;
        const char *arguments; /* for --help */
        const char *summary;   /* for --help */
        int min_args;          /* not counting the verb itself */
        int max_args;
        uint64_t flags;        /* the VFIO_PT_FLAG_* options (--force, --group) it takes */
        verb_function run;
        bool pages;            /* its output can be long: on a terminal it goes through a pager */
};

/* Adding a verb: its function in a verb-*.c file, its prototype in verbs.h, and a row here. */
static const struct verb verbs[] = {
        { "list", "", "List PCI devices with driver and IOMMU group", 0, 0, 0, verb_list, true },
        { "show", "DEVICE", "Show a device, its IOMMU group and whether VFIO can use it", 1, 1, 0, verb_show, true },
        { "detach", "DEVICE [--force] [--group]", "Unbind a device from its host driver, reserve it for vfio-pci", 1, 1,
          VFIO_PT_FLAGS_ALL, verb_detach, false },
        { "attach", "DEVICE [--force] [--group]", "Bind a device to vfio-pci for a virtual machine", 1, 1,
          VFIO_PT_FLAGS_ALL, verb_attach, false },
        { "restore", "DEVICE [--group]", "Give a device back to the driver it had before", 1, 1, VFIO_PT_FLAG_GROUP,
          verb_restore, false },
        { "grant", "DEVICE [USER]", "Give USER (default: you) access to the device's /dev/vfio nodes", 1, 2, 0,
          verb_grant, false },
        { "forget", "DEVICE", "Drop the service's record of a device (administrators)", 1, 1, 0, verb_forget, false },
        { "monitor", "", "Print each change of a device or group as it happens", 0, 0, 0, verb_monitor, false },
};

static void help(void) {
        int width = 0;

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                int w = (int) (strlen(verbs[i].name) + 1 + strlen(verbs[i].arguments));
                if (w > width)
                        width = w;
        }

        printf("Usage: " PROGRAM " [OPTIONS] COMMAND ...\n"
               "\n"
               "Hand PCI devices to virtual machines through VFIO, by asking vfio-passthroughd.\n"
               "\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                int w = (int) strlen(verbs[i].name);
                printf("  %s %-*s  %s\n", verbs[i].name, width - w - 1, verbs[i].arguments, verbs[i].summary);
        }
        printf("\n"
               "DEVICE is a PCI address: DOMAIN:BUS:SLOT.FUNCTION (0000:59:00.0) or BUS:SLOT.FUNCTION\n"
               "(59:00.0) for domain 0000.\n"
               "\n"
               "Options:\n"
               "  -h --help             Show this help and exit\n"
               "     --version          Show the version and exit\n"
               "     --json             Print JSON instead of text, also for errors\n"
               "  -q --quiet            Print nothing on success (detach, attach, restore, grant,\n"
               "                        forget); errors and warnings still go to stderr\n"
               "     --no-pager         Do not pipe long output (list, show) into a pager\n"
               "     --no-ask-password  Do not ask for a password when authentication is needed\n"
               "\n"
               "Command options:\n"
               "     --force            Act even though the host uses the device (detach, attach)\n"
               "     --group            Also act on the other devices of its IOMMU group\n"
               "                        (detach, attach, restore)\n"
               "\n"
               "Exit status:\n"
               "  0  success\n"
               "  1  vfio-passthroughd, the bus or the output failed\n"
               "  2  invalid usage or a malformed PCI address\n"
               "  3  access denied\n"
               "  4  no device at that address\n"
               "  5  not possible now: device busy, group not viable, not on vfio-pci,\n"
               "     or not managed by vfio-passthroughd\n"
               "  6  the operation timed out\n"
               "\n"
               "Environment:\n"
               "  DBUS_SYSTEM_BUS_ADDRESS   Talk to this bus instead of the system bus\n"
               "  COLUMNS                   Fit tables to this width, also when not on a terminal\n"
               "  NO_COLOR                  Set and not empty: no colours\n"
               "  VFIO_PASSTHROUGHCTL_PAGER, PAGER\n"
               "                            The pager on a terminal, split on blanks, no shell;\n"
               "                            \"\" or \"cat\": none (default: less, then more)\n"
               "\n"
               "See vfio-passthroughctl(1).\n");
}

/* A bad command line is InvalidArgument for --json: the name the daemon gives a call it cannot
 * make sense of. (A malformed address has its own, InvalidAddress, see address-argument.c.) */
_printf_(1, 2) static int usage_error(const char *format, ...) {
        _cleanup_(freep) char *message = NULL;
        va_list ap;
        int n;

        va_start(ap, format);
        n = vasprintf(&message, format, ap);
        va_end(ap);
        log_error_hint(VFIO_PT_ERROR_INVALID_ARGUMENT, "Try '" PROGRAM " --help'.", "%s",
                       n >= 0 ? message : format);
        return -EINVAL;
}

/* Whether --json is anywhere among the options, so that even an error in an option before it is
 * reported as JSON. */
static bool wants_json(int argc, char *argv[]) {
        for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
                if (strcmp(argv[i], "--json") == 0)
                        return true;
        return false;
}

/* Returns 1 to run a verb, 0 to exit successfully, -EINVAL on bad usage. */
static int parse_argv(int argc, char *argv[], struct options *options) {
        enum { ARG_VERSION = 0x100, ARG_JSON, ARG_NO_ASK_PASSWORD, ARG_NO_PAGER, ARG_FORCE, ARG_GROUP };
        static const struct option long_options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                { "no-pager", no_argument, NULL, ARG_NO_PAGER },
                { "quiet", no_argument, NULL, 'q' },
                { "force", no_argument, NULL, ARG_FORCE },
                { "group", no_argument, NULL, ARG_GROUP },
                {},
        };
        int opt;

        /* getopt permutes, so options may also follow the verb: "show 59:00.0 --json". That is
         * also how the command options --force and --group are parsed; dispatch() checks that
         * the verb takes them. */
        opterr = 0; /* getopt's messages would name the program by its full path */
        while ((opt = getopt_long(argc, argv, "hq", long_options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf(PROGRAM " %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_JSON:
                        options->json = true;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        options->ask_password = false;
                        break;
                case ARG_NO_PAGER:
                        options->pager = false;
                        break;
                case 'q':
                        options->quiet = true;
                        break;
                case ARG_FORCE:
                        options->operation_flags |= VFIO_PT_FLAG_FORCE;
                        break;
                case ARG_GROUP:
                        options->operation_flags |= VFIO_PT_FLAG_GROUP;
                        break;
                case '?':
                        /* optopt names a bad short option even inside a cluster like "-hx". */
                        if (optopt > 0 && optopt < 0x100)
                                return usage_error("unknown option '-%c'.", optopt);
                        return usage_error("unknown option '%s'.", argv[optind - 1]);
                default:
                        return usage_error("unexpected option '%s'.", argv[optind - 1]);
                }

        if (optind >= argc)
                return usage_error("missing command.");
        return 1;
}

static int dispatch(int argc, char *argv[], const struct options *options, pid_t *ret_pager) {
        const struct verb *verb = NULL;
        int n_args = argc - 1;

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, argv[0]) == 0)
                        verb = &verbs[i];
        if (!verb)
                return usage_error("unknown command '%s'.", argv[0]);
        if (options->operation_flags & VFIO_PT_FLAG_FORCE & ~verb->flags)
                return usage_error("%s does not take --force.", verb->name);
        if (options->operation_flags & VFIO_PT_FLAG_GROUP & ~verb->flags)
                return usage_error("%s does not take --group.", verb->name);
        if (n_args < verb->min_args || n_args > verb->max_args)
                return usage_error("%s arguments; usage: " PROGRAM " %s%s%s", n_args < verb->min_args ? "missing" : "too many",
                                   verb->name, *verb->arguments ? " " : "", verb->arguments);
        if (verb->pages && options->pager) {
                pid_t pager = pager_open();
                if (pager > 0)
                        *ret_pager = pager;
        }
        return verb->run(argc, argv, options);
}

/* The daemon's named errors arrive as the errno values include/bus-errors.c maps them to. */
static int exit_status_from_error(int r) {
        switch (r) {
        case 0:
                return EXIT_STATUS_OK;
        case -EINVAL:
                return EXIT_STATUS_USAGE;
        case -EACCES:
                return EXIT_STATUS_ACCESS_DENIED;
        case -ENODEV:
                return EXIT_STATUS_NO_SUCH_DEVICE;
        case -EBUSY:  /* DeviceBusy */
        case -EXDEV:  /* GroupNotViable */
        case -ENXIO:  /* NotBound */
        case -ENOENT: /* NotManaged */
                return EXIT_STATUS_NOT_POSSIBLE;
        case -ETIMEDOUT:
                return EXIT_STATUS_TIMEOUT;
        default:
                return EXIT_STATUS_FAILED;
        }
}

int main(int argc, char *argv[]) {
        /* The terminal as it is before a pager takes stdout. */
        struct options options = {
                .ask_password = true,
                .pager = true,
                .json = wants_json(argc, argv),
                .columns = terminal_columns(),
                .colors = terminal_colors(),
        };
        pid_t pager = 0;
        int r;

        r = parse_argv(argc, argv, &options);
        if (r > 0)
                r = dispatch(argc - optind, argv + optind, &options, &pager);

        /* Output goes through stdio: a full disk or a closed pipe only shows up here. */
        if (fflush(stdout) != 0 || ferror(stdout)) {
                log_error(NULL, "failed to write the output: %s", strerror(errno > 0 ? errno : EIO));
                if (r >= 0)
                        r = -EIO;
        }
        /* With --json a failure is one object on stdout, in place of the verb's output (the verbs
         * print nothing on stdout once they fail), and the same words on stderr as without. */
        if (r < 0 && options.json) {
                (void) log_write_json_error(stdout, r, exit_status_from_error(r));
                (void) fflush(stdout);
        }
        pager_close(pager);
        return exit_status_from_error(r);
}
