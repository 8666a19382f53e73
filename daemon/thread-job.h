/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

struct context;

/* Short blocking work off the event loop: a user-name lookup may go to LDAP or sssd and take
 * seconds, during which the bus must go on answering everyone else. Each job gets a thread of
 * its own; done runs on the main loop when work has returned. A job still running when the
 * daemon exits is left behind with its thread (its done is never called). */

typedef void (*thread_job_work_t)(void *userdata);
typedef void (*thread_job_done_t)(struct context *c, void *userdata);

int thread_jobs_setup(struct context *c);
void thread_jobs_shutdown(struct context *c);

int thread_job_start(struct context *c, thread_job_work_t work, thread_job_done_t done, void *userdata);
