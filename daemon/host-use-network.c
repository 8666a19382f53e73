/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Network interfaces the host uses: up, or carrying a default route. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-use-internal.h"
#include "strv.h"
#include "sysfs.h"

/* Interfaces with an IPv4 default route: destination and mask 0 in /proc/net/route. */
static int add_ipv4_default_routes(char ***interfaces) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/net/route", "re");
        char line[512];

        while (f && fgets(line, sizeof(line), f)) {
                char name[IF_NAMESIZE + 1];
                unsigned long destination, gateway, flags, refcnt, use, metric, mask;
                int r;

                if (sscanf(line, "%16s %lx %lx %lx %lu %lu %lu %lx", name, &destination, &gateway, &flags, &refcnt,
                           &use, &metric, &mask) != 8)
                        continue; /* the header */
                if (destination != 0 || mask != 0 || strv_contains(*interfaces, name))
                        continue;
                r = strv_push(interfaces, name);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* And IPv6: ::/0 in /proc/net/ipv6_route, whose last field is the interface. */
static int add_ipv6_default_routes(char ***interfaces) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/net/ipv6_route", "re");
        char line[512];

        while (f && fgets(line, sizeof(line), f)) {
                char destination[33], prefix[3], name[IF_NAMESIZE + 1];
                int r;

                if (sscanf(line, "%32s %2s %*s %*s %*s %*s %*s %*s %*s %16s", destination, prefix, name) != 3)
                        continue;
                if (strspn(destination, "0") != 32 || strcmp(prefix, "00") != 0 || strcmp(name, "lo") == 0 ||
                    strv_contains(*interfaces, name))
                        continue;
                r = strv_push(interfaces, name);
                if (r < 0)
                        return r;
        }
        return 0;
}

int host_use_collect_network(struct host_use_view *view) {
        _cleanup_(strv_freep) char **routed = NULL;
        _cleanup_(closedirp) DIR *dir = opendir("/sys/class/net");
        struct dirent *de;
        int r;

        if (!dir)
                return errno == ENOENT ? 0 : negative_errno();
        r = add_ipv4_default_routes(&routed);
        if (r >= 0)
                r = add_ipv6_default_routes(&routed);
        if (r < 0)
                return r;

        while ((de = readdir(dir))) {
                _cleanup_(freep) char *device = NULL;
                char path[PATH_MAX], *reason = NULL;
                uint32_t flags = 0;

                if (de->d_name[0] == '.' || strlen(de->d_name) >= IF_NAMESIZE)
                        continue;
                snprintf(path, sizeof(path), "/sys/class/net/%s/device", de->d_name);
                device = realpath(path, NULL);
                if (!device)
                        continue; /* virtual: lo, bridges, tunnels */

                snprintf(path, sizeof(path), "/sys/class/net/%s/flags", de->d_name);
                (void) sysfs_read_hex(path, &flags);
                if (flags & IFF_UP)
                        r = strdup_printf(&reason, "its network interface %s is up", de->d_name);
                else if (strv_contains(routed, de->d_name))
                        r = strdup_printf(&reason, "its network interface %s carries the default route",
                                          de->d_name);
                else
                        continue;
                if (r >= 0)
                        r = host_use_add(view, device, reason);
                if (r < 0)
                        return r;
        }
        return 0;
}
