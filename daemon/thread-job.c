/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "thread-job.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "context.h"
#include "log.h"
#include "macro.h"

struct thread_job {
        thread_job_work_t work;
        thread_job_done_t done;
        void *userdata;
        int post_fd;
};

static void *job_thread(void *p) {
        struct thread_job *job = p;
        ssize_t n;

        job->work(job->userdata);
        /* A pointer is far below PIPE_BUF, so the write is atomic. */
        do
                n = write(job->post_fd, &job, sizeof(job));
        while (n < 0 && errno == EINTR);
        if (n != sizeof(job))
                log_error("A background job could not report its end.");
        return NULL;
}

static int on_job_done(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct context *c = userdata;

        for (;;) {
                struct thread_job *job;
                ssize_t n = read(fd, &job, sizeof(job));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n != sizeof(job))
                        break;
                job->done(c, job->userdata);
                free(job);
        }
        return 0;
}

int thread_jobs_setup(struct context *c) {
        int r;

        if (pipe2(c->job_fd, O_CLOEXEC) < 0)
                return log_error_errno(negative_errno(), "Failed to create the job pipe");
        if (fcntl(c->job_fd[0], F_SETFL, O_NONBLOCK) < 0)
                return log_error_errno(negative_errno(), "Failed to set up the job pipe");
        r = sd_event_add_io(c->event, &c->job_source, c->job_fd[0], EPOLLIN, on_job_done, c);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the job pipe");
        return 0;
}

void thread_jobs_shutdown(struct context *c) {
        c->job_source = sd_event_source_disable_unref(c->job_source);
        /* The writing end stays open until exit: a job left behind still posts to it. */
        if (c->job_fd[0] >= 0) {
                close(c->job_fd[0]);
                c->job_fd[0] = -1;
        }
}

int thread_job_start(struct context *c, thread_job_work_t work, thread_job_done_t done, void *userdata) {
        struct thread_job *job = malloc(sizeof(*job));
        pthread_attr_t attr;
        pthread_t thread;
        int r;

        if (!job)
                return -ENOMEM;
        *job = (struct thread_job) { .work = work, .done = done, .userdata = userdata, .post_fd = c->job_fd[1] };
        r = pthread_attr_init(&attr);
        if (r == 0) {
                r = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                if (r == 0)
                        r = pthread_create(&thread, &attr, job_thread, job);
                pthread_attr_destroy(&attr);
        }
        if (r != 0) {
                free(job);
                return -r;
        }
        return 0;
}
