/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "wait.h"

#include <time.h>

#define POLL_INTERVAL_USEC (10 * USEC_PER_MSEC)

uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

bool wait_until(bool (*condition)(void *userdata), void *userdata, uint64_t timeout_usec) {
        uint64_t deadline = now_usec() + timeout_usec;

        for (;;) {
                struct timespec pause = { .tv_nsec = POLL_INTERVAL_USEC * 1000 };

                if (condition(userdata))
                        return true;
                if (now_usec() >= deadline)
                        return false;
                nanosleep(&pause, NULL);
        }
}
