/* test-util.h: helpers shared by the procexec test programs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <procexec.h>

G_BEGIN_DECLS

/* How long a wait that is expected to succeed may take before the test
 * fails. Generous: the suite also runs on loaded CI machines. */
#define TEST_TIMEOUT_USEC (30 * G_USEC_PER_SEC)

/* The error domain of the errors made by the test module's tasks. */
#define TEST_ERROR (g_quark_from_static_string ("proc-test-error-quark"))

void          test_init                 (int          *argc,
                                         char       ***argv);

const char   *test_module_path          (void);

ProcExecutor *test_executor_new         (guint         max_workers,
                                         const char   *first_property_name,
                                         ...);

ProcFuture   *test_submit               (ProcExecutor *executor,
                                         const char   *task,
                                         GVariant     *args);

GVariant     *test_result               (ProcFuture   *future);
GError       *test_result_error         (ProcFuture   *future);
void          test_assert_finished      (ProcFuture   *future);
void          test_assert_variant       (GVariant     *value,
                                         GVariant     *expected);
void          test_assert_pool_works    (ProcExecutor *executor,
                                         guint         n);
void          test_submit_echoes        (ProcExecutor *executor,
                                         ProcFuture  **futures,
                                         guint         n,
                                         guint32       first);
void          test_assert_echoes        (ProcFuture  **futures,
                                         guint         n,
                                         guint32       first);

typedef gboolean (*TestCondFunc) (gpointer data);

gboolean      test_iterate_until        (GMainContext *context,
                                         TestCondFunc  cond,
                                         gpointer      data,
                                         gint64        timeout_usec);
gboolean      test_iterate_until_flag   (GMainContext *context,
                                         gboolean     *flag);
gboolean      test_iterate_until_count  (GMainContext *context,
                                         guint        *counter,
                                         guint         target);
void          test_drain_context        (GMainContext *context);

GPid          test_wait_started         (ProcFuture   *future);

guint         test_count_open_fds       (void);
guint         test_wait_open_fds        (guint         n,
                                         gint64        timeout_usec);
guint         test_count_children       (void);

gboolean      test_message_has_number   (const char   *message,
                                         gint64        number);
void          test_assert_worker_died   (const GError *error,
                                         GPid          pid,
                                         int           signum,
                                         int           exit_status);

/* Helpers of the stress tests (tests/stress/) and of the tests that count
 * processes. */

gboolean      test_under_asan           (void);
double        test_stress_scale         (void);
guint         test_stress_size          (guint         n);
guint32       test_stress_seed          (void);
gint64        test_slow_factor          (void);

const char * const *test_counting_worker_argv (void);

gboolean      test_read_proc_stat       (GPid          pid,
                                         char         *state,
                                         GPid         *ppid);
gboolean      test_is_our_child         (GPid          pid);
gboolean      test_wait_not_our_child   (GPid          pid,
                                         gint64        timeout_usec);
gboolean      test_wait_children        (guint         n,
                                         gint64        timeout_usec);

typedef struct _TestWatchdog TestWatchdog;

TestWatchdog *test_watchdog_start       (gint64        timeout_usec,
                                         const char   *what);
void          test_watchdog_stop        (TestWatchdog *watchdog);

G_END_DECLS
