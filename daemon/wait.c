/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "wait.h"

#include <time.h>

#include "log.h"

#define FIRST_POLL_INTERVAL_USEC (500)
#define POLL_INTERVAL_USEC (10 * USEC_PER_MSEC)

uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

double msec_since(uint64_t start_usec) {
        return (double) (now_usec() - start_usec) / USEC_PER_MSEC;
}

bool wait_until(bool (*condition)(void *userdata), void *userdata, uint64_t timeout_usec, const char *what) {
        uint64_t start = now_usec(), deadline = start + timeout_usec;
        /* Most conditions hold at once or within a millisecond or two (udev making a node): the
         * first pauses are short, the later ones spare the CPU. */
        uint64_t pause_usec = FIRST_POLL_INTERVAL_USEC;

        for (;;) {
                struct timespec pause = { .tv_nsec = (long) (pause_usec * 1000) };

                if (condition(userdata)) {
                        log_debug("Waited %.1f ms for %s.", msec_since(start), what);
                        return true;
                }
                if (now_usec() >= deadline) {
                        log_debug("Gave up waiting for %s after %.1f ms.", what, msec_since(start));
                        return false;
                }
                nanosleep(&pause, NULL);
                pause_usec = pause_usec * 2 < POLL_INTERVAL_USEC ? pause_usec * 2 : POLL_INTERVAL_USEC;
        }
}
