/* fuzz-replay.c: runs a fuzz harness on files, without libFuzzer
 *
 *   fuzz-parent-decoder PATH...      (a directory: every file in it, sorted)
 *
 * Each file goes through fuzz_target(), the very function libFuzzer calls,
 * with all its checks (a failed one aborts). The output is TAP, one line a
 * file. A file whose name starts with one of these prefixes must also end
 * as the prefix says (the generated seeds are named so):
 *
 *   ok-        at least one frame, no decoding error, nothing left over,
 *              and nothing the receiver would reject
 *   reject-    frames decode, but the receiving side would kill the worker
 *              (or the worker would die): a wrong version, a NaN progress,
 *              a worker's first frame not HELLO, …
 *   err-       decoding stops on a malformed frame (the parent kills the
 *              worker and fails its task with PROC_ERROR_PROTOCOL)
 *   partial-   no error yet, bytes left that do not make a frame: the
 *              receiver waits for more (and fails the task with PROTOCOL if
 *              the channel closes there)
 *
 * Other names (libFuzzer's, the regression inputs) are only checked not to
 * crash. Running no file at all is a failure.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"

static guint n_run, n_failed;

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static char *
check_expectation (const char        *name,
                   const FuzzOutcome *o)
{
  if (g_str_has_prefix (name, "ok-"))
    {
      if (o->n_frames == 0 || o->error || o->partial || o->rejected)
        return g_strdup ("expected frames, no error, nothing left over, nothing rejected");
    }
  else if (g_str_has_prefix (name, "reject-"))
    {
      if (o->error || !o->rejected)
        return g_strdup ("expected frames that decode and that the receiver rejects");
    }
  else if (g_str_has_prefix (name, "err-"))
    {
      if (!o->error)
        return g_strdup ("expected a decoding error");
    }
  else if (g_str_has_prefix (name, "partial-"))
    {
      if (o->error || !o->partial)
        return g_strdup ("expected no error and a partial frame left");
    }
  return NULL;
}

static void
replay_file (const char *path)
{
  char *data = NULL, *basename, *problem;
  gsize size;
  GError *error = NULL;
  FuzzOutcome outcome;

  n_run++;
  if (!g_file_get_contents (path, &data, &size, &error))
    {
      printf ("not ok %u - %s: %s\n", n_run, path, error->message);
      n_failed++;
      g_error_free (error);
      return;
    }

  fuzz_target ((const guint8 *) data, size, &outcome);

  basename = g_path_get_basename (path);
  problem = check_expectation (basename, &outcome);
  printf ("%s %u - %s %s # %u frames%s%s%s%s\n",
          problem ? "not ok" : "ok", n_run, fuzz_target_name, path, outcome.n_frames,
          outcome.rejected ? ", rejected" : "",
          outcome.partial ? ", partial frame left" : "",
          outcome.error ? ", error: " : "",
          outcome.error ? outcome.error_message : "");
  if (problem != NULL)
    {
      printf ("# %s: %s\n", path, problem);
      n_failed++;
    }
  fflush (stdout);

  g_free (problem);
  g_free (basename);
  fuzz_outcome_clear (&outcome);
  g_free (data);
}

static void
replay_path (const char *path)
{
  GDir *dir;
  GPtrArray *names;
  const char *name;
  GError *error = NULL;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      replay_file (path);
      return;
    }

  dir = g_dir_open (path, 0, &error);
  if (dir == NULL)
    {
      printf ("not ok %u - %s: %s\n", ++n_run, path, error->message);
      n_failed++;
      g_error_free (error);
      return;
    }
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.' && !g_str_has_prefix (name, "README"))
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_dir_close (dir);
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++)
    replay_file (g_ptr_array_index (names, i));
  g_ptr_array_unref (names);
}

int
main (int argc, char **argv)
{
  fuzz_init ();

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s FILE-OR-DIRECTORY...\n", argv[0]);
      return 2;
    }
  for (int i = 1; i < argc; i++)
    replay_path (argv[i]);

  if (n_run == 0)
    {
      printf ("not ok 1 - no input to replay\n1..1\n");
      return 1;
    }
  printf ("1..%u\n# %s: %u inputs replayed, %u failed\n", n_run, fuzz_target_name, n_run, n_failed);
  fuzz_print_stats ();
  return n_failed == 0 ? 0 : 1;
}
