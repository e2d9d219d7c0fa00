/* proc-test-tasks.c: the task module of the test suite
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Loaded by procexec-worker through the executor's "modules" property.
 * Each task name selects one behaviour the tests need: plain results,
 * errors, crashes, hangs, big payloads, progress, fds.
 */

#include <math.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <gmodule.h>

#include <procexec.h>

#include "test-maps.h"

#define TEST_ERROR (g_quark_from_static_string ("proc-test-error-quark"))

/* Set by the initializer tasks, read by init_check. A worker is a process of
 * its own, so a global is per worker. */
static gboolean initializer_ran;
static char *initializer_arg;

static gboolean
check_args (GVariant    *args,
            const char  *type,
            GError     **error)
{
  if (args != NULL && g_variant_is_of_type (args, G_VARIANT_TYPE (type)))
    return TRUE;

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "expected arguments of type %s, got %s",
               type, args != NULL ? g_variant_get_type_string (args) : "NULL");
  return FALSE;
}

/* Never lets a crash of a test task leave a core file behind. */
static void
no_core_dump (void)
{
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Sleeps @msec milliseconds or until @cancellable trips. */
static gboolean
sleep_cancellable (guint          msec,
                   GCancellable  *cancellable,
                   GError       **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) msec * 1000;
  int fd = cancellable != NULL ? g_cancellable_get_fd (cancellable) : -1;

  for (;;)
    {
      gint64 now = g_get_monotonic_time ();
      gint64 left_ms;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          if (fd >= 0)
            g_cancellable_release_fd (cancellable);
          return FALSE;
        }
      if (now >= deadline)
        break;

      left_ms = (deadline - now + 999) / 1000;
      if (fd >= 0)
        {
          struct pollfd pfd = { .fd = fd, .events = POLLIN };
          poll (&pfd, 1, (int) MIN (left_ms, 1000));
        }
      else
        g_usleep (MIN (left_ms, 5) * 1000);
    }

  if (fd >= 0)
    g_cancellable_release_fd (cancellable);
  return TRUE;
}

static GVariant *
pid_variant (void)
{
  return g_variant_new ("(i)", (gint32) getpid ());
}

/* echo: returns its arguments. */
static GVariant *
task_echo (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  return g_variant_ref (args);
}

/* box (anything) -> v: its arguments, boxed */
static GVariant *
task_box (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  return g_variant_new_variant (args);
}

/* add (ii) -> (i) */
static GVariant *
task_add (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  gint32 a, b;

  if (!check_args (args, "(ii)", error))
    return NULL;
  g_variant_get (args, "(ii)", &a, &b);
  return g_variant_new ("(i)", a + b);
}

/* sleep (u msec) -> (u msec); G_IO_ERROR_CANCELLED when interrupted. */
static GVariant *
task_sleep (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  guint32 msec;

  if (!check_args (args, "(u)", error))
    return NULL;
  g_variant_get (args, "(u)", &msec);
  if (!sleep_cancellable (msec, proc_task_get_cancellable (task), error))
    return NULL;
  return g_variant_new ("(u)", msec);
}

/* sleep_report (u msec): reports progress 0.0 with detail (i pid) first, so
 * the parent knows the task has started and in which process; then as
 * sleep. */
static GVariant *
task_sleep_report (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  if (!check_args (args, "(u)", error))
    return NULL;
  proc_task_report_progress (task, 0.0, pid_variant ());
  return task_sleep (task, args, user_data, error);
}

/* fail (sis domain, code, message): fails with that error. */
static GVariant *
task_fail (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  const char *domain, *message;
  gint32 code;

  if (!check_args (args, "(sis)", error))
    return NULL;
  g_variant_get (args, "(&si&s)", &domain, &code, &message);
  g_set_error_literal (error, g_quark_from_string (domain), code, message);
  return NULL;
}

/* fail_invalid_utf8 () fails with TEST_ERROR 7 and a message that is not
 * UTF-8, as one holding a file name's bytes may be. */
static GVariant *
task_fail_invalid_utf8 (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  g_set_error_literal (error, g_quark_from_static_string ("proc-test-error-quark"), 7,
                       "no file \xff\xfe.txt");
  return NULL;
}

