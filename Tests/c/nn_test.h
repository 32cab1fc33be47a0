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

/* All weight arrays of a model, concatenated in weight-index order
 * (malloc'd; the caller frees). *count receives their total element count:
 * nn_model_parameter_count plus the running statistics of batch
 * normalization, which the helper checks. */
float *nn_test_weights(const nn_model *model, size_t *count);

/* Non-zero if both models hold bit-identical weights (every array, the
 * running statistics included). */
int nn_test_same_weights(const nn_model *a, const nn_model *b);

/* Element count of weight array `index`. */
size_t nn_test_weight_size(const nn_model *model, size_t index);

/* Sets weight `index` from `count` values; fails the test on error. */
void nn_test_set_weight(nn_model *model, size_t index, const float *values, size_t count);

/* A new model loaded from `model` saved to memory with its optimizer
 * (nn_model_save_to_buffer, nn_model_load_from_buffer); fails the test on
 * error. The caller frees it. */
nn_model *nn_test_reload(const nn_model *model);

/* A pointer that is not a live nn_model: a freed handle. */
nn_model *nn_test_freed_handle(void);

/* Predicts rows of x and returns the outputs [rows, output_dim] (malloc'd;
 * the caller frees); fails the test on error. */
float *nn_test_predict(nn_model *model, const float *x, size_t rows, size_t x_cols);

/* ------------------------------------------------------------------------ */
/* Training                                                                 */
/* ------------------------------------------------------------------------ */

/* nn_fit_options with the given epochs, batch size and shuffle flag, the
 * rest the defaults. */
nn_fit_options nn_test_fit_options(size_t epochs, size_t batch_size, int shuffle);

enum { NN_TEST_MAX_LOGS = 16, NN_TEST_MAX_EPOCHS = 256, NN_TEST_NAME = 48 };

/* The logs of every epoch of one or more fits, recorded by nn_test_record
 * (an nn_epoch_callback whose user_data is the history). */
typedef struct nn_test_history {
    size_t epochs;                                   /* callbacks received */
    size_t n_logs;                                   /* logs per epoch */
    char names[NN_TEST_MAX_LOGS][NN_TEST_NAME];      /* their names */
    double values[NN_TEST_MAX_EPOCHS][NN_TEST_MAX_LOGS];
    size_t epoch_arg[NN_TEST_MAX_EPOCHS];            /* the epoch argument of each call */
    int consistent;                                  /* the same names in every call */
    size_t stop_after;                               /* return 1 after this many calls (0: never) */
} nn_test_history;

void nn_test_history_init(nn_test_history *h);
int nn_test_record(void *user_data, size_t epoch, size_t n_logs, const char *const *names,
                   const double *values);
/* Non-zero if the history has a log called `name`. */
int nn_test_has_log(const nn_test_history *h, const char *name);
/* The value of log `name` in call `call` (0-based); fails the test if the
 * log or the call does not exist. */
double nn_test_log(const nn_test_history *h, size_t call, const char *name);
/* Sets the callback of *o to record into h. */
void nn_test_record_into(nn_fit_options *o, nn_test_history *h);

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
/* Zeros y (rows x classes) and sets one 1 per row, in a column drawn from
 * rng (one draw per row, in row order). */
void nn_test_one_hot(nn_test_rng *rng, float *y, size_t rows, size_t classes);

/* ------------------------------------------------------------------------ */
/* Instruction-set levels                                                   */
/* ------------------------------------------------------------------------ */

/* Exit status of a suite that did not run because this machine lacks the
 * kernel level it was asked to test; ctest's SKIP_RETURN_CODE. */
enum { NN_TEST_SKIPPED = 77 };

/* Non-zero if this machine (its CPU and the register state its OS enables)
 * can run libnn's kernel level `level` ("baseline", "avx2" or "avx512", as
 * nn_cpu_level names them; any case), decided here from CPUID and XGETBV,
 * independently of libnn. When it cannot, and `why` is not NULL, `why`
 * receives what is missing. */
int nn_test_machine_has_level(const char *level, char *why, size_t why_size);

/* The highest level this machine can run (by nn_test_machine_has_level). */
const char *nn_test_machine_best_level(void);

/* The level libnn must be using in this run, from the environment:
 * NN_EXPECT_LEVEL when set, else the level forced with NN_CPU, else the
 * machine's best (also when NN_CPU is not a level name: libnn then uses
 * the best). NULL when the run must be skipped, because NN_CPU or
 * NN_EXPECT_LEVEL names a level this machine lacks, or when
 * NN_EXPECT_LEVEL is not a level name. */
const char *nn_test_expected_level(void);

/* Checks the kernel level before a suite runs and prints one line about it:
 * "<suite>: kernel level: avx2 (forced by NN_CPU=avx2)" and returns 0 when
 * libnn uses the expected level; "<suite>: SKIPPED: this CPU lacks avx512
 * (...)" and returns NN_TEST_SKIPPED when NN_CPU or NN_EXPECT_LEVEL names a
 * level this machine lacks (libnn must then use the best level the machine
 * has); a message on stderr and 1 when libnn's choice is wrong (a level the
 * machine has refused, a level it lacks used, or not the expected one). */
int nn_test_check_level(const char *suite);

/* ------------------------------------------------------------------------ */
/* Running a suite                                                          */
/* ------------------------------------------------------------------------ */

/* Checks the kernel level (nn_test_check_level), then runs the tests;
 * argv[1], if given, is a cmocka name filter ("*fit*"). Returns 0 when every
 * test passed, 1 when any failed (never a count, which could read as
 * NN_TEST_SKIPPED or wrap to 0), NN_TEST_SKIPPED when the suite was
 * skipped. */
int nn_test_main(int argc, char **argv, const char *suite, const struct CMUnitTest *tests,
                 size_t count);

#define NN_TEST_MAIN(suite, tests) \
    int main(int argc, char **argv) { \
        return nn_test_main(argc, argv, suite, tests, sizeof(tests) / sizeof((tests)[0])); \
    }

#endif /* NN_TEST_H */
