/*===- lmc_rt.h - The lmc runtime C API -----------------------------------===*
 *
 * Loads a .lmx artifact, binds its weights (memory-mapped safetensors),
 * owns the inference state of a session and runs its entry points. Every
 * function returns a status; on failure lmc_rt_last_error() holds a one-line
 * message naming the file or argument at fault. Nothing prints or aborts.
 *
 * Ownership: a session holds a reference to its model, so freeing the model
 * first is allowed (it goes when its last session does). Threads: distinct
 * host sessions may run at once on different threads (the model is only
 * read); one session is used by one thread at a time. On CUDA a model's
 * sessions share one stream: call them from one thread. Tokenizers: below.
 *
 *===----------------------------------------------------------------------===*/

#ifndef LMC_RT_H
#define LMC_RT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lmc_rt_status {
  LMC_RT_OK = 0,
  LMC_RT_ERROR_IO,            /* a file could not be read */
  LMC_RT_ERROR_ARTIFACT,      /* the artifact is malformed or incompatible */
  LMC_RT_ERROR_WEIGHTS,       /* weights missing or not matching the artifact */
  LMC_RT_ERROR_ARGUMENT,      /* a bad argument (token id, length, option) */
  LMC_RT_ERROR_OUT_OF_MEMORY,
  LMC_RT_ERROR_BACKEND        /* the code object could not be loaded */
} lmc_rt_status_t;

typedef struct lmc_rt_model lmc_rt_model_t;
typedef struct lmc_rt_session lmc_rt_session_t;

/* The message of the last failure on this thread. */
const char *lmc_rt_last_error(void);

/* Where a model runs. */
typedef enum lmc_rt_device {
  LMC_RT_DEVICE_HOST = 0, /* the artifact's x86_64-host code object */
  LMC_RT_DEVICE_CUDA,     /* GPU 0 through the CUDA driver (libcuda.so.1) */
  LMC_RT_DEVICE_TRACE     /* no GPU: the sm_90a code runs against a driver
                             that executes nothing and records each kernel
                             launch (lmc_rt_model_take_trace); weights are
                             not read and the logits are zeros. One traced
                             model per process at a time. */
} lmc_rt_device_t;

/* Loads `artifact_path` to run on the host; weights come from `weights_path`
 * (a model folder, a .safetensors or .gguf file), or from where the artifact
 * was compiled when NULL. */
lmc_rt_status_t lmc_rt_model_load(const char *artifact_path,
                                  const char *weights_path,
                                  lmc_rt_model_t **model);
/* As lmc_rt_model_load, to run on `device`. LMC_RT_ERROR_BACKEND when the
 * device cannot be used (no CUDA driver, no GPU, wrong architecture). */
lmc_rt_status_t lmc_rt_model_load_on(lmc_rt_device_t device,
                                     const char *artifact_path,
                                     const char *weights_path,
                                     lmc_rt_model_t **model);
/* Releases the caller's reference; the model's sessions keep it alive. */
void lmc_rt_model_free(lmc_rt_model_t *model);

int64_t lmc_rt_model_vocab_size(const lmc_rt_model_t *model);
int64_t lmc_rt_model_max_context(const lmc_rt_model_t *model);
const char *lmc_rt_model_type(const lmc_rt_model_t *model);
/* Where the model's weights were loaded from. */
const char *lmc_rt_model_weights_source(const lmc_rt_model_t *model);

/* A kernel launch recorded on LMC_RT_DEVICE_TRACE. */
typedef struct lmc_rt_launch {
  const char *kernel;
  uint32_t grid[3], block[3];
  uint32_t shared_bytes; /* dynamic shared memory */
} lmc_rt_launch_t;

/* On LMC_RT_DEVICE_TRACE: the launches since the last take (a decode step
 * replayed from its graph counts its graph's launches), valid until the
 * next take or until the model is freed, and the device bytes allocated
 * meanwhile (weights and state at load and session creation, activations
 * when a call needs more than the allocator's cache holds). Returns the
 * number of launches; 0 on other devices. */
