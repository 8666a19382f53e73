/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A test that hangs fails on its own, naming itself and showing what it waited for, long before
 * meson's timeout for the whole program (which valgrind's run multiplies): without it one hang
 * costs the suite most of an hour and says nothing about where. */

/* Called from the watchdog's thread once the hang is reported, before every process below the
 * test is killed: says more, to stdout, as TAP comments. */
typedef void (*test_watchdog_report_func)(void *userdata);

/* Arms the watchdog for the test now starting (re-arming replaces the last deadline). */
void test_watchdog_arm(unsigned seconds, test_watchdog_report_func report, void *userdata);
void test_watchdog_disarm(void);

/* For report functions: prints the last lines of a file as TAP comments. */
void test_watchdog_print_tail(const char *title, const char *path, unsigned lines);
