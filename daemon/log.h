/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <syslog.h>

#include "macro.h"

/* Writes one line to stderr. Under systemd stderr is a journal stream, and a "<N>" prefix sets
 * the line's priority there; on a terminal the prefix would only be noise. */
void log_full(int priority, const char *format, ...) _printf_(2, 3);

/* Logs and returns the negative errno, so callers can 'return log_error_errno(r, ...)'. */
int log_full_errno(int priority, int error, const char *format, ...) _printf_(3, 4);

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, error, __VA_ARGS__)
