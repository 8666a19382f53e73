/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the mountinfo parser: the daemon reads the mount table of every mount
 * namespace, whose paths and sources containers and users choose. Whatever it accepts must have
 * every field, and unescaping never grows a string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mount-table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct mount_entry m = {};
        char *line, *unescaped;

        line = strndup((const char *) data, size); /* a line ends at a NUL, as getline's does */
        if (!line)
                return 0;
        unescaped = mountinfo_unescape(line, strlen(line));
        if (!unescaped || strlen(unescaped) > strlen(line))
                abort();
        free(unescaped);

        if (mount_entry_parse(line, &m) == 0) {
                if (!m.mount_point || !m.fstype || !m.source || m.namespace_pid != 0)
                        abort();
                mount_entry_done(&m);
        }
        free(line);
        return 0;
}
