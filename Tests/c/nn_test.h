/*
 * Shared helpers of the cmocka suites in Tests/c.
 *
 * Every suite includes this header (which includes cmocka.h in the order
 * cmocka needs) and links nn_test.c.
 */
#ifndef NN_TEST_H
#define NN_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "nn.h"

/* ------------------------------------------------------------------------ */
/* Status assertions                                                        */
/* ------------------------------------------------------------------------ */

/* Fails the test unless `call` returns NN_OK; the failure report shows the
 * expression, the status and nn_last_error(). */
#define NN_ASSERT_OK(call) nn_test_assert_ok((call), #call, __FILE__, __LINE__)

/* Fails the test unless `call` returns `want` and nn_last_error() is a
 * non-empty message containing each of the given strings (compared without
 * regard to case). At least one string must be given: every error test
 * states what the message must name. */
#define NN_ASSERT_ERROR(call, want, ...)                                              \
    nn_test_assert_error((call), (want), #call, __FILE__, __LINE__, __VA_ARGS__, \
                         (const char *)NULL)

void nn_test_assert_ok(nn_status status, const char *expr, const char *file, int line);
void nn_test_assert_error(nn_status got, nn_status want, const char *expr, const char *file,
                          int line, ...);

/* Fails the test unless `call` returns NN_ERROR_SHAPE_MISMATCH with a
 * message that names `what` and says the size overflows or is too large. */
#define NN_ASSERT_SIZE_ERROR(call, what) \
    nn_test_assert_size_error((call), (what), #call, __FILE__, __LINE__)
void nn_test_assert_size_error(nn_status got, const char *what, const char *expr,
                               const char *file, int line);

/* Non-zero if `text` contains `needle`, ignoring ASCII case. */
int nn_test_contains(const char *text, const char *needle);

/* Fails unless |got - want| <= atol + rtol * |want| (and both are finite
 * when want is). */
#define NN_ASSERT_CLOSE(got, want, rtol, atol) \
    nn_test_assert_close((double)(got), (double)(want), (rtol), (atol), #got, __FILE__, __LINE__)
void nn_test_assert_close(double got, double want, double rtol, double atol, const char *expr,
                          const char *file, int line);

/* ------------------------------------------------------------------------ */
/* Models                                                                   */
/* ------------------------------------------------------------------------ */

/* One layer of a model built by nn_test_model. */
typedef struct nn_test_layer {
    size_t units;
    nn_activation activation;
} nn_test_layer;

/* Creates a model of input_dim inputs with the given Dense layers; fails the
 * test on any error. */
nn_model *nn_test_model(size_t input_dim, uint64_t seed, size_t n_layers,
                        const nn_test_layer *layers);

/* Sets the loss and an optimizer with its defaults except the learning rate. */
void nn_test_compile(nn_model *model, nn_loss loss, int from_logits, nn_optimizer kind,
                     double learning_rate);

/* All weights of a model, concatenated in weight-index order (malloc'd; the
 * caller frees). *count receives nn_model_parameter_count. */
float *nn_test_weights(const nn_model *model, size_t *count);

/* Element count of weight array `index`. */
size_t nn_test_weight_size(const nn_model *model, size_t index);

/* Sets weight `index` from `count` values; fails the test on error. */
void nn_test_set_weight(nn_model *model, size_t index, const float *values, size_t count);

/* A pointer that is not a live nn_model: a freed handle. */
nn_model *nn_test_freed_handle(void);

/* ------------------------------------------------------------------------ */
/* Data                                                                     */
/* ------------------------------------------------------------------------ */

/* A small deterministic generator for test data (splitmix64). */
typedef struct nn_test_rng {
    uint64_t state;
} nn_test_rng;

uint64_t nn_test_next(nn_test_rng *rng);
/* Uniform in [lo, hi). */
float nn_test_uniform(nn_test_rng *rng, float lo, float hi);
/* Fills n floats uniformly in [lo, hi). */
void nn_test_fill(nn_test_rng *rng, float *values, size_t n, float lo, float hi);

/* ------------------------------------------------------------------------ */
/* Running a suite                                                          */
/* ------------------------------------------------------------------------ */

/* Runs the tests; argv[1], if given, is a cmocka name filter ("*fit*"). */
int nn_test_main(int argc, char **argv, const char *suite, const struct CMUnitTest *tests,
                 size_t count);

#define NN_TEST_MAIN(suite, tests) \
    int main(int argc, char **argv) { \
        return nn_test_main(argc, argv, suite, tests, sizeof(tests) / sizeof((tests)[0])); \
    }

#endif /* NN_TEST_H */
