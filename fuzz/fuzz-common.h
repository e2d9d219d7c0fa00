/* fuzz-common.h: what the decoder fuzzers, their replay driver, the corpus
 * generator and the hostile worker share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

G_BEGIN_DECLS

/* ---- the input format ---------------------------------------------------
 *
 * An input is the byte stream a decoder receives, as is, with no fds. An
 * input that starts with FUZZ_FD_MAGIC ("PXFD", which read as a frame header
 * is a length of 1.1 GB: never a valid frame) is a container instead:
 *
 *   "PXFD" u8 n            n % (FUZZ_MAX_FDS + 1) fds follow
 *   n times: u8 type, then per type (u32 is little endian; "content" is the
 *            next min (len, what is left) bytes of the input):
 *     0 FUZZ_FD_SEALED_MEMFD    u32 len, content      a memfd with every seal
 *     1 FUZZ_FD_MEMFD           u8 seals, u8 pages, u32 len, content
 *                               a memfd, ftruncate()d to len + pages * 4096
 *                               (a sparse tail), then sealed with @seals:
 *                               bit 0 SEAL, 1 SHRINK, 2 GROW, 3 WRITE,
 *                               4 FUTURE_WRITE
 *     2 FUZZ_FD_PIPE            u32 len, content      the read end of a pipe
 *                               holding the content (at most 4096 bytes)
 *     3 FUZZ_FD_DEVNULL                               /dev/null
 *     4 FUZZ_FD_SOCKET                                one end of a socketpair
 *     5 FUZZ_FD_DUP                                   a dup of the previous fd
 *     6 FUZZ_FD_FILE            u32 len, content      a regular file that is
 *                               not a memfd (O_TMPFILE)
 *     7 FUZZ_FD_UNSEALABLE      u32 len, content      a memfd created without
 *                               MFD_ALLOW_SEALING
 *   then the stream: every byte left.
 *
 * The fds are handed to the channel with the stream, as if they had all
 * arrived with its first byte (the channel requires fds to arrive no later
 * than the bytes of their frame).
 */
#define FUZZ_FD_MAGIC     "PXFD"
#define FUZZ_FD_MAGIC_LEN 4
#define FUZZ_MAX_FDS      72   /* more than one frame may claim (65) */

typedef enum {
  FUZZ_FD_SEALED_MEMFD = 0,
  FUZZ_FD_MEMFD        = 1,
  FUZZ_FD_PIPE         = 2,
  FUZZ_FD_DEVNULL      = 3,
  FUZZ_FD_SOCKET       = 4,
  FUZZ_FD_DUP          = 5,
  FUZZ_FD_FILE         = 6,
  FUZZ_FD_UNSEALABLE   = 7,
} FuzzFdType;

typedef struct {
  const guint8 *stream;
  gsize         stream_len;
  int           fds[FUZZ_MAX_FDS];
  guint         n_fds;
  gsize         fd_bytes;     /* the size of every memfd and file made */
} FuzzInput;

/* Parses @data and makes its fds. Aborts if the system refuses an fd. */
void     fuzz_input_open          (FuzzInput    *input,
                                   const guint8 *data,
                                   gsize         size);
/* Aborts unless every fd fuzz_input_open() made is closed now. */
void     fuzz_input_assert_closed (FuzzInput    *input);
/* Closes the fds nobody took. */
void     fuzz_input_close         (FuzzInput    *input);

/* Appends a container's fd description to @out (for the generator). */
void     fuzz_input_add_memfd     (GByteArray   *out,
                                   FuzzFdType    type,
                                   guint8        seals,
                                   guint8        pages,
                                   const guint8 *content,
                                   guint32       len);

/* ---- allocation accounting ----------------------------------------------
 *
 * Counts the bytes the process has allocated with malloc and friends: by
 * interposing malloc in a plain build, through the sanitizer allocator hooks
 * in an ASan build. The count may start anywhere (memory freed that was
 * allocated before the hooks is subtracted too); only differences mean
 * something. */
gboolean fuzz_alloc_init          (void);        /* FALSE: not available */
gint64   fuzz_alloc_mark          (void);        /* peak := now; returns now */
gint64   fuzz_alloc_peak          (void);

/* ---- the decoders -------------------------------------------------------- */

typedef struct {
  guint    n_frames;
  gboolean error;          /* decoding stopped on a malformed frame */
  gboolean partial;        /* bytes are left that do not make a frame yet */
  gboolean rejected;       /* a frame the consumer would die or kill for */
  char    *error_message;
} FuzzOutcome;

void     fuzz_outcome_clear       (FuzzOutcome  *outcome);

typedef struct _FuzzConsumer FuzzConsumer;
typedef void (*FuzzConsumeFunc) (FuzzConsumer *consumer,
                                 guint8        kind,
                                 GVariant     *payload,
                                 GUnixFDList  *fds);
struct _FuzzConsumer {
  FuzzConsumeFunc consume;
  guint           n_frames;
  gboolean        rejected;   /* set by consume() */
};

/* One input through a ProcChannel (PEER_IS_WORKER if @from_worker) and
 * @consumer, with every check: see fuzz-decoder.c. */
void     fuzz_decode              (const guint8 *data,
                                   gsize         size,
                                   gboolean      from_worker,
                                   FuzzConsumer *consumer,
                                   FuzzOutcome  *outcome);

/* Prints (as a TAP comment) the largest allocations the checks saw. */
void     fuzz_print_stats         (void);

/* Deserializes @value completely (normal form, printing, children) and
 * checks what must hold of any GVariant. */
void     fuzz_consume_value       (GVariant     *value);
/* Looks at every fd of @fds as a task would (fstat, seals). */
void     fuzz_consume_fds         (GUnixFDList  *fds);

/* Installs a log writer that aborts on warnings and criticals. */
void     fuzz_init                (void);

/* Aborts with a message (and a stack trace under a sanitizer). */
G_NORETURN void fuzz_fail         (const char   *format,
                                   ...) G_GNUC_PRINTF (1, 2);
#define fuzz_check(expr, ...) \
  G_STMT_START { if (G_UNLIKELY (!(expr))) fuzz_fail (__VA_ARGS__); } G_STMT_END

/* Each harness defines this; LLVMFuzzerTestOneInput() and the replay driver
 * call it. */
void     fuzz_target              (const guint8 *data,
                                   gsize         size,
                                   FuzzOutcome  *outcome);
extern const char fuzz_target_name[];

int      LLVMFuzzerTestOneInput   (const uint8_t *data,
                                   size_t         size);
int      LLVMFuzzerInitialize     (int           *argc,
                                   char        ***argv);

G_END_DECLS
