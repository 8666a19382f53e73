/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mount-table.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"

void mount_entry_done(struct mount_entry *m) {
        free(m->mount_point);
        free(m->fstype);
        free(m->source);
        *m = (struct mount_entry) {};
}

void mount_table_done(struct mount_table *t) {
        for (size_t i = 0; i < t->n; i++)
                mount_entry_done(&t->entries[i]);
        free(t->entries);
        *t = (struct mount_table) {};
}

char *mountinfo_unescape(const char *s, size_t n) {
        char *out = malloc(n + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
                    s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
                        *o++ = (char) (((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
                        i += 3;
                } else
                        *o++ = s[i];
        }
        *o = '\0';
        return out;
}

/* Splits off the next space-separated field; NULL at the end of the line. */
static const char *next_field(const char **p, size_t *ret_len) {
        const char *start = *p;

        while (*start == ' ')
                start++;
        if (*start == '\0')
                return NULL;
        *p = start + strcspn(start, " ");
        *ret_len = (size_t) (*p - start);
        return start;
}

int mount_entry_parse(const char *line, struct mount_entry *ret) {
        _cleanup_(mount_entry_done) struct mount_entry m = {};
        const char *p = line, *f, *mount_point = NULL, *fstype, *source;
        size_t len, mount_point_len = 0, fstype_len, source_len;
        char devnum[32];

        /* mount id, parent id, major:minor, root, mount point, options, optional fields..., "-",
         * filesystem type, source, super options */
        for (unsigned i = 0; i < 6; i++) {
                f = next_field(&p, &len);
                if (!f)
                        return -EBADMSG;
                if (i == 2) {
                        if (len >= sizeof(devnum))
                                return -EBADMSG;
                        memcpy(devnum, f, len);
                        devnum[len] = '\0';
                        if (sscanf(devnum, "%u:%u", &m.major, &m.minor) != 2)
                                return -EBADMSG;
                } else if (i == 4) {
                        mount_point = f;
                        mount_point_len = len;
                }
        }
        do {
                f = next_field(&p, &len);
                if (!f)
                        return -EBADMSG;
        } while (!(len == 1 && f[0] == '-'));
        fstype = next_field(&p, &fstype_len);
        source = fstype ? next_field(&p, &source_len) : NULL;
        if (!source)
                return -EBADMSG;

        m.mount_point = mountinfo_unescape(mount_point, mount_point_len);
        m.fstype = mountinfo_unescape(fstype, fstype_len);
        m.source = mountinfo_unescape(source, source_len);
        if (!m.mount_point || !m.fstype || !m.source)
                return -ENOMEM;
        *ret = m;
        m = (struct mount_entry) {};
        return 0;
}

static int table_add(struct mount_table *t, struct mount_entry *m) {
        struct mount_entry *p = reallocarray(t->entries, t->n + 1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        t->entries = p;
        t->entries[t->n++] = *m;
        *m = (struct mount_entry) {};
        return 0;
}

/* Mount ids are unique across namespaces, and the first line of a mountinfo is the root mount of
 * the reader's namespace: the id on it tells namespaces apart without reading ns/mnt, which would
 * need ptrace access to the process. */
struct seen_namespaces {
        unsigned long *ids;
        size_t n;
};

static bool seen_add(struct seen_namespaces *s, unsigned long id) {
        unsigned long *p;

        for (size_t i = 0; i < s->n; i++)
                if (s->ids[i] == id)
                        return false;
        p = reallocarray(s->ids, s->n + 1, sizeof(*p));
        if (!p)
                return true; /* read it again rather than miss it */
        s->ids = p;
        s->ids[s->n++] = id;
        return true;
}

static int read_namespace(const char *path, pid_t label, struct seen_namespaces *seen, struct mount_table *t) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        _cleanup_(freep) char *line = NULL;
        size_t size = 0;
        bool first = true;
        ssize_t n;
        int r;

        /* Gone (ENOENT, ESRCH), not ours to read (EACCES), or without a mount namespace: a
         * kernel thread or a zombie (EINVAL). None of them has mounts to miss. */
        if (!f)
                return errno == ENOMEM ? -ENOMEM : 0;
        while ((n = getline(&line, &size, f)) >= 0) {
                struct mount_entry m;

                if (n > 0 && line[n - 1] == '\n')
                        line[n - 1] = '\0';
                if (first) {
                        unsigned long id;

                        first = false;
                        if (sscanf(line, "%lu", &id) != 1 || !seen_add(seen, id))
                                return 0;
                }
                if (mount_entry_parse(line, &m) < 0)
                        continue;
                m.namespace_pid = label;
                r = table_add(t, &m);
                if (r < 0) {
                        mount_entry_done(&m);
                        return r;
                }
        }
        return 0;
}

static void seen_done(struct seen_namespaces *s) {
        free(s->ids);
}

int mount_table_read(struct mount_table *ret) {
        _cleanup_(seen_done) struct seen_namespaces seen = {};
        _cleanup_(mount_table_done) struct mount_table t = {};
        _cleanup_(closedirp) DIR *proc = NULL;
        pid_t self = getpid();
        struct dirent *de;
        int r;

        r = read_namespace("/proc/self/mountinfo", 0, &seen, &t);
        if (r < 0)
                return r;
        r = read_namespace("/proc/1/mountinfo", 0, &seen, &t);
        if (r < 0)
                return r;

        proc = opendir("/proc");
        while (proc && (de = readdir(proc))) {
                char path[64];
                char *end;
                long pid;

                errno = 0;
                pid = strtol(de->d_name, &end, 10);
                if (errno != 0 || *end != '\0' || pid <= 1 || pid == self || pid > INT32_MAX)
                        continue;
                snprintf(path, sizeof(path), "/proc/%ld/mountinfo", pid);
                r = read_namespace(path, (pid_t) pid, &seen, &t);
                if (r < 0)
                        return r;
        }

        *ret = t;
        t = (struct mount_table) {};
        return 0;
}

static bool path_has_prefix(const char *path, const char *prefix) {
        size_t n = strlen(prefix);

        if (strcmp(prefix, "/") == 0)
                return path[0] == '/';
        return strncmp(path, prefix, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

const struct mount_entry *mount_table_find_path(const struct mount_table *t, const char *path) {
        const struct mount_entry *best = NULL;

        if (path[0] != '/')
                return NULL;
        for (size_t i = 0; i < t->n; i++) {
                const struct mount_entry *m = &t->entries[i];

                if (m->namespace_pid != 0 || !path_has_prefix(path, m->mount_point))
                        continue;
                if (!best || strlen(m->mount_point) >= strlen(best->mount_point))
                        best = m;
        }
        return best;
}
