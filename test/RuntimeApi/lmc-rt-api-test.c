/*===- lmc-rt-api-test.c - The C API's rules, exercised from C ------------===*
 *
 *   lmc-rt-api-test ownership ARTIFACT   free the model before its session
 *   lmc-rt-api-test threads ARTIFACT     sessions on four threads at once
 *   lmc-rt-api-test ragged ARTIFACT      a batch of sequences of different
 *                                        lengths, one finishing early
 *   lmc-rt-api-test steps ARTIFACT       a call longer than max_tokens runs
 *                                        as several steps
 *
 * Each prints what it checked and exits non-zero on a mismatch. Plain C, so
 * it also checks that lmc_rt.h is a C header.
 *
 *===----------------------------------------------------------------------===*/

#include "lmc_rt/lmc_rt.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kTokens = 5, kThreads = 4, kRounds = 20 };
static const int64_t kPrompt[kTokens] = {1, 5, 9, 3, 7};

static int check(lmc_rt_status_t status, const char *what) {
  if (status == LMC_RT_OK)
    return 1;
  fprintf(stderr, "%s: %s\n", what, lmc_rt_last_error());
  return 0;
}

/* The logits of the prompt, then of one decoded token, in a new session. */
static int runPrompt(lmc_rt_model_t *model, float *logits) {
  lmc_rt_session_options_t options = {1, 16};
  lmc_rt_session_t *session = NULL;
  if (!check(lmc_rt_session_create(model, &options, &session), "session"))
    return 0;
  int64_t vocab = lmc_rt_model_vocab_size(model);
  int64_t next = 2;
  int ok =
      check(lmc_rt_session_forward(session, kPrompt, kTokens, logits),
            "prefill") &&
      check(lmc_rt_session_forward(session, &next, 1, logits + kTokens * vocab),
            "decode");
  lmc_rt_session_free(session);
  return ok;
}

static int ownership(const char *artifact) {
  lmc_rt_model_t *model = NULL;
  if (!check(lmc_rt_model_load(artifact, NULL, &model), "load"))
    return 1;
  int64_t vocab = lmc_rt_model_vocab_size(model);
  size_t count = (size_t)((kTokens + 1) * vocab);
  float *expected = calloc(count, sizeof(float));
  float *got = calloc(count, sizeof(float));
  if (!runPrompt(model, expected))
    return 1;
  /* The session outlives the caller's reference to the model. */
  lmc_rt_session_options_t options = {1, 16};
  lmc_rt_session_t *session = NULL;
  if (!check(lmc_rt_session_create(model, &options, &session), "session"))
    return 1;
  lmc_rt_model_free(model);
  int64_t next = 2;
  if (!check(lmc_rt_session_forward(session, kPrompt, kTokens, got),
             "prefill after freeing the model") ||
      !check(lmc_rt_session_forward(session, &next, 1, got + kTokens * vocab),
             "decode after freeing the model"))
    return 1;
  lmc_rt_session_free(session); /* frees the model */
  int same = memcmp(expected, got, count * sizeof(float)) == 0;
  printf("ownership: a session outlives lmc_rt_model_free: %s\n",
         same ? "same logits" : "DIFFERENT logits");
  free(expected);
  free(got);
  return same ? 0 : 1;
}

struct Worker {
  lmc_rt_model_t *model;
  const float *expected;
  size_t count;
  int mismatches;
  pthread_t thread;
};

static void *work(void *arg) {
  struct Worker *w = arg;
  float *got = calloc(w->count, sizeof(float));
  for (int round = 0; round < kRounds; ++round)
    if (!runPrompt(w->model, got) ||
        memcmp(got, w->expected, w->count * sizeof(float)) != 0)
      ++w->mismatches;
  free(got);
  return NULL;
}