/* fail_on (ii value, bad) -> (i value), or TEST_ERROR code=value
 * "bad value <value>" when value == bad. */
static GVariant *
task_fail_on (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  gint32 value, bad;

  if (!check_args (args, "(ii)", error))
    return NULL;
  g_variant_get (args, "(ii)", &value, &bad);
  if (value == bad)
    {
      g_set_error (error, TEST_ERROR, value, "bad value %d", value);
      return NULL;
    }
  return g_variant_new ("(i)", value);
}

static GVariant *
task_segfault (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  /* A store to an inaccessible page: a real fault, but no undefined
   * behaviour for UBSan to intercept (as it would a NULL store). */
  int *volatile p = mmap (NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

  no_core_dump ();
  /* A real crash even when a handler is installed (sanitizers do). */
  signal (SIGSEGV, SIG_DFL);
  if (p != MAP_FAILED)
    *p = 42;
  raise (SIGSEGV); /* not reached */
  return NULL;
}

static GVariant *
task_abort (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  no_core_dump ();
  signal (SIGABRT, SIG_DFL);
  abort ();
}

/* exit (i status) */
static GVariant *
task_exit (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  gint32 status;

  if (!check_args (args, "(i)", error))
    return NULL;
  g_variant_get (args, "(i)", &status);
  _exit (status);
}

/* exit_keeping_channel (i status): exits with status, leaving a child that
 * holds the worker's end of the channel open for five seconds. */
static GVariant *
task_exit_keeping_channel (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  gint32 status;
  pid_t pid;

  if (!check_args (args, "(i)", error))
    return NULL;
  g_variant_get (args, "(i)", &status);
  pid = fork ();
  if (pid == 0)
    {
      /* Not the test's output either: meson waits for that to close. */
      close (STDOUT_FILENO);
      close (STDERR_FILENO);
      sleep (5);
      _exit (0);
    }
  _exit (status);
}

/* hang: reports progress 0.0 with (i pid), then blocks forever and ignores
 * its cancellable. */
static GVariant *
task_hang (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  proc_task_report_progress (task, 0.0, pid_variant ());
  for (;;)
    pause ();
  return NULL; /* not reached */
}

/* huge (u size) -> ay of that size, byte i = (i * 31 + 7) & 0xff */
static GVariant *
task_huge (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  guint32 size;
  guint8 *data;

  if (!check_args (args, "(u)", error))
    return NULL;
  g_variant_get (args, "(u)", &size);
  data = g_malloc (MAX (size, 1));
  for (guint32 i = 0; i < size; i++)
    data[i] = (guint8) ((i * 31u + 7u) & 0xff);
  return g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, data, size,
                                  TRUE, g_free, data);
}

/* print (s): writes it to stdout; returns NULL, which must arrive as (). */
static GVariant *
task_print (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  const char *text;

  if (!check_args (args, "(s)", error))
    return NULL;
  g_variant_get (args, "(&s)", &text);
  fputs (text, stdout);
  fflush (stdout);
  return NULL;
}

static char *at_exit_text;
static guint32 at_exit_delay_msec;

static void
print_at_exit (void)
{
  g_usleep (at_exit_delay_msec * (gulong) 1000);
  fputs (at_exit_text, stdout);
  fflush (stdout);
  g_clear_pointer (&at_exit_text, g_free);
}

/* print_at_exit (s text, u msec): the worker, when it exits, waits msec
 * and then writes text to stdout (an atexit handler: the work a program
 * may do after its worker closed its channel). Returns (). */
static GVariant *
task_print_at_exit (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  if (!check_args (args, "(su)", error))
    return NULL;
  if (at_exit_text == NULL)
    atexit (print_at_exit);
  g_free (at_exit_text);
  g_variant_get (args, "(su)", &at_exit_text, &at_exit_delay_msec);
  return NULL;
}

/* progress: reports 0.25 "quarter", 0.5 "half", 1.0 "done"; returns (). */
static GVariant *
task_progress (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  proc_task_report_progress (task, 0.25, g_variant_new_string ("quarter"));
  proc_task_report_progress (task, 0.5, g_variant_new_string ("half"));
  proc_task_report_progress (task, 1.0, g_variant_new_string ("done"));
  return g_variant_new ("()");
}

