/* test-map.c: proc_executor_map() and proc_executor_map_func()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

/* a(ii) of (i, offset) for i in [0, n) */
static GVariant *
make_add_inputs (guint  n,
                 gint32 offset)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ii)"));
  for (guint i = 0; i < n; i++)
    g_variant_builder_add (&builder, "(ii)", (gint32) i, offset);
  return g_variant_builder_end (&builder);
}

static void
check_map_add (ProcExecutor *executor,
               guint         n,
               guint         chunksize,
               guint         buffersize)
{
  GError *error = NULL;
  ProcMapIter *iter;
  GVariant *result = NULL;
  guint count = 0;

  iter = proc_executor_map (executor, "add", make_add_inputs (n, 1000),
                            chunksize, buffersize, -1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (iter);

  while (proc_map_iter_next (iter, &result, &error))
    {
      gint32 sum;

      g_assert_no_error (error);
      g_assert_nonnull (result);
      g_variant_get (result, "(i)", &sum);
      g_assert_cmpint (sum, ==, (gint32) count + 1000);
      g_variant_unref (result);
      result = NULL;
      count++;
    }
  g_assert_no_error (error);
  g_assert_null (result);
  g_assert_cmpuint (count, ==, n);

  /* Exhausted stays exhausted. */
  g_assert_false (proc_map_iter_next (iter, &result, &error));
  g_assert_no_error (error);
  g_assert_null (result);

  g_object_unref (iter);
}

/* Results come in input order whatever the chunk size. */
static void
test_map_order (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);

  check_map_add (executor, 250, 1, 0);
  check_map_add (executor, 250, 7, 0);
  check_map_add (executor, 250, 100, 0);
  check_map_add (executor, 250, 1000, 0);
  check_map_add (executor, 2000, 50, 4);
  check_map_add (executor, 10, 3, 1);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* Items finishing out of order still come back in input order. */
static void
test_map_order_uneven (void)
{
  ProcExecutor *executor = test_executor_new (3, NULL);
  const guint32 msec[] = { 300, 10, 200, 0, 100, 0, 50 };
  GVariantBuilder builder;
  GError *error = NULL;
  ProcMapIter *iter;
  GVariant *result = NULL;
  guint i = 0;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(u)"));
  for (guint k = 0; k < G_N_ELEMENTS (msec); k++)
    g_variant_builder_add (&builder, "(u)", msec[k]);
  iter = proc_executor_map (executor, "sleep", g_variant_builder_end (&builder),
                            1, 0, TEST_TIMEOUT_USEC, &error);
  g_assert_no_error (error);

  while (proc_map_iter_next (iter, &result, &error))
    {
      guint32 got;

      g_variant_get (result, "(u)", &got);
      g_assert_cmpuint (i, <, G_N_ELEMENTS (msec));
      g_assert_cmpuint (got, ==, msec[i]);
      g_variant_unref (result);
      i++;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (i, ==, G_N_ELEMENTS (msec));

  g_object_unref (iter);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

static void
test_map_empty (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  GError *error = NULL;
  GVariant *result = NULL;
  ProcMapIter *iter;

  iter = proc_executor_map (executor, "echo",
                            g_variant_new_array (G_VARIANT_TYPE ("(i)"), NULL, 0),
                            1, 2, TEST_TIMEOUT_USEC, &error);
  g_assert_no_error (error);
  g_assert_false (proc_map_iter_next (iter, &result, &error));
  g_assert_no_error (error);
  g_assert_null (result);
  g_object_unref (iter);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

typedef struct {
  gint pulled;     /* atomic: the input function may run on another thread */
  gint limit;
  gint destroyed;  /* atomic */
} Counter;

static GVariant *
counting_input (gpointer   user_data,
                GError   **error)
{
  Counter *counter = user_data;
  gint n = g_atomic_int_add (&counter->pulled, 1);

  if (n >= counter->limit)
    return NULL;
  return g_variant_new ("(i)", (gint32) n);
}

static void
counter_destroy (gpointer user_data)
{
  Counter *counter = user_data;

  g_atomic_int_inc (&counter->destroyed);
}

/* Fails when asked for item number `limit`. */
static GVariant *
failing_input (gpointer   user_data,
               GError   **error)
{
  Counter *counter = user_data;
  gint n = g_atomic_int_add (&counter->pulled, 1);

  if (n == counter->limit)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "input %d is unreadable", n);
      return NULL;
    }
  g_assert_cmpint (n, <, counter->limit);
  return g_variant_new ("(i)", (gint32) n);
}

/* An input function's error ends the map in its place: the results before
 * it, then the error; the function is not called again. */
static void
check_map_func_error (guint chunksize)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  Counter counter = { 0, 11, 0 };
  GError *error = NULL;
  GVariant *result = NULL;
  ProcMapIter *iter;
  gint32 expected = 0;

  iter = proc_executor_map_func (executor, "echo", failing_input, &counter, counter_destroy,
                                 chunksize, 2, TEST_TIMEOUT_USEC, &error);
  g_assert_no_error (error);
  while (proc_map_iter_next (iter, &result, &error))
    {
      gint32 value;

      g_variant_get (result, "(i)", &value);
      g_assert_cmpint (value, ==, expected);
      g_clear_pointer (&result, g_variant_unref);
      expected++;
    }
  g_assert_cmpint (expected, ==, 11);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpstr (error->message, ==, "input 11 is unreadable");
  g_clear_error (&error);
  g_assert_cmpint (g_atomic_int_get (&counter.pulled), ==, 12);
  g_assert_cmpint (g_atomic_int_get (&counter.destroyed), ==, 1);

  g_assert_false (proc_map_iter_next (iter, &result, &error));
  g_assert_no_error (error);
  g_object_unref (iter);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

static void
test_map_func_error (void)
{
  check_map_func_error (1);
  check_map_func_error (4);
}

typedef struct {
  ProcExecutor *executor;
  Counter *counter;
  gint bound;
} IdleCond;

/* The executor has nothing left to do, or the input was pulled too far
 * already (no use waiting longer). */
static gboolean
idle_or_overpulled (gpointer user_data)
{
  IdleCond *cond = user_data;

  if (g_atomic_int_get (&cond->counter->pulled) > cond->bound)
    return TRUE;
  return proc_executor_get_n_running (cond->executor) == 0
         && proc_executor_get_n_pending (cond->executor) == 0;
}

/* map_func pulls its input lazily: at most buffersize chunks ahead of what
 * the caller consumed, even when the workers are idle. */
static void
check_lookahead (guint max_workers,
                 guint chunksize,
                 guint buffersize)
{
  ProcExecutor *executor = test_executor_new (max_workers, NULL);
  guint effective = buffersize != 0 ? buffersize : 8 * max_workers;
  Counter counter = { 0, 1000000, 0 };
  GError *error = NULL;
  GVariant *result = NULL;
  ProcMapIter *iter;
  IdleCond cond;
  guint bound;

  iter = proc_executor_map_func (executor, "echo", counting_input, &counter, counter_destroy,
                                 chunksize, buffersize, TEST_TIMEOUT_USEC, &error);
  g_assert_no_error (error);
  g_assert_nonnull (iter);

  /* Before the first next(). An extra pull that returns NULL would be a
   * look-ahead of one input too, so it counts. */
  bound = effective * chunksize;
  g_assert_cmpint (g_atomic_int_get (&counter.pulled), <=, (gint) bound);

  /* Let the submitted chunks finish (woken by the executor's counter
   * notifications): finished chunks must not make room for more. */
  cond.executor = executor;
  cond.counter = &counter;
  cond.bound = (gint) bound;
  g_assert_true (test_iterate_until (NULL, idle_or_overpulled, &cond, TEST_TIMEOUT_USEC));
  g_test_message ("chunksize %u, buffersize %u: %d inputs pulled before next()",
                  chunksize, buffersize, g_atomic_int_get (&counter.pulled));
  g_assert_cmpint (g_atomic_int_get (&counter.pulled), <=, (gint) bound);

  for (guint k = 0; k < 30; k++)
    {
      gint32 value;

      g_assert_true (proc_map_iter_next (iter, &result, &error));
      g_assert_no_error (error);
      g_variant_get (result, "(i)", &value);
      g_assert_cmpint (value, ==, (gint32) k);
      g_variant_unref (result);
      result = NULL;

      /* Each consumed chunk lets at most one more chunk in. */
      bound = (effective + k / chunksize + 1) * chunksize;
      g_assert_cmpint (g_atomic_int_get (&counter.pulled), <=, (gint) bound);
    }

  cond.bound = (gint) bound;
  g_assert_true (test_iterate_until (NULL, idle_or_overpulled, &cond, TEST_TIMEOUT_USEC));
  g_assert_cmpint (g_atomic_int_get (&counter.pulled), <=, (gint) bound);

  proc_map_iter_close (iter);
  g_assert_false (proc_map_iter_next (iter, &result, &error));
  g_assert_null (result);
  g_assert_no_error (error);
  g_object_unref (iter);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);

  /* The input was released (once), and far from exhausted. */
  g_assert_cmpint (g_atomic_int_get (&counter.destroyed), ==, 1);
  g_assert_cmpint (g_atomic_int_get (&counter.pulled), <, 1000);
}

static void
test_map_lookahead (void)
{
  check_lookahead (2, 1, 2);
  check_lookahead (2, 3, 2);
  check_lookahead (2, 5, 1);
  check_lookahead (2, 4, 0);  /* default: 8 * max-workers chunks */
}

/* A finite map_func input: all results in order, then the end. */
static void
test_map_func_finite (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  Counter counter = { 0, 57, 0 };
  GError *error = NULL;
  GVariant *result = NULL;
  ProcMapIter *iter;
  gint32 expected = 0;

  iter = proc_executor_map_func (executor, "echo", counting_input, &counter, counter_destroy,
                                 4, 2, TEST_TIMEOUT_USEC, &error);
  g_assert_no_error (error);
  while (proc_map_iter_next (iter, &result, &error))
    {
      gint32 value;

      g_variant_get (result, "(i)", &value);
      g_assert_cmpint (value, ==, expected);
      g_variant_unref (result);
      expected++;
    }
  g_assert_no_error (error);
  g_assert_cmpint (expected, ==, 57);
  g_object_unref (iter);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  g_assert_cmpint (g_atomic_int_get (&counter.destroyed), ==, 1);
}

/* Maps @inputs through "echo" and checks that the results are the inputs,
 * in order, with their types. */
static void
check_map_echo (ProcExecutor *executor,
                GVariant     *inputs,
                guint         chunksize)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (inputs);
  gsize n = g_variant_n_children (owned);
  GError *error = NULL;
  GVariant *result = NULL;
  ProcMapIter *iter;
  gsize i = 0;

  iter = proc_executor_map (executor, "echo", owned, chunksize, 0,
                            TEST_TIMEOUT_USEC, &error);
  g_assert_no_error (error);
  while (proc_map_iter_next (iter, &result, &error))
    {
      g_autoptr(GVariant) expected = g_variant_get_child_value (owned, i);

      if (g_variant_is_of_type (expected, G_VARIANT_TYPE_VARIANT))
        {
          GVariant *inner = g_variant_get_variant (expected);
          g_variant_unref (expected);
          expected = inner;
        }
      g_assert_cmpvariant (result, expected);
      g_variant_unref (result);
      i++;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (i, ==, n);
  g_object_unref (iter);
}

/* Results that are themselves variants come back as variants, not
 * unboxed on the way. */
static void
check_map_box (ProcExecutor *executor,
               guint         chunksize)
{
  g_autoptr(GError) error = NULL;
  ProcMapIter *iter = proc_executor_map (executor, "box",
                                         g_variant_new_parsed ("[(1,), (2,), (3,)]"),
                                         chunksize, 0, -1, &error);
  GVariant *result;
  gint32 i = 1;

  g_assert_no_error (error);
  while (proc_map_iter_next (iter, &result, &error))
    {
      g_autoptr(GVariant) expected = g_variant_ref_sink (g_variant_new_variant (g_variant_new ("(i)", i)));

      g_assert_cmpvariant (result, expected);
      g_variant_unref (result);
      i++;
    }
  g_assert_no_error (error);
  g_assert_cmpint (i, ==, 4);
  g_object_unref (iter);
}

/* A chunk travels as a slice of the input when its items have one size, as
 * an array of them when they have one type, boxed when their types differ;
 * so do the results. Each comes back intact, whatever the chunk size. */
static void
test_map_item_types (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  const guint chunksizes[] = { 1, 2, 3, 64 };

  for (guint c = 0; c < G_N_ELEMENTS (chunksizes); c++)
    {
      guint chunksize = chunksizes[c];

      /* Fixed-size items: slices of the input's bytes. */
      check_map_echo (executor,
                      g_variant_new_parsed ("[(1, true, 2.5), (-2, false, 0.0), (3, true, -1.0),"
                                            " (4, false, 1e10), (5, true, 7.0)]"),
                      chunksize);
      /* Items of one type but not one size. */
      check_map_echo (executor,
                      g_variant_new_parsed ("[('a', [1]), ('', @ai []), ('ccc', [3, 4, 5]),"
                                            " ('dddd', [6]), ('e', @ai [])]"),
                      chunksize);
      /* Items of differing types, and so results of differing types. */
      check_map_echo (executor,
                      g_variant_new_parsed ("[<(1,)>, <('two',)>, <(3, 4)>, <@() ()>,"
                                            " <(byte 5,)>, <('six',)>, <(7,)>]"),
                      chunksize);
      check_map_box (executor, chunksize);
    }

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* The map timeout is a deadline: next() past it fails with TIMED_OUT, long
 * before the tasks would have ended. */
static void
test_map_timeout (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  GVariantBuilder builder;
  GError *error = NULL;
  GVariant *result = NULL;
  ProcMapIter *iter;
  gint64 start, elapsed;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(u)"));
  for (guint k = 0; k < 4; k++)
    g_variant_builder_add (&builder, "(u)", (guint32) 5000);

  start = g_get_monotonic_time ();
  iter = proc_executor_map (executor, "sleep", g_variant_builder_end (&builder),
                            1, 0, 100000, &error);
  g_assert_no_error (error);

  g_assert_false (proc_map_iter_next (iter, &result, &error));
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_null (result);
  g_assert_cmpint (elapsed, >=, 100000);
  g_assert_cmpint (elapsed, <, 3 * G_USEC_PER_SEC);

  /* After the deadline the map is over. */
  g_assert_false (proc_map_iter_next (iter, &result, &error));
  g_assert_null (result);
  g_clear_error (&error);

  proc_map_iter_close (iter);
  g_object_unref (iter);

  /* Do not wait for the sleeping workers. */
  proc_executor_kill_workers (executor);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* The first failed item ends the map with its error, after the results
 * before it. */
static void
check_map_error (guint chunksize)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  GVariantBuilder builder;
  GError *error = NULL;
  GVariant *result = NULL;
  ProcMapIter *iter;
  gint32 expected = 0;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ii)"));
  for (gint32 k = 0; k < 10; k++)
    g_variant_builder_add (&builder, "(ii)", k, 3);
  iter = proc_executor_map (executor, "fail_on", g_variant_builder_end (&builder),
                            chunksize, 0, TEST_TIMEOUT_USEC, &error);
  g_assert_no_error (error);

  while (proc_map_iter_next (iter, &result, &error))
    {
      gint32 value;

      g_variant_get (result, "(i)", &value);
      g_assert_cmpint (value, ==, expected);
      g_variant_unref (result);
      expected++;
    }
  g_assert_cmpint (expected, ==, 3);
  g_assert_error (error, TEST_ERROR, 3);
  g_assert_cmpstr (error->message, ==, "bad value 3");
  g_clear_error (&error);

  g_assert_false (proc_map_iter_next (iter, &result, &error));
  g_assert_no_error (error);
  g_assert_null (result);
  g_object_unref (iter);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

static void
test_map_error (void)
{
  check_map_error (1);
  check_map_error (4);
  check_map_error (100);
}

/* Bad inputs are refused at the call; an unknown task fails at the first
 * item; after shutdown map fails with SHUTDOWN. */
static void
test_map_invalid (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  GError *error = NULL;
  GVariant *result = NULL;
  ProcMapIter *iter;

  iter = proc_executor_map (executor, "echo", g_variant_new ("(i)", 1), 1, 0, -1, &error);
  g_assert_null (iter);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  iter = proc_executor_map (executor, "echo",
                            g_variant_new_array (G_VARIANT_TYPE_INT32, NULL, 0),
                            1, 0, -1, &error);
  g_assert_null (iter);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  iter = proc_executor_map (executor, NULL, make_add_inputs (3, 0), 1, 0, -1, &error);
  g_assert_null (iter);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  iter = proc_executor_map (executor, "no-such-task", make_add_inputs (3, 0), 1, 0,
                            TEST_TIMEOUT_USEC, &error);
  g_assert_no_error (error);
  g_assert_false (proc_map_iter_next (iter, &result, &error));
  g_assert_null (result);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_UNKNOWN_TASK);
  g_clear_error (&error);
  g_object_unref (iter);

  proc_executor_shutdown (executor, TRUE, FALSE);
  iter = proc_executor_map (executor, "add", make_add_inputs (3, 0), 1, 0, -1, &error);
  g_assert_null (iter);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_SHUTDOWN);
  g_clear_error (&error);

  g_object_unref (executor);
}

