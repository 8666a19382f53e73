/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _nonnull_ __attribute__((nonnull))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)

static inline void freep(void *p) {
        free(*(void **) p);
}

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved_errno = errno;
                close(*fd);
                errno = saved_errno;
        }
}

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* Hands ownership of a pointer to the caller: the cleanup of the local sees NULL. */
#define TAKE_PTR(p)                                  \
        ({                                           \
                __typeof__(p) _taken_ = (p);         \
                (p) = NULL;                          \
                _taken_;                             \
        })

#define TAKE_FD(fd)                                  \
        ({                                           \
                int _taken_fd_ = (fd);               \
                (fd) = -1;                           \
                _taken_fd_;                          \
        })

static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

static inline int streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        for (; *a && *a == *b; a++, b++)
                ;
        return *a == *b;
}

/* strdup() that copies NULL as NULL. */
static inline int strdup_or_null(const char *s, char **ret) {
        *ret = s ? strdup(s) : NULL;
        return !s || *ret ? 0 : -ENOMEM;
}

/* asprintf() that leaves *ret NULL when it fails (glibc leaves it undefined, which a cleanup
 * attribute would then free). Returns 0 or -ENOMEM. */
_printf_(2, 3) static inline int strdup_printf(char **ret, const char *format, ...) {
        va_list ap;
        int n;

        va_start(ap, format);
        n = vasprintf(ret, format, ap);
        va_end(ap);
        if (n < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}