/* progress_out_of_range -> (): reports NaN, 7.0 and -inf, detailed as
 * "nan", "seven" and "minus-inf" */
static GVariant *
task_progress_out_of_range (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  proc_task_report_progress (task, NAN, g_variant_new_string ("nan"));
  proc_task_report_progress (task, 7.0, g_variant_new_string ("seven"));
  proc_task_report_progress (task, -INFINITY, g_variant_new_string ("minus-inf"));
  return g_variant_new ("()");
}

/* pid -> (i getpid) */
static GVariant *
task_pid (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  return pid_variant ();
}

/* fdcount -> (u number of open fds of the worker) */
static GVariant *
task_fdcount (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  GDir *dir;
  guint n = 0;

  dir = g_dir_open ("/proc/self/fd", 0, error);
  if (dir == NULL)
    return NULL;
  while (g_dir_read_name (dir) != NULL)
    n++;
  g_dir_close (dir);
  /* Do not count the fd of the directory stream itself. */
  return g_variant_new ("(u)", n > 0 ? n - 1 : 0);
}

/* readfd (h): reads the fd passed at that index of the task's fd list to its
 * end, returns the bytes as ay. */
static GVariant *
task_readfd (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  GUnixFDList *fd_list;
  gint32 handle;
  GByteArray *bytes;
  int fd;

  if (!check_args (args, "(h)", error))
    return NULL;
  g_variant_get (args, "(h)", &handle);

  fd_list = proc_task_get_fd_list (task);
  if (fd_list == NULL || handle < 0 || handle >= g_unix_fd_list_get_length (fd_list))
    {
      g_set_error_literal (error, TEST_ERROR, 100, "no fd at that index");
      return NULL;
    }
  fd = g_unix_fd_list_get (fd_list, handle, error);
  if (fd < 0)
    return NULL;

  bytes = g_byte_array_new ();
  for (;;)
    {
      guint8 buf[4096];
      ssize_t r = read (fd, buf, sizeof buf);

      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "read: %s", g_strerror (saved));
          close (fd);
          g_byte_array_unref (bytes);
          return NULL;
        }
      if (r == 0)
        break;
      g_byte_array_append (bytes, buf, (guint) r);
    }
  close (fd);

  return g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING,
                                   g_byte_array_free_to_bytes (bytes), TRUE);
}

/* init_ok (s): the initializer that works; remembers its argument. */
static GVariant *
task_init_ok (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  if (!check_args (args, "(s)", error))
    return NULL;
  initializer_ran = TRUE;
  g_free (initializer_arg);
  g_variant_get (args, "(s)", &initializer_arg);
  return NULL;
}

/* init_fail (ss message, counter_path): the initializer that fails with
 * TEST_ERROR code 1 and @message. If @counter_path is not empty, appends one
 * line to that file first, so the test can count how many workers tried. */
