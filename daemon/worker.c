/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "worker.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "device-model.h"
#include "vfio-passthrough-bus.h"
#include "log.h"
#include "wait.h"

/* After SIGTERM, how long running operations get to finish before the daemon leaves them. Well
 * below the unit's TimeoutStopSec=, which a stop must meet even with a write stuck in the kernel:
 * that write is made by a child process (sysfs-write.h) that the daemon does not wait for. */
#define STOP_GRACE_USEC (3 * USEC_PER_SEC)

static bool operations_conflict(const struct operation *a, const struct operation *b) {
        if (a->iommu_group >= 0 && a->iommu_group == b->iommu_group)
                return true;
        return pci_address_equal(&a->address, &b->address);
}

static void *worker_thread(void *userdata) {
        struct operation *op = userdata;
        ssize_t n;

        operation_run(op);
        /* A pointer is far below PIPE_BUF, so the write is atomic. */
        do
                n = write(op->completion_fd, &op, sizeof(op));
        while (n < 0 && errno == EINTR);
        if (n != sizeof(op))
                log_error("Worker could not report the end of %s on %s.", operation_kind_to_string(op->kind),
                          op->name);
        return NULL;
}

/* Busy changes when an operation is queued or leaves the queue, and what it did changes the
 * rest. */
static void operation_touched(struct context *c, const struct operation *op) {
        if (op->iommu_group >= 0)
                device_model_invalidate_group(c, op->iommu_group);
        else
                device_model_invalidate(c, &op->address);
}

static void unlink_operation(struct context *c, struct operation *op) {
        operation_touched(c, op);
        for (struct operation **p = &c->operations; *p; p = &(*p)->next)
                if (*p == op) {
                        *p = op->next;
                        op->next = NULL;
                        return;
                }
}

static int start(struct context *c, struct operation *op) {
        int r;

        r = pthread_create(&op->thread, NULL, worker_thread, op);
        if (r != 0)
                return -r;
        op->running = true;
        op->started_usec = now_usec();
        log_debug("%s of %s started.", operation_kind_to_string(op->kind), op->name);
        return 0;
}

/* Answers the requester now, if it wants an answer before the end. */
_printf_(3, 4) static void answer_early(struct operation *op, int error, const char *format, ...) {
        _cleanup_(freep) char *message = NULL;
        va_list ap;

        if (!op->requester->answer_early)
                return;
        va_start(ap, format);
        if (vasprintf(&message, format, ap) < 0)
                message = NULL;
        va_end(ap);
        op->requester->answer_early(op, error, message ?: "The operation could not be completed.");
        op->replied = true;
}

/* Starts every queued operation that no earlier one (running or queued) blocks: FIFO per group. */
static void start_ready(struct context *c) {
        struct operation *next;

        if (c->stopping)
                return;
        for (struct operation *op = c->operations; op; op = next) {
                bool blocked = false;
                int r;

                next = op->next;
                if (op->running)
                        continue;
                for (struct operation *earlier = c->operations; earlier != op; earlier = earlier->next)
                        if (operations_conflict(earlier, op)) {
                                blocked = true;
                                break;
                        }
                if (blocked)
                        continue;
                r = start(c, op);
                if (r < 0) {
                        log_error_errno(r, "Could not start a worker thread");
                        answer_early(op, r, "Could not start a worker thread: %s. Try again.", strerror(-r));
                        unlink_operation(c, op);
                        operation_free(op);
                }
        }
}

static double msec_between(uint64_t from, uint64_t to) {
        return from && to >= from ? (double) (to - from) / USEC_PER_MSEC : 0.0;
}

/* One line that says where an operation's time went; the steps' own lines say the rest. */
static void log_timing(const struct operation *op) {
        uint64_t now = now_usec();

        log_debug("%s of %s took %.1f ms: authorization %.1f ms, waiting for its group %.1f ms, work %.1f ms.",
                  operation_kind_to_string(op->kind), op->name, msec_between(op->called_usec ?: op->started_usec, now),
                  msec_between(op->called_usec, op->authorized_usec),
                  msec_between(op->authorized_usec, op->started_usec), msec_between(op->started_usec, now));
}