static int threads(const char *artifact) {
  lmc_rt_model_t *model = NULL;
  if (!check(lmc_rt_model_load(artifact, NULL, &model), "load"))
    return 1;
  size_t count = (size_t)((kTokens + 1) * lmc_rt_model_vocab_size(model));
  float *expected = calloc(count, sizeof(float));
  if (!runPrompt(model, expected))
    return 1;
  struct Worker workers[kThreads];
  for (int i = 0; i < kThreads; ++i) {
    workers[i] = (struct Worker){model, expected, count, 0, 0};
    pthread_create(&workers[i].thread, NULL, work, &workers[i]);
  }
  int mismatches = 0;
  for (int i = 0; i < kThreads; ++i) {
    pthread_join(workers[i].thread, NULL);
    mismatches += workers[i].mismatches;
  }
  printf("threads: %d sessions x %d rounds at once, %d differ from one "
         "thread's logits\n",
         kThreads, kRounds, mismatches);
  lmc_rt_model_free(model);
  free(expected);
  return mismatches ? 1 : 0;
}

/* Runs `steps` calls of `tokens[i]` tokens in a batch-1 session: `ids` holds
 * them one call after the other; `logits` gets every call's rows. */
static int runAlone(lmc_rt_model_t *model, const int64_t *ids,
                    const int64_t *tokens, int steps, float *logits) {
  lmc_rt_session_options_t options = {1, 16};
  lmc_rt_session_t *session = NULL;
  if (!check(lmc_rt_session_create(model, &options, &session), "session"))
    return 0;
  int64_t vocab = lmc_rt_model_vocab_size(model);
  int ok = 1;
  for (int i = 0; i < steps && ok; ++i) {
    ok = check(lmc_rt_session_forward(session, ids, tokens[i], logits),
               "forward alone");
    ids += tokens[i];
    logits += tokens[i] * vocab;
  }
  lmc_rt_session_free(session);
  return ok;
}

/* Sequence 0: a 5-token prompt, then tokens 2 and 6. Sequence 1: a 2-token
 * prompt, a step it sits out (length 0: it has finished, or waits), then 6.
 * Each must get the logits it gets alone, up to the rounding of a reduction
 * over a longer (padded) context: max|diff| / max|alone| <= 1e-5, the measure
 * lmc-run --check-ragged uses. */
static const double kRaggedTolerance = 1e-5;

/* Folds rows [got, got + count) against [alone, ...) into *maxDiff and
 * *maxAlone. */
static void compareRows(const float *alone, const float *got, size_t count,
                        double *maxDiff, double *maxAlone) {
  for (size_t i = 0; i < count; ++i) {
    double diff = fabs((double)alone[i] - (double)got[i]);
    if (diff > *maxDiff || isnan(diff))
      *maxDiff = isnan(diff) ? INFINITY : diff;
    if (fabs((double)alone[i]) > *maxAlone)
      *maxAlone = fabs((double)alone[i]);
  }
}

static const char *verdict(double maxDiff, double maxAlone) {
  return maxDiff <= kRaggedTolerance * maxAlone ? "same logits up to 1e-5"
                                                : "DIFFERENT logits";
}

