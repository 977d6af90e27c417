/*===- lmc-rt-api-test.c - The C API's ownership and threading rules ------===*
 *
 *   lmc-rt-api-test ownership ARTIFACT   free the model before its session
 *   lmc-rt-api-test threads ARTIFACT     sessions on four threads at once
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

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: lmc-rt-api-test ownership|threads ARTIFACT\n");
    return 2;
  }
  if (!strcmp(argv[1], "ownership"))
    return ownership(argv[2]);
  if (!strcmp(argv[1], "threads"))
    return threads(argv[2]);
  fprintf(stderr, "lmc-rt-api-test: unknown check '%s'\n", argv[1]);
  return 2;
}
