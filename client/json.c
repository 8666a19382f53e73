/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json.h"

#include <errno.h>
#include <inttypes.h>

void json_writer_init(struct json_writer *w, FILE *f) {
        *w = (struct json_writer) { .f = f };
}

void json_writer_init_compact(struct json_writer *w, FILE *f) {
        *w = (struct json_writer) { .f = f, .compact = true };
}

static void write_indent(struct json_writer *w, unsigned depth) {
        if (w->compact)
                return;
        fputc('\n', w->f);
        for (unsigned i = 0; i < depth; i++)
                fputs("  ", w->f);
}

/* Everything a value needs written before it: nothing after a key, otherwise the separator from
 * the previous sibling and the line break. Returns false when the writer is already broken. */
static bool begin_value(struct json_writer *w) {
        if (w->error < 0)
                return false;
        if (w->after_key) {
                w->after_key = false;
                return true;
        }
        if (w->depth > 0) {
                if (w->has_items[w->depth - 1])
                        fputc(',', w->f);
                w->has_items[w->depth - 1] = true;
                write_indent(w, w->depth);
        }
        return true;
}

static void begin_container(struct json_writer *w, char open) {
        if (!begin_value(w))
                return;
        if (w->depth >= JSON_MAX_DEPTH) {
                w->error = -E2BIG;
                return;
        }
        fputc(open, w->f);
        w->has_items[w->depth++] = false;
}

static void end_container(struct json_writer *w, char close) {
        if (w->error < 0)
                return;
        if (w->depth == 0 || w->after_key) {
                w->error = -EINVAL;
                return;
        }
        w->depth--;
        /* An empty container stays on one line: "[]" rather than "[\n]". */
        if (w->has_items[w->depth])
                write_indent(w, w->depth);
        fputc(close, w->f);
}

void json_begin_object(struct json_writer *w) {
        begin_container(w, '{');
}

void json_end_object(struct json_writer *w) {
        end_container(w, '}');
}

void json_begin_array(struct json_writer *w) {
        begin_container(w, '[');
}

void json_end_array(struct json_writer *w) {
        end_container(w, ']');
}

static void write_escaped(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\b':
                        fputs("\\b", f);
                        break;
                case '\f':
                        fputs("\\f", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                default:
                        /* JSON forbids raw control characters; DEL is legal but escaped too, so
                         * the output never carries bytes a terminal would act on. */
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", (unsigned) *p);
                        else
                                fputc(*p, f);
                }
        fputc('"', f);
}

void json_key(struct json_writer *w, const char *key) {
        if (w->error < 0)
                return;
        if (w->depth == 0 || w->after_key || !key) {
                w->error = -EINVAL;
                return;
        }
        begin_value(w);
        write_escaped(w->f, key);
        fputs(w->compact ? ":" : ": ", w->f);
        w->after_key = true;
}

void json_string(struct json_writer *w, const char *s) {
        if (!s) {
                json_null(w);
                return;
        }
        if (begin_value(w))
                write_escaped(w->f, s);
}

void json_int(struct json_writer *w, int64_t value) {
        if (begin_value(w))
                fprintf(w->f, "%" PRId64, value);
}

void json_uint(struct json_writer *w, uint64_t value) {
        if (begin_value(w))
                fprintf(w->f, "%" PRIu64, value);
}

void json_bool(struct json_writer *w, bool value) {
        if (begin_value(w))
                fputs(value ? "true" : "false", w->f);
}

void json_null(struct json_writer *w) {
        if (begin_value(w))
                fputs("null", w->f);
}

void json_string_array(struct json_writer *w, char *const *strings) {
        json_begin_array(w);
        for (; strings && *strings; strings++)
                json_string(w, *strings);
        json_end_array(w);
}

int json_writer_finish(struct json_writer *w) {
        if (w->error < 0)
                return w->error;
        if (w->depth != 0 || w->after_key)
                return -EINVAL;
        fputc('\n', w->f);
        if (ferror(w->f))
                return -EIO;
        return 0;
}
