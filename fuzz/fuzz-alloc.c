/* fuzz-alloc.c: counts the bytes allocated by malloc and friends, so that
 * the harnesses can assert that decoding a frame never allocates far more
 * than the frame's own size
 *
 * Two ways, chosen at compile time:
 *   - under AddressSanitizer (the meson ASan build, and libFuzzer builds),
 *     the sanitizer's allocator hooks;
 *   - otherwise this file defines malloc, free, calloc, realloc and the
 *     aligned allocators, which glibc supports replacing (every other
 *     allocation of glibc and GLib goes through them), and forwards them to
 *     glibc's own __libc_* functions.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz-common.h"

static gint64 current_bytes;
static gint64 peak_bytes;

static inline void
count_alloc (gsize n)
{
  gint64 now = __atomic_add_fetch (&current_bytes, (gint64) n, __ATOMIC_RELAXED);
  gint64 peak = __atomic_load_n (&peak_bytes, __ATOMIC_RELAXED);

  while (now > peak &&
         !__atomic_compare_exchange_n (&peak_bytes, &peak, now, TRUE,
                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    ;
}

static inline void
count_free (gsize n)
{
  __atomic_sub_fetch (&current_bytes, (gint64) n, __ATOMIC_RELAXED);
}

gint64
fuzz_alloc_mark (void)
{
  gint64 now = __atomic_load_n (&current_bytes, __ATOMIC_RELAXED);

  __atomic_store_n (&peak_bytes, now, __ATOMIC_RELAXED);
  return now;
}

gint64
fuzz_alloc_peak (void)
{
  return __atomic_load_n (&peak_bytes, __ATOMIC_RELAXED);
}

#if defined (__SANITIZE_ADDRESS__)
# define FUZZ_ASAN 1
#elif defined (__has_feature)
# if __has_feature (address_sanitizer)
#  define FUZZ_ASAN 1
# endif
#endif

#ifdef FUZZ_ASAN

/* <sanitizer/allocator_interface.h> is in clang's headers, not gcc's. */
int    __sanitizer_install_malloc_and_free_hooks (void (*malloc_hook) (const volatile void *, size_t),
                                                  void (*free_hook) (const volatile void *));
size_t __sanitizer_get_allocated_size            (const volatile void *p);

static void
malloc_hook (const volatile void *p, size_t size)
{
  count_alloc (size);
}

static void
free_hook (const volatile void *p)
{
  /* Runs before the chunk is released: its size is still known. */
  count_free (__sanitizer_get_allocated_size (p));
}

gboolean
fuzz_alloc_init (void)
{
  static int installed = -1;

  if (installed < 0)
    installed = __sanitizer_install_malloc_and_free_hooks (malloc_hook, free_hook) != 0;
  return installed;
}

#else /* !FUZZ_ASAN: replace malloc */

void *__libc_malloc   (size_t size);
void *__libc_calloc   (size_t n, size_t size);
void *__libc_realloc  (void *p, size_t size);
void *__libc_memalign (size_t alignment, size_t size);
void  __libc_free     (void *p);

static inline void *
counted (void *p)
{
  if (p != NULL)
    count_alloc (malloc_usable_size (p));
  return p;
}

void *
malloc (size_t size)
{
  return counted (__libc_malloc (size));
}

void *
calloc (size_t n, size_t size)
{
  return counted (__libc_calloc (n, size));
}

void *
realloc (void *p, size_t size)
{
  gsize old = p != NULL ? malloc_usable_size (p) : 0;
  void *q = __libc_realloc (p, size);

  if (q != NULL || size == 0)
    count_free (old);
  return counted (q);
}

void
free (void *p)
{
  if (p != NULL)
    count_free (malloc_usable_size (p));
  __libc_free (p);
}

void *
memalign (size_t alignment, size_t size)
{
  return counted (__libc_memalign (alignment, size));
}

void *
aligned_alloc (size_t alignment, size_t size)
{
  return counted (__libc_memalign (alignment, size));
}

int
posix_memalign (void **out, size_t alignment, size_t size)
{
  void *p;

  if (alignment % sizeof (void *) != 0 || (alignment & (alignment - 1)) != 0 || alignment == 0)
    return EINVAL;
  p = __libc_memalign (alignment, size);
  if (p == NULL)
    return ENOMEM;
  *out = counted (p);
  return 0;
}

void *
valloc (size_t size)
{
  return counted (__libc_memalign ((size_t) sysconf (_SC_PAGESIZE), size));
}

void *
pvalloc (size_t size)
{
  size_t page = (size_t) sysconf (_SC_PAGESIZE);

  return counted (__libc_memalign (page, (size + page - 1) & ~(page - 1)));
}

gboolean
fuzz_alloc_init (void)
{
  return TRUE;
}

#endif