static GVariant *
task_init_fail (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  const char *message, *counter_path;

  if (!check_args (args, "(ss)", error))
    return NULL;
  g_variant_get (args, "(&s&s)", &message, &counter_path);
  if (counter_path[0] != '\0')
    {
      int fd = open (counter_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
      if (fd >= 0)
        {
          if (write (fd, "x\n", 2) != 2)
            { /* the test will see a count too low */ }
          close (fd);
        }
    }
  g_set_error_literal (error, TEST_ERROR, 1, message);
  return NULL;
}

/* init_check -> (bs ran, argument) */
static GVariant *
task_init_check (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  return g_variant_new ("(bs)", initializer_ran,
                        initializer_arg != NULL ? initializer_arg : "");
}

/* garbage: writes a frame of an unknown kind on the control channel, then
 * blocks: the parent must kill this worker and fail the task with
 * PROC_ERROR_PROTOCOL. */
static GVariant *
task_garbage (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  const char *env = g_getenv ("PROCEXEC_CHANNEL_FD");
  int fd = env != NULL ? atoi (env) : 3;
  /* u32 length 8, u8 kind 0xee, u8 flags 0, u16 n_fds 0, then 8 bytes */
  static const guint8 frame[16] = { 8, 0, 0, 0, 0xee, 0, 0, 0,
                                    0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef };

  if (write (fd, frame, sizeof frame) != (ssize_t) sizeof frame)
    {
      g_set_error (error, TEST_ERROR, 101, "could not write garbage: %s",
                   g_strerror (errno));
      return NULL;
    }
  for (;;)
    pause ();
  return NULL; /* not reached */
}

/* ---- memory ------------------------------------------------------------- */

/* Resident memory of this process in bytes, as the executor measures it
 * (/proc/self/statm); 0 if it cannot be read. */
static guint64
self_rss (void)
{
  char *contents = NULL;
  guint64 size = 0, resident = 0;

  if (!g_file_get_contents ("/proc/self/statm", &contents, NULL, NULL))
    return 0;
  if (sscanf (contents, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &size, &resident) != 2)
    resident = 0;
  g_free (contents);
  return resident * (guint64) sysconf (_SC_PAGESIZE);
}

/* Touches every page of @data so that it becomes resident. */
static void
touch_pages (guint8 *data,
             gsize   size)
{
  long page = sysconf (_SC_PAGESIZE);

  for (gsize i = 0; i < size; i += (gsize) page)
    data[i] = (guint8) (i / (gsize) page + 1);
  if (size > 0)
    data[size - 1] = 1;
}

/* What 'leak' keeps: reachable to the end, so not a leak to LeakSanitizer,
 * but never freed. */
static GSList *leaked;

/* leak (u mib) -> (it pid, resident bytes after): allocates @mib MiB,
 * touches every page and keeps it. 0 MiB just reports. */
static GVariant *
task_leak (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  guint32 mib;

  if (!check_args (args, "(u)", error))
    return NULL;
  g_variant_get (args, "(u)", &mib);
  if (mib > 0)
    {
      gsize size = (gsize) mib * 1024 * 1024;
      guint8 *data = g_malloc (size);

      touch_pages (data, size);
      leaked = g_slist_prepend (leaked, data);
    }
  return g_variant_new ("(it)", (gint32) getpid (), self_rss ());
}

/* alloc (u mib) -> (u mib): allocates @mib MiB with g_malloc(), touches
 * it and frees it. An allocation that fails ends the worker (g_malloc()
 * aborts). */
static GVariant *
task_alloc (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  guint32 mib;
  gsize size;
  guint8 *data;

  if (!check_args (args, "(u)", error))
    return NULL;
  g_variant_get (args, "(u)", &mib);
  size = (gsize) mib * 1024 * 1024;
  no_core_dump ();
  data = g_malloc (MAX (size, 1));
  touch_pages (data, size);
  g_free (data);
  return g_variant_new ("(u)", mib);
}

/* try_alloc (u mib) -> (u mib), or TEST_ERROR code ENOMEM when the
 * allocation fails. */
static GVariant *
task_try_alloc (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  guint32 mib;
  gsize size;
  guint8 *data;

  if (!check_args (args, "(u)", error))
    return NULL;
  g_variant_get (args, "(u)", &mib);
  size = (gsize) mib * 1024 * 1024;
  data = g_try_malloc (MAX (size, 1));
  if (data == NULL)
    {
      g_set_error (error, TEST_ERROR, ENOMEM, "could not allocate %u MiB", mib);
      return NULL;
    }
  touch_pages (data, size);
  g_free (data);
  return g_variant_new ("(u)", mib);
}

/* rlimit_as -> (tt soft, hard): the worker's RLIMIT_AS, G_MAXUINT64 for
 * RLIM_INFINITY. */
static GVariant *
task_rlimit_as (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_AS, &rl) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "getrlimit: %s", g_strerror (saved));
      return NULL;
    }
  return g_variant_new ("(tt)",
                        rl.rlim_cur == RLIM_INFINITY ? G_MAXUINT64 : (guint64) rl.rlim_cur,
                        rl.rlim_max == RLIM_INFINITY ? G_MAXUINT64 : (guint64) rl.rlim_max);
}

/* shared (u size, y fill) -> (ay): @size bytes of @fill, filled in a
 * shared buffer, so that the result crosses to the parent uncopied. */