size_t lmc_rt_model_take_trace(lmc_rt_model_t *model,
                               const lmc_rt_launch_t **launches,
                               uint64_t *allocated_bytes);

typedef struct lmc_rt_session_options {
  int64_t batch;       /* sequences run together */
  int64_t max_context; /* tokens per sequence, prompt included */
  uint32_t flags;      /* LMC_RT_SESSION_* (0: the defaults) */
  /* Tokens per sequence one step takes (0: max_context). A forward call
   * of more tokens runs as several steps, each appending at most this many
   * (its logits are those of one call, up to rounding). On CUDA every
   * buffer a step uses (the workspace for the activations, the per-call
   * inputs and the logits) is reserved at session creation for a step of
   * batch x max_tokens tokens over max_context cache slots, so a smaller
   * value bounds the session's memory and no step allocates. */
  int64_t max_tokens;
} lmc_rt_session_options_t;

/* On CUDA, a decode step (a call with one token per sequence) is captured
 * into a CUDA graph the first time its shapes come, and later steps of the
 * same shapes replay it with one launch. The shapes depend on the batch and
 * on the cache slots the step reads: the longest sequence rounded up (at
 * most 1/8 more; the extra slots are masked), so a graph serves about 1/8 of
 * the context it was captured at. This flag launches every kernel of every
 * step instead (for debugging and comparison). */
#define LMC_RT_SESSION_NO_GRAPHS 1u
/* The session only asks for each sequence's last logits
 * (lmc_rt_session_forward_last), as generation does: on CUDA its logits
 * buffer and workspace are reserved for one row per sequence instead of
 * batch x max_tokens (Qwen3's vocabulary: 608 KB a token), and
 * lmc_rt_session_forward(_ragged) are refused. */
#define LMC_RT_SESSION_LAST_LOGITS 2u

lmc_rt_status_t lmc_rt_session_create(lmc_rt_model_t *model,
                                      const lmc_rt_session_options_t *options,
                                      lmc_rt_session_t **session);
void lmc_rt_session_free(lmc_rt_session_t *session);

/* The device memory reserved for the activations of the session's largest
 * step (0 on the host, where each step allocates its own). */
uint64_t lmc_rt_session_workspace_bytes(const lmc_rt_session_t *session);

/* Forgets the sequences: the next forward starts at position 0. */
void lmc_rt_session_reset(lmc_rt_session_t *session);
/* Tokens the longest sequence holds so far (every sequence's, when each
 * call gave all of them the same number). */
int64_t lmc_rt_session_length(const lmc_rt_session_t *session);
/* Tokens sequence `sequence` holds so far; -1 if there is no such sequence. */
int64_t lmc_rt_session_sequence_length(const lmc_rt_session_t *session,
                                       int64_t sequence);

/* Appends `tokens` tokens to every sequence (`ids` is [batch, tokens],
 * row-major), each at the positions after those it holds, and writes their
 * logits, [batch, tokens, vocab] floats, to `logits`. Prefill is a call
 * with the prompt, decode a call with one token. */
lmc_rt_status_t lmc_rt_session_forward(lmc_rt_session_t *session,
                                       const int64_t *ids, int64_t tokens,
                                       float *logits);
/* A ragged batch: sequence b appends the first `lengths[b]` (0 .. tokens)
 * ids of its row of `ids` [batch, tokens]; the rest of the row is padding
 * (not read, and no state changes for it). Row b of `logits` [batch, tokens,
 * vocab] holds at t < lengths[b] what the sequence would get alone, up to
 * rounding: sums over the cache run in an order that depends on the
 * longest sequence (the host vectorises them; GPU kernels are chosen by the
 * batch's shape). Padding rows hold unspecified finite values. A sequence
 * that has finished takes length 0. */
lmc_rt_status_t lmc_rt_session_forward_ragged(lmc_rt_session_t *session,
                                              const int64_t *ids,
                                              int64_t tokens,
                                              const int64_t *lengths,
                                              float *logits);
