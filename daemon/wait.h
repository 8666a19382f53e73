/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)

uint64_t now_usec(void);
/* Milliseconds since start_usec (a now_usec() reading), for the debug log's timings. */
double msec_since(uint64_t start_usec);

/* Polls condition until it holds or timeout_usec passed; returns whether it held. For the worker
 * threads only: the kernel (or udev) finishes some steps asynchronously — a /dev node appears
 * when udev is done, a driver registers after module init — and sysfs offers no notification
 * for them. what names the wait in the debug log, with how long it took. */
bool wait_until(bool (*condition)(void *userdata), void *userdata, uint64_t timeout_usec, const char *what);