typedef struct {
  ProcMapIter *iter;
  guint count;
  gboolean finished;
  GError *error;
} MapAsyncData;

static void
map_next_cb (GObject      *source,
             GAsyncResult *res,
             gpointer      user_data)
{
  MapAsyncData *data = user_data;
  GVariant *result = NULL;
  gint32 sum;

  if (!proc_map_iter_next_finish (PROC_MAP_ITER (source), res, &result, &data->error))
    {
      g_assert_null (result);
      data->finished = TRUE;
      return;
    }
  g_variant_get (result, "(i)", &sum);
  g_assert_cmpint (sum, ==, (gint32) data->count + 7);
  g_variant_unref (result);
  data->count++;
  proc_map_iter_next_async (data->iter, NULL, map_next_cb, data);
}

static void
test_map_async (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  MapAsyncData data = { NULL, 0, FALSE, NULL };
  GError *error = NULL;

  data.iter = proc_executor_map (executor, "add", make_add_inputs (100, 7), 5, 0,
                                 TEST_TIMEOUT_USEC, &error);
  g_assert_no_error (error);
  proc_map_iter_next_async (data.iter, NULL, map_next_cb, &data);
  g_assert_true (test_iterate_until_flag (NULL, &data.finished));
  g_assert_no_error (data.error);
  g_assert_cmpuint (data.count, ==, 100);

  g_object_unref (data.iter);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
}