/* As lmc_rt_session_forward_ragged, but writes only each sequence's logits
 * at the last token it appends, [batch, vocab] floats (zeros for a sequence
 * that appends none): what generation needs after a prompt. The final norm
 * and the LM head run on those tokens alone, and only they are copied back. */
lmc_rt_status_t lmc_rt_session_forward_last(lmc_rt_session_t *session,
                                            const int64_t *ids, int64_t tokens,
                                            const int64_t *lengths,
                                            float *logits);

typedef struct lmc_rt_sampler {
  float temperature; /* 0: greedy */
  int32_t top_k;     /* 0: no limit */
  float top_p;       /* 1: no limit */
  uint64_t seed;
} lmc_rt_sampler_t;

/* Picks a token from `vocab` logits; `state` carries the random stream
 * (initialise it to the seed). */
int64_t lmc_rt_sample(const float *logits, int64_t vocab,
                      const lmc_rt_sampler_t *sampler, uint64_t *state);

/*===- Tokenizers and chat templates --------------------------------------===*
 *
 * The tokenizer of a Hugging Face folder (tokenizer.json, tokenizer_config.json
 * or chat_template.jinja, generation_config.json) or of a GGUF file. Functions
 * that return text or ids write at most `capacity` items and always set
 * `*count` / `*length` to the full size: call again with that much room when
 * it was larger. Text is NUL-terminated when there is room for the NUL. A
 * tokenizer is immutable after loading: every function may be called from
 * several threads at once.
 *===----------------------------------------------------------------------===*/

typedef struct lmc_rt_tokenizer lmc_rt_tokenizer_t;

/* Loads from a Hugging Face folder, its tokenizer.json or a GGUF file; for a
 * model's own, pass lmc_rt_model_weights_source(model). */
lmc_rt_status_t lmc_rt_tokenizer_load(const char *path,
                                      lmc_rt_tokenizer_t **tokenizer);
void lmc_rt_tokenizer_free(lmc_rt_tokenizer_t *tokenizer);

/* The ids of `length` bytes of `text` (invalid UTF-8 reads as U+FFFD); with
 * `add_special_tokens`, the tokens the tokenizer puts around a sequence (BOS)
 * as transformers' encode does by default. */
lmc_rt_status_t lmc_rt_tokenizer_encode(const lmc_rt_tokenizer_t *tokenizer,
                                        const char *text, size_t length,
                                        int add_special_tokens, int64_t *ids,
                                        size_t capacity, size_t *count);
/* The UTF-8 text of `ids` (ids outside the vocabulary are skipped). */
lmc_rt_status_t lmc_rt_tokenizer_decode(const lmc_rt_tokenizer_t *tokenizer,
                                        const int64_t *ids, size_t count,
                                        int skip_special_tokens, char *text,
                                        size_t capacity, size_t *length);

typedef struct lmc_rt_chat_message {
  const char *role;    /* "system", "user", "assistant", ... */
  const char *content; /* NUL-terminated UTF-8 */
} lmc_rt_chat_message_t;

/* The prompt the model's chat template renders for `messages`, ending with
 * the assistant's turn opened when `add_generation_prompt`; encode it without
 * special tokens. LMC_RT_ERROR_ARGUMENT when the template refuses the
 * conversation (its raise_exception message) or there is none. */
lmc_rt_status_t lmc_rt_tokenizer_apply_chat_template(
    const lmc_rt_tokenizer_t *tokenizer, const lmc_rt_chat_message_t *messages,
    size_t count, int add_generation_prompt, char *text, size_t capacity,
    size_t *length);

/* The ids that end a turn (end of sequence, end of turn), at most `capacity`
 * of them; returns how many there are. */
size_t lmc_rt_tokenizer_stop_ids(const lmc_rt_tokenizer_t *tokenizer,
                                 int64_t *ids, size_t capacity);

#ifdef __cplusplus
}
#endif

#endif /* LMC_RT_H */
