/*
 * Threads and instruction-set levels (issue 4): nn_set_num_threads /
 * nn_num_threads, bit-identical results for every thread count (GEMM and a
 * whole training run), and nn_cpu_level, which this suite checks against
 * the NN_CPU environment variable ctest runs it with (baseline, avx2,
 * avx512, or unset) and against this machine's own CPUID (nn_test.c). A
 * forced level the machine lacks skips the whole suite (exit 77, before any
 * test runs); see nn_test_check_level. The same executable runs under
 * qemu-x86_64 -cpu Nehalem, where only the baseline level may be chosen.
 */
#include "nn_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void thread_count_can_be_set(void **state) {
    (void)state;
    size_t n = 0;
    NN_ASSERT_OK(nn_set_num_threads(3));
    NN_ASSERT_OK(nn_num_threads(&n));
    assert_int_equal(n, 3);
    NN_ASSERT_OK(nn_set_num_threads(1));
    NN_ASSERT_OK(nn_num_threads(&n));
    assert_int_equal(n, 1);
    NN_ASSERT_OK(nn_set_num_threads(0)); /* the default: NN_NUM_THREADS or the CPU count */
    NN_ASSERT_OK(nn_num_threads(&n));
    assert_true(n >= 1);
    NN_ASSERT_ERROR(nn_set_num_threads(257), NN_ERROR_INVALID_ARGUMENT, "256", "257");
    NN_ASSERT_ERROR(nn_num_threads(NULL), NN_ERROR_NULL_POINTER, "out");
}

/* A GEMM large enough to be split gives the same bits on 1, 2 and 4 threads. */
static void gemm_is_bit_identical_across_thread_counts(void **state) {
    (void)state;
    enum { M = 160, N = 300, K = 200 };
    float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * K * N);
    float *c[3];
    for (size_t i = 0; i < (size_t)M * K; i++) a[i] = (float)sin((double)i * 0.37);
    for (size_t i = 0; i < (size_t)K * N; i++) b[i] = (float)cos((double)i * 0.11);
    const size_t threads[3] = {1, 2, 4};
    for (int t = 0; t < 3; t++) {
        NN_ASSERT_OK(nn_set_num_threads(threads[t]));
        c[t] = malloc(sizeof(float) * M * N);
        for (int transB = 0; transB < 2; transB++) {
            NN_ASSERT_OK(nn_sgemm(0, transB, M, N, K, 1.0f, a, K, b, transB ? K : N, 0.0f, c[t], N));
        }
    }
    assert_memory_equal(c[0], c[1], sizeof(float) * M * N);
    assert_memory_equal(c[0], c[2], sizeof(float) * M * N);
    for (int t = 0; t < 3; t++) free(c[t]);
    free(a);
    free(b);
    NN_ASSERT_OK(nn_set_num_threads(0));
}

/* Training a model whose layers are split across threads gives bit-identical
 * weights on 1 and 2 threads. */
static void training_is_bit_identical_across_thread_counts(void **state) {
    (void)state;
    enum { ROWS = 512, IN = 96, HIDDEN = 256, OUT = 10 };
    float *x = malloc(sizeof(float) * ROWS * IN), *y = malloc(sizeof(float) * ROWS);
    for (size_t i = 0; i < (size_t)ROWS * IN; i++) x[i] = (float)sin((double)i * 0.013);
    for (size_t r = 0; r < ROWS; r++) y[r] = (float)(r % OUT);
    float *weights[2];
    size_t count = (size_t)IN * HIDDEN;
    for (int t = 0; t < 2; t++) {
        NN_ASSERT_OK(nn_set_num_threads((size_t)t + 1));
        nn_model *model = NULL;
        NN_ASSERT_OK(nn_model_create(IN, 5, &model));
        NN_ASSERT_OK(nn_model_add_dense(model, HIDDEN, NN_ACTIVATION_RELU));
        NN_ASSERT_OK(nn_model_add_dense(model, OUT, NN_ACTIVATION_SOFTMAX));
        NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0));
        nn_optimizer_options adam;
        NN_ASSERT_OK(nn_optimizer_options_init(&adam, NN_OPTIMIZER_ADAM));
        NN_ASSERT_OK(nn_model_set_optimizer(model, &adam));
        nn_fit_options fit;
        nn_fit_options_init(&fit);
        fit.epochs = 2;
        fit.batch_size = 128;
        NN_ASSERT_OK(nn_model_fit(model, x, y, ROWS, IN, 1, &fit));
        weights[t] = malloc(sizeof(float) * count);
        NN_ASSERT_OK(nn_model_get_weight(model, 0, weights[t], count));
        nn_model_free(model);
    }
    assert_memory_equal(weights[0], weights[1], sizeof(float) * count);
    free(weights[0]);
    free(weights[1]);
    free(x);
    free(y);
    NN_ASSERT_OK(nn_set_num_threads(0));
}

/* nn_cpu_level agrees with NN_CPU when it is set to a level (ctest runs this
 * suite with each; the suite is skipped before this test when the machine
 * lacks the level); NN_EXPECT_LEVEL, when set, is the level that must be
 * chosen (the qemu run expects "baseline"); unforced, it is the best level
 * this machine has by its own CPUID. The GEMM of that level is checked
 * against a naive product. */
static void cpu_level_follows_the_environment(void **state) {
    (void)state;
    const char *level = nn_cpu_level();
    assert_non_null(level);
    assert_true(strcmp(level, "baseline") == 0 || strcmp(level, "avx2") == 0 || strcmp(level, "avx512") == 0);
    char why[256] = "";
    if (!nn_test_machine_has_level(level, why, sizeof why))
        fail_msg("libnn uses %s, which this machine lacks: %s", level, why);
    const char *expected = nn_test_expected_level();
    if (expected == NULL)
        fail_msg("NN_CPU=%s / NN_EXPECT_LEVEL=%s: this run should have been skipped or refused",
                 getenv("NN_CPU") ? getenv("NN_CPU") : "(unset)",
                 getenv("NN_EXPECT_LEVEL") ? getenv("NN_EXPECT_LEVEL") : "(unset)");
    print_message("NN_CPU=%s, level in use: %s, expected: %s\n",
                  getenv("NN_CPU") ? getenv("NN_CPU") : "(unset)", level, expected);
    assert_string_equal(level, expected);
    enum { M = 37, N = 45, K = 29 };
    float a[M * K], b[K * N], c[M * N];
    for (int i = 0; i < M * K; i++) a[i] = (float)((i * 7 % 13) - 6) / 4.0f;
    for (int i = 0; i < K * N; i++) b[i] = (float)((i * 5 % 11) - 5) / 4.0f;
    NN_ASSERT_OK(nn_sgemm(0, 0, M, N, K, 1.0f, a, K, b, N, 0.0f, c, N));
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int p = 0; p < K; p++) s += (double)a[i * K + p] * b[p * N + j];
            NN_ASSERT_CLOSE(c[i * N + j], s, 1e-5, 1e-5);
        }
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(thread_count_can_be_set),
    cmocka_unit_test(gemm_is_bit_identical_across_thread_counts),
    cmocka_unit_test(training_is_bit_identical_across_thread_counts),
    cmocka_unit_test(cpu_level_follows_the_environment),
};

/* nn_test_main checks the level first: skipped (77) when NN_CPU names a
 * level this machine lacks, failed when libnn's choice is wrong. */
NN_TEST_MAIN("threads", tests)