static GVariant *
task_shared (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  g_autoptr(ProcSharedBuffer) buf = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint32 size;
  guint8 fill;
  GVariant *array;

  if (!check_args (args, "(uy)", error))
    return NULL;
  g_variant_get (args, "(uy)", &size, &fill);
  buf = proc_shared_buffer_new (size, error);
  if (buf == NULL)
    return NULL;
  memset (proc_shared_buffer_get_data (buf), fill, size);
  bytes = proc_shared_buffer_free_to_bytes (g_steal_pointer (&buf), error);
  if (bytes == NULL)
    return NULL;
  array = g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE);
  return g_variant_new_tuple (&array, 1);
}

/* mapping (ay) -> (s path, t inode): the file the argument's bytes are
 * mapped from in this worker. */
static GVariant *
task_mapping (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  g_autoptr(GVariant) array = NULL;
  g_autofree char *path = NULL;
  guint64 inode;

  if (!check_args (args, "(ay)", error))
    return NULL;
  array = g_variant_get_child_value (args, 0);
  inode = test_mapping_inode (g_variant_get_data (array), &path);
  return g_variant_new ("(st)", path, inode);
}

/* pipe_result (s text, b fail) -> (h): the read end of a pipe holding
 * @text, sent with the result; or, when @fail, the same fd list set and
 * TEST_ERROR code 7 "failed after setting fds". */
static GVariant *
task_pipe_result (ProcTask *task, GVariant *args, gpointer user_data, GError **error)
{
  g_autoptr(GUnixFDList) fds = NULL;
  const char *text;
  gboolean fail;
  int pipe_fds[2];

  if (!check_args (args, "(sb)", error))
    return NULL;
  g_variant_get (args, "(&sb)", &text, &fail);
  if (pipe2 (pipe_fds, O_CLOEXEC) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "pipe2: %s", g_strerror (saved));
      return NULL;
    }
  if (write (pipe_fds[1], text, strlen (text)) != (gssize) strlen (text))
    g_error ("short write to a fresh pipe");
  close (pipe_fds[1]);
  fds = g_unix_fd_list_new_from_array (pipe_fds, 1);
  proc_task_set_result_fd_list (task, fds);
  if (fail)
    {
      g_set_error_literal (error, TEST_ERROR, 7, "failed after setting fds");
      return NULL;
    }
  return g_variant_new ("(h)", 0);
}

/* Declared here for -Wmissing-prototypes; the worker looks it up by name. */
G_MODULE_EXPORT gboolean proc_module_init (ProcWorker  *worker,
                                           GError     **error);

G_MODULE_EXPORT gboolean
proc_module_init (ProcWorker  *worker,
                  GError     **error)
{
  static const struct {
    const char *name;
    ProcTaskFunc func;
  } tasks[] = {
    { "echo", task_echo },
    { "add", task_add },
    { "box", task_box },
    { "sleep", task_sleep },
    { "sleep_report", task_sleep_report },
    { "fail", task_fail },
    { "fail_invalid_utf8", task_fail_invalid_utf8 },
    { "fail_on", task_fail_on },
    { "segfault", task_segfault },
    { "abort", task_abort },
    { "exit", task_exit },
    { "exit_keeping_channel", task_exit_keeping_channel },
    { "hang", task_hang },
    { "huge", task_huge },
    { "print", task_print },
    { "print_at_exit", task_print_at_exit },
    { "progress", task_progress },
    { "progress_out_of_range", task_progress_out_of_range },
    { "pid", task_pid },
    { "fdcount", task_fdcount },
    { "readfd", task_readfd },
    { "init_ok", task_init_ok },
    { "init_fail", task_init_fail },
    { "init_check", task_init_check },
    { "garbage", task_garbage },
    { "leak", task_leak },
    { "alloc", task_alloc },
    { "try_alloc", task_try_alloc },
    { "rlimit_as", task_rlimit_as },
    { "shared", task_shared },
    { "mapping", task_mapping },
    { "pipe_result", task_pipe_result },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (tasks); i++)
    proc_worker_register_task (worker, tasks[i].name, tasks[i].func, NULL, NULL);

  return TRUE;
}