static void finish(struct context *c, struct operation *op) {
        int r;

        r = pthread_join(op->thread, NULL);
        if (r != 0)
                log_warning_errno(-r, "Could not join a worker thread");
        op->running = false;
        op->timeout_source = sd_event_source_disable_unref(op->timeout_source);
        log_timing(op);

        if (!op->replied)
                op->requester->finished(op);
        else if (op->error_name)
                /* The caller heard "Timeout"; the log has the real end. */
                log_warning("%s of %s finished after its caller was told it timed out: %s (%s)",
                            operation_kind_to_string(op->kind), op->name, op->error_message ?: "",
                            op->error_name);
        else
                log_notice("%s of %s finished after its caller was told it timed out; it succeeded.",
                           operation_kind_to_string(op->kind), op->name);

        unlink_operation(c, op);
        operation_free(op);
}

static bool any_running(struct context *c) {
        for (struct operation *op = c->operations; op; op = op->next)
                if (op->running)
                        return true;
        return false;
}

static int on_completion(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct context *c = userdata;

        for (;;) {
                struct operation *op;
                ssize_t n = read(fd, &op, sizeof(op));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n != sizeof(op))
                        break;
                finish(c, op);
        }
        if (c->stopping && !any_running(c))
                return sd_event_exit(c->event, 0);
        start_ready(c);
        return 0;
}

static int on_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        struct operation *op = userdata;
        struct context *c = op->context;
        double seconds = (double) c->operation_timeout_usec / USEC_PER_SEC;

        op->timeout_source = sd_event_source_disable_unref(op->timeout_source);
        if (op->running) {
                log_warning("%s of %s for uid %u still running after %.1f s; IOMMU group %d stays locked until "
                            "it returns.",
                            operation_kind_to_string(op->kind), op->name, (unsigned) op->caller_uid, seconds,
                            op->iommu_group);
                answer_early(op, -ETIMEDOUT,
                             "%s of %s did not finish within %.1f s: the kernel is still working on it (an unbind "
                             "waits until every program has closed the device). Further calls on IOMMU group %d "
                             "wait until it returns.",
                             operation_kind_to_string(op->kind), op->name, seconds, op->iommu_group);
                return 0;
        }
        answer_early(op, -ETIMEDOUT,
                     "%s of %s waited %.1f s for an earlier operation on IOMMU group %d that is still running; "
                     "nothing was changed. Try again later.",
                     operation_kind_to_string(op->kind), op->name, seconds, op->iommu_group);
        unlink_operation(c, op);
        operation_free(op);
        return 0;
}

int worker_setup(struct context *c) {
        int r;

        if (pipe2(c->completion_fd, O_CLOEXEC) < 0)
                return log_error_errno(negative_errno(), "Failed to create the completion pipe");
        /* Only the reading end is non-blocking: the main loop drains it; workers must not lose a post. */
        if (fcntl(c->completion_fd[0], F_SETFL, O_NONBLOCK) < 0)
                return log_error_errno(negative_errno(), "Failed to set up the completion pipe");
        r = sd_event_add_io(c->event, &c->completion_source, c->completion_fd[0], EPOLLIN, on_completion, c);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the completion pipe");
        return 0;
}

int worker_submit(struct context *c, struct operation *op) {
        struct operation **tail = &c->operations;
        int r;

        op->context = c;
        op->completion_fd = c->completion_fd[1];
        if (c->stopping) {
                /* Authorized while the daemon was stopping. */
                answer_early(op, -EINTR, "The daemon is stopping; %s of %s was not begun. Call again once it is "
                             "back.", operation_kind_to_string(op->kind), op->name);
                operation_free(op);
                return 0;
        }
        /* A requester that waits for the end whatever it takes (recovery) has no timeout. */
        if (op->requester->answer_early) {
                r = sd_event_add_time_relative(c->event, &op->timeout_source, CLOCK_MONOTONIC,
                                               c->operation_timeout_usec, 0, on_timeout, op);
                if (r < 0)
                        return r;
        }

        while (*tail)
                tail = &(*tail)->next;
        *tail = op;
        /* Busy, announced before the worker changes anything. */
        operation_touched(c, op);
        device_model_refresh_now(c);
        for (struct operation *o = c->operations; o != op; o = o->next)
                if (operations_conflict(o, op)) {
                        log_info("%s of %s waits for an earlier operation on IOMMU group %d.",
                                 operation_kind_to_string(op->kind), op->name, op->iommu_group);
                        break;
                }
        start_ready(c);
        return 0;
}