/* Closing a map early stops it: next() reports the end; the executor
 * shuts down without running the whole input. */
static void
test_map_close (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  GError *error = NULL;
  GVariant *result = NULL;
  ProcMapIter *iter;

  iter = proc_executor_map (executor, "add", make_add_inputs (20, 0), 3, 0, -1, &error);
  g_assert_no_error (error);
  g_assert_true (proc_map_iter_next (iter, &result, &error));
  g_variant_unref (result);
  result = NULL;

  proc_map_iter_close (iter);
  g_assert_false (proc_map_iter_next (iter, &result, &error));
  g_assert_no_error (error);
  g_assert_null (result);
  proc_map_iter_close (iter);
  g_object_unref (iter);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

int
main (int   argc,
      char *argv[])
{
  test_init (&argc, &argv);

  g_test_add_func ("/map/order", test_map_order);
  g_test_add_func ("/map/order-uneven", test_map_order_uneven);
  g_test_add_func ("/map/empty", test_map_empty);
  g_test_add_func ("/map/lookahead", test_map_lookahead);
  g_test_add_func ("/map/item-types", test_map_item_types);
  g_test_add_func ("/map/func-finite", test_map_func_finite);
  g_test_add_func ("/map/func-error", test_map_func_error);
  g_test_add_func ("/map/timeout", test_map_timeout);
  g_test_add_func ("/map/error", test_map_error);
  g_test_add_func ("/map/invalid", test_map_invalid);
  g_test_add_func ("/map/async", test_map_async);
  g_test_add_func ("/map/close", test_map_close);

  return g_test_run ();
}