static int ragged(const char *artifact) {
  lmc_rt_model_t *model = NULL;
  if (!check(lmc_rt_model_load(artifact, NULL, &model), "load"))
    return 1;
  int64_t vocab = lmc_rt_model_vocab_size(model);
  lmc_rt_session_options_t options = {2, 16};
  lmc_rt_session_t *session = NULL;
  if (!check(lmc_rt_session_create(model, &options, &session), "session"))
    return 1;
  float *batch = calloc((size_t)(2 * (kTokens + 2) * vocab), sizeof(float));
  float *alone = calloc((size_t)((kTokens + 2) * vocab), sizeof(float));
  /* Prompts [2, 5]: sequence 1's row is padded with an id outside the
   * vocabulary, which must not be read. */
  int64_t prompts[2 * kTokens] = {1, 5, 9, 3, 7, 4, 8, -1, -1, -1};
  int64_t promptLengths[2] = {kTokens, 2};
  int64_t second[2] = {2, 0}, secondLengths[2] = {1, 0};
  int64_t third[2] = {6, 6}, ones[2] = {1, 1};
  float *prefill = batch, *step2 = batch + 2 * kTokens * vocab,
        *step3 = step2 + 2 * vocab;
  if (!check(lmc_rt_session_forward_ragged(session, prompts, kTokens,
                                           promptLengths, prefill),
             "ragged prefill") ||
      !check(lmc_rt_session_forward_ragged(session, second, 1, secondLengths,
                                           step2),
             "sequence 1 sits out") ||
      !check(lmc_rt_session_forward_ragged(session, third, 1, ones, step3),
             "both decode"))
    return 1;
  printf("ragged: lengths after the calls: %lld and %lld (longest %lld)\n",
         (long long)lmc_rt_session_sequence_length(session, 0),
         (long long)lmc_rt_session_sequence_length(session, 1),
         (long long)lmc_rt_session_length(session));

  /* Sequence 0 alone: its prompt, 2, 6. */
  int64_t ids0[kTokens + 2] = {1, 5, 9, 3, 7, 2, 6},
                         steps0[3] = {kTokens, 1, 1};
  size_t row = (size_t)vocab;
  double diff0 = 0, alone0 = 0;
  if (!runAlone(model, ids0, steps0, 3, alone))
    return 1;
  compareRows(alone, prefill, kTokens * row, &diff0, &alone0);
  compareRows(alone + kTokens * vocab, step2, row, &diff0, &alone0);
  compareRows(alone + (kTokens + 1) * vocab, step3, row, &diff0, &alone0);
  printf("ragged: sequence 0 (5 + 1 + 1 tokens) alone: %s\n",
         verdict(diff0, alone0));
  /* Sequence 1 alone: its prompt, then 6. */
  int64_t ids1[3] = {4, 8, 6}, steps1[2] = {2, 1};
  double diff1 = 0, alone1 = 0;
  if (!runAlone(model, ids1, steps1, 2, alone))
    return 1;
  compareRows(alone, prefill + kTokens * vocab, 2 * row, &diff1, &alone1);
  compareRows(alone + 2 * vocab, step3 + vocab, row, &diff1, &alone1);
  printf("ragged: sequence 1 (2 + 0 + 1 tokens) alone: %s\n",
         verdict(diff1, alone1));

  /* Bad lengths: one line each, the session unchanged. */
  int64_t tooLong[2] = {2, 1};
  if (lmc_rt_session_forward_ragged(session, third, 1, tooLong, step3) !=
      LMC_RT_ERROR_ARGUMENT)
    return 1;
  printf("ragged: %s\n", lmc_rt_last_error());
  int64_t full[2 * 10] = {0}, fullLengths[2] = {10, 10};
  float *big = calloc((size_t)(2 * 10 * vocab), sizeof(float));
  if (lmc_rt_session_forward_ragged(session, full, 10, fullLengths, big) !=
      LMC_RT_ERROR_ARGUMENT)
    return 1;
  printf("ragged: %s\n", lmc_rt_last_error());
  lmc_rt_session_free(session);
  lmc_rt_model_free(model);
  free(big);
  free(batch);
  free(alone);
  return diff0 > kRaggedTolerance * alone0 || diff1 > kRaggedTolerance * alone1;
}

/* A ragged prompt batch (5 and 2 tokens) in steps of at most 2 tokens
 * (max_tokens): the same logits as in one step, for every real row; the
 * second sequence has no token in the last two steps. */