bool worker_recovering(const struct context *c, int iommu_group, const struct pci_address *address) {
        for (const struct operation *op = c->operations; op; op = op->next)
                if (op->kind == OPERATION_RECOVER &&
                    (iommu_group >= 0 ? op->iommu_group == iommu_group : pci_address_equal(&op->address, address)))
                        return true;
        return false;
}

bool worker_group_busy(struct context *c, int iommu_group) {
        for (struct operation *op = c->operations; op; op = op->next)
                if (iommu_group >= 0 && op->iommu_group == iommu_group)
                        return true;
        return false;
}

/* The grace is over: whoever still waits is told where things stand, and the daemon exits. What the
 * threads leave half done carries an intent on disk, which the next start finishes or rolls back. */
static int on_stop_grace(sd_event_source *source, uint64_t usec, void *userdata) {
        struct context *c = userdata;

        for (struct operation *op = c->operations; op; op = op->next) {
                if (!op->running || op->replied)
                        continue;
                answer_early(op, -EINTR,
                             "The daemon is stopping while %s of %s is under way (the kernel has not returned yet). "
                             "Its next start finishes or rolls back what was begun.",
                             operation_kind_to_string(op->kind), op->name);
        }
        return sd_event_exit(c->event, 0);
}

int worker_stop(struct context *c) {
        struct operation *next;
        int r;

        if (c->stopping)
                return 0;
        c->stopping = true;
        /* Queued calls have not begun: they can be told so, and forgotten. */
        for (struct operation *op = c->operations; op; op = next) {
                next = op->next;
                if (op->running)
                        continue;
                answer_early(op, -EINTR, "The daemon is stopping; %s of %s was not begun. Call again once it is "
                             "back.", operation_kind_to_string(op->kind), op->name);
                unlink_operation(c, op);
                operation_free(op);
        }
        if (!any_running(c))
                return sd_event_exit(c->event, 0);
        log_info("Stopping: giving the running operations %.1f s to finish.",
                 (double) STOP_GRACE_USEC / USEC_PER_SEC);
        r = sd_event_add_time_relative(c->event, &c->stop_source, CLOCK_MONOTONIC, STOP_GRACE_USEC, 0,
                                       on_stop_grace, c);
        if (r < 0)
                return sd_event_exit(c->event, 0);
        return 0;
}

void worker_shutdown(struct context *c) {
        bool left_behind = false;
        struct operation *next;

        c->stop_source = sd_event_source_disable_unref(c->stop_source);
        for (struct operation *op = c->operations; op; op = next) {
                next = op->next;
                if (op->running && pthread_tryjoin_np(op->thread, NULL) != 0) {
                        /* Still working: the thread owns op until it returns, so op is left to it;
                         * the process exit ends both. */
                        log_warning("Exiting while %s of %s is still running; the next start finishes or rolls "
                                    "it back.",
                                    operation_kind_to_string(op->kind), op->name);
                        left_behind = true;
                        continue;
                }
                operation_free(op);
        }
        c->operations = NULL;
        c->completion_source = sd_event_source_disable_unref(c->completion_source);
        /* A thread left behind still posts to the writing end: it stays open until exit. */
        for (size_t i = 0; i < (left_behind ? 1 : 2); i++)
                if (c->completion_fd[i] >= 0) {
                        close(c->completion_fd[i]);
                        c->completion_fd[i] = -1;
                }
}
