/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Deep enough for anything the client prints (show nests three levels); going deeper is a bug
 * the writer reports rather than a reason to allocate. */
#define JSON_MAX_DEPTH 16

/* A streaming JSON writer that indents by two spaces, one member or element per line, so the
 * output reads well and diffs well. It keeps the first error and ignores calls after it;
 * json_writer_finish() reports it. Not thread-safe; one writer per output. */
struct json_writer {
        FILE *f;
        unsigned depth;
        bool has_items[JSON_MAX_DEPTH]; /* whether the container at each depth has a member yet */
        bool after_key;                 /* the next value completes a "key": pair */
        int error;                      /* first negative errno, 0 while all is well */
        bool compact;                   /* all on one line: one document per line, for streams */
};

void json_writer_init(struct json_writer *w, FILE *f);
void json_writer_init_compact(struct json_writer *w, FILE *f);

void json_begin_object(struct json_writer *w);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w);
void json_end_array(struct json_writer *w);

/* Starts an object member; the next call writes its value. */
void json_key(struct json_writer *w, const char *key);

/* Writes a string; NULL writes null. Non-ASCII bytes pass through unchanged: the input is
 * expected to be UTF-8, which D-Bus guarantees for every string it carries. */
void json_string(struct json_writer *w, const char *s);
void json_int(struct json_writer *w, int64_t value);
void json_uint(struct json_writer *w, uint64_t value);
void json_bool(struct json_writer *w, bool value);
void json_null(struct json_writer *w);

/* Writes a NULL-terminated string array; NULL writes []. */
void json_string_array(struct json_writer *w, char *const *strings);

/* Ends the document with a newline. Returns 0, or a negative errno when the document was
 * malformed (unbalanced or too deep) or could not be written. */
int json_writer_finish(struct json_writer *w);