static int steps(const char *artifact) {
  lmc_rt_model_t *model = NULL;
  if (!check(lmc_rt_model_load(artifact, NULL, &model), "load"))
    return 1;
  int64_t vocab = lmc_rt_model_vocab_size(model);
  int64_t prompts[2 * kTokens] = {1, 5, 9, 3, 7, 4, 8, -1, -1, -1};
  int64_t lengths[2] = {kTokens, 2};
  size_t count = (size_t)(2 * kTokens * vocab);
  float *whole = calloc(count, sizeof(float));
  float *stepped = calloc(count, sizeof(float));
  int ok = 1;
  for (int64_t maxTokens = 0; maxTokens <= 2 && ok; maxTokens += 2) {
    lmc_rt_session_options_t options = {2, 16, 0, maxTokens};
    lmc_rt_session_t *session = NULL;
    ok = check(lmc_rt_session_create(model, &options, &session), "session") &&
         check(lmc_rt_session_forward_ragged(session, prompts, kTokens,
                                             lengths,
                                             maxTokens ? stepped : whole),
               "prefill");
    if (ok)
      printf("steps: max_tokens %lld: lengths %lld and %lld, workspace %llu "
             "bytes\n",
             (long long)maxTokens,
             (long long)lmc_rt_session_sequence_length(session, 0),
             (long long)lmc_rt_session_sequence_length(session, 1),
             (unsigned long long)lmc_rt_session_workspace_bytes(session));
    lmc_rt_session_free(session);
  }
  double diff = 0, scale = 0;
  compareRows(whole, stepped, (size_t)(kTokens * vocab), &diff, &scale);
  compareRows(whole + kTokens * vocab, stepped + kTokens * vocab,
              (size_t)(2 * vocab), &diff, &scale);
  printf("steps: 5 + 2 tokens in steps of 2 vs one step: %s\n",
         verdict(diff, scale));

  /* Only each sequence's last logits (lmc_rt_session_forward_last), in
   * steps of 2: the rows of its last token in the one-step call; then a
   * step where sequence 0 appends nothing: its row is zeros. */
  float *last = calloc((size_t)(2 * vocab), sizeof(float));
  lmc_rt_session_options_t options = {2, 16, 0, 2};
  lmc_rt_session_t *session = NULL;
  int64_t next[2] = {0, 6}, nextLengths[2] = {0, 1};
  if (!check(lmc_rt_session_create(model, &options, &session), "session") ||
      !check(lmc_rt_session_forward_last(session, prompts, kTokens, lengths,
                                         last),
             "last logits"))
    return 1;
  double lastDiff = 0, lastScale = 0;
  compareRows(whole + (kTokens - 1) * vocab, last, (size_t)vocab, &lastDiff,
              &lastScale);
  compareRows(whole + (kTokens + 1) * vocab, last + vocab, (size_t)vocab,
              &lastDiff, &lastScale);
  printf("steps: each sequence's last logits alone: %s\n",
         verdict(lastDiff, lastScale));
  if (!check(lmc_rt_session_forward_last(session, next, 1, nextLengths, last),
             "one sequence appends"))
    return 1;
  int zeros = 1;
  for (int64_t v = 0; v < vocab; ++v)
    zeros &= last[v] == 0.0f;
  printf("steps: a sequence appending nothing: %s\n",
         zeros ? "zero logits" : "NONZERO logits");
  lmc_rt_session_free(session);
  /* A session for last logits only refuses a call for every row. */
  lmc_rt_session_options_t lastOnly = {2, 16, LMC_RT_SESSION_LAST_LOGITS, 0};
  if (!check(lmc_rt_session_create(model, &lastOnly, &session), "session") ||
      !check(lmc_rt_session_forward_last(session, prompts, kTokens, lengths,
                                         last),
             "last logits only") ||
      lmc_rt_session_forward_ragged(session, prompts, kTokens, lengths,
                                    whole) != LMC_RT_ERROR_ARGUMENT)
    return 1;
  printf("steps: %s\n", lmc_rt_last_error());
  lmc_rt_session_free(session);
  free(last);
  lmc_rt_session_options_t negative = {1, 16, 0, -1};
  lmc_rt_session_t *refused = NULL;
  if (lmc_rt_session_create(model, &negative, &refused) !=
      LMC_RT_ERROR_ARGUMENT)
    return 1;
  printf("steps: %s\n", lmc_rt_last_error());
  lmc_rt_model_free(model);
  free(whole);
  free(stepped);
  return !ok || !zeros || diff > kRaggedTolerance * scale ||
         lastDiff > kRaggedTolerance * lastScale;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr,
            "usage: lmc-rt-api-test ownership|threads|ragged|steps ARTIFACT\n");
    return 2;
  }
  if (!strcmp(argv[1], "ownership"))
    return ownership(argv[2]);
  if (!strcmp(argv[1], "threads"))
    return threads(argv[2]);
  if (!strcmp(argv[1], "ragged"))
    return ragged(argv[2]);
  if (!strcmp(argv[1], "steps"))
    return steps(argv[2]);
  fprintf(stderr, "lmc-rt-api-test: unknown check '%s'\n", argv[1]);
  return 2;
}
