/*
 * nn_sgemm against a naive triple loop in double: the four transpose
 * combinations, odd and blocked sizes, alpha and beta, padded leading
 * dimensions (padding holds NaN, which must never be read), beta = 0 with
 * NaN in C, empty sizes, and bad arguments.
 *
 * ctest runs it once unforced and once per kernel level forced with NN_CPU
 * (test_sgemm_baseline, _avx2, _avx512). Before any test, nn_test_main
 * checks that libnn really uses the forced level, or skips the whole suite
 * (exit 77, "SKIPPED: this CPU lacks avx512 ...") when this machine lacks
 * it, so a run on another level never counts as a pass of this one.
 */
#include "nn_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Element (i, j) of op(M) for M stored row-major with stride ld. */
static double op(const float *m, size_t ld, int trans, size_t i, size_t j) {
    return trans ? m[j * ld + i] : m[i * ld + j];
}

typedef struct gemm_case {
    int ta, tb;
    size_t m, n, k;
    float alpha, beta;
    size_t pad_a, pad_b, pad_c; /* extra floats per stored row */
} gemm_case;

/* Runs one case against the reference; returns nothing, fails on mismatch. */
static void check_case(const gemm_case *g, uint64_t seed) {
    const size_t a_rows = g->ta ? g->k : g->m, a_cols = g->ta ? g->m : g->k;
    const size_t b_rows = g->tb ? g->n : g->k, b_cols = g->tb ? g->k : g->n;
    const size_t lda = a_cols + g->pad_a, ldb = b_cols + g->pad_b, ldc = g->n + g->pad_c;
    float *a = malloc((a_rows * lda + 1) * sizeof *a);
    float *b = malloc((b_rows * ldb + 1) * sizeof *b);
    float *c = malloc((g->m * ldc + 1) * sizeof *c);
    float *c0 = malloc((g->m * ldc + 1) * sizeof *c0);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(c0);
    nn_test_rng rng = {seed};
    /* Fill everything with NaN, then the used parts with values: a read of
     * padding shows up as NaN in the result. */
    for (size_t i = 0; i < a_rows * lda; i++) a[i] = NAN;
    for (size_t i = 0; i < b_rows * ldb; i++) b[i] = NAN;
    for (size_t i = 0; i < g->m * ldc; i++) c[i] = NAN;
    for (size_t r = 0; r < a_rows; r++) nn_test_fill(&rng, a + r * lda, a_cols, -1, 1);
    for (size_t r = 0; r < b_rows; r++) nn_test_fill(&rng, b + r * ldb, b_cols, -1, 1);
    if (g->beta != 0.0f)
        for (size_t r = 0; r < g->m; r++) nn_test_fill(&rng, c + r * ldc, g->n, -1, 1);
    memcpy(c0, c, g->m * ldc * sizeof *c);

    NN_ASSERT_OK(nn_sgemm(g->ta, g->tb, g->m, g->n, g->k, g->alpha, a, lda, b, ldb, g->beta, c,
                          ldc));

    for (size_t i = 0; i < g->m; i++) {
        for (size_t j = 0; j < g->n; j++) {
            double dot = 0, mag = 0;
            for (size_t p = 0; p < g->k; p++) {
                double t = op(a, lda, g->ta, i, p) * op(b, ldb, g->tb, p, j);
                dot += t;
                mag += fabs(t);
            }
            double want = g->alpha * dot;
            double scale = fabs(g->alpha) * mag;
            if (g->beta != 0.0f) {
                want += g->beta * (double)c0[i * ldc + j];
                scale += fabs(g->beta * (double)c0[i * ldc + j]);
            }
            double got = c[i * ldc + j];
            /* float accumulation: error grows with k at most linearly. */
            double tol = 4e-7 * (double)(g->k + 2) * scale + 1e-6;
            if (!(fabs(got - want) <= tol))
                fail_msg("sgemm(ta=%d, tb=%d, m=%zu, n=%zu, k=%zu, alpha=%g, beta=%g, "
                         "pads %zu/%zu/%zu): C[%zu][%zu] = %.9g, expected %.9g",
                         g->ta, g->tb, g->m, g->n, g->k, (double)g->alpha, (double)g->beta,
                         g->pad_a, g->pad_b, g->pad_c, i, j, got, want);
        }
        /* The padding of C is never written. */
        for (size_t j = g->n; j < ldc; j++)
            if (!isnan(c[i * ldc + j]))
                fail_msg("sgemm wrote C[%zu][%zu], in the padding beyond n = %zu", i, j, g->n);
    }
    free(a);
    free(b);
    free(c);
    free(c0);
}

static void all_transposes_small(void **state) {
    (void)state;
    const size_t sizes[][3] = {{1, 1, 1}, {2, 3, 4}, {7, 13, 5}, {5, 1, 9}, {1, 17, 3},
                               {16, 16, 16}, {33, 31, 29}};
    uint64_t seed = 1;
    for (int ta = 0; ta <= 1; ta++)
        for (int tb = 0; tb <= 1; tb++)
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                gemm_case g = {ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], 1.0f, 0.0f, 0, 0, 0};
                check_case(&g, seed++);
            }
}

static void alpha_and_beta(void **state) {
    (void)state;
    const float ab[][2] = {{1, 1}, {0.5f, -1.5f}, {-2, 0}, {0, 2}, {0, 0}, {1, -1}, {3, 0.25f}};
    uint64_t seed = 100;
    for (int ta = 0; ta <= 1; ta++)
        for (int tb = 0; tb <= 1; tb++)
            for (size_t i = 0; i < sizeof ab / sizeof ab[0]; i++) {
                gemm_case g = {ta, tb, 9, 11, 7, ab[i][0], ab[i][1], 0, 0, 0};
                check_case(&g, seed++);
            }
}

static void padded_leading_dimensions(void **state) {
    (void)state;
    uint64_t seed = 200;
    for (int ta = 0; ta <= 1; ta++)
        for (int tb = 0; tb <= 1; tb++) {
            gemm_case g = {ta, tb, 13, 10, 21, 1.25f, 0.5f, 3, 5, 7};
            check_case(&g, seed++);
            gemm_case h = {ta, tb, 37, 70, 45, -1.0f, 0.0f, 1, 16, 2};
            check_case(&h, seed++);
        }
}

/* Sizes that cross the blocking of a tuned kernel (panels of 6-12 rows,
 * 16-32 columns, k blocks of a few hundred) and leave ragged edges. */
static void blocked_sizes(void **state) {
    (void)state;
    const size_t sizes[][3] = {{197, 67, 515}, {64, 257, 33}, {12, 32, 600}, {130, 129, 1}};
    uint64_t seed = 300;
    for (int ta = 0; ta <= 1; ta++)
        for (int tb = 0; tb <= 1; tb++)
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                gemm_case g = {ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], 0.75f, -0.5f,
                               ta + 1, 2 * tb, 3};
                check_case(&g, seed++);
            }
}

/* Big enough for a multi-threaded path, if there is one. */
static void large_square(void **state) {
    (void)state;
    gemm_case g = {0, 0, 300, 280, 260, 1.0f, 1.0f, 0, 0, 0};
    check_case(&g, 400);
    gemm_case h = {1, 1, 256, 256, 256, 1.0f, 0.0f, 0, 0, 0};
    check_case(&h, 401);
}

/* beta = 0: C is not read, so NaN and infinity in C are overwritten. */
static void beta_zero_ignores_c(void **state) {
    (void)state;
    const float a[6] = {1, 2, 3, 4, 5, 6};       /* 2x3 */
    const float b[6] = {1, 0, 0, 1, 1, 1};       /* 3x2 */
    float c[4] = {NAN, INFINITY, -INFINITY, NAN};
    NN_ASSERT_OK(nn_sgemm(0, 0, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2));
    const float want[4] = {1 + 3, 2 + 3, 4 + 6, 5 + 6};
    for (int i = 0; i < 4; i++) assert_true(c[i] == want[i]);
    /* Also when alpha is 0 (the product vanishes): C becomes 0. */
    float d[4] = {NAN, NAN, NAN, NAN};
    NN_ASSERT_OK(nn_sgemm(1, 1, 2, 2, 3, 0.0f, b, 2, a, 3, 0.0f, d, 2));
    for (int i = 0; i < 4; i++) assert_true(d[i] == 0.0f);
}

/* A hand-worked product with every transpose: A = [[1,2],[3,4]], B = [[5,6],[7,8]]. */
static void hand_worked(void **state) {
    (void)state;
    const float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
    const float want[4][4] = {
        {19, 22, 43, 50}, /* A B */
        {17, 23, 39, 53}, /* A B^T */
        {26, 30, 38, 44}, /* A^T B */
        {23, 31, 34, 46}, /* A^T B^T */
    };
    for (int ta = 0; ta <= 1; ta++)
        for (int tb = 0; tb <= 1; tb++) {
            float c[4] = {1, 1, 1, 1};
            NN_ASSERT_OK(nn_sgemm(ta, tb, 2, 2, 2, 1.0f, a, 2, b, 2, 10.0f, c, 2));
            for (int i = 0; i < 4; i++) assert_true(c[i] == want[ta * 2 + tb][i] + 10.0f);
        }
}

/* k = 0: the product is empty, so C = beta * C, and A and B are not read
 * (they may be NULL). m = 0 or n = 0: nothing is read or written. */
static void empty_sizes(void **state) {
    (void)state;
    float c[6] = {1, 2, 3, 4, 5, 6};
    NN_ASSERT_OK(nn_sgemm(0, 0, 2, 3, 0, 1.0f, NULL, 1, NULL, 3, 2.0f, c, 3));
    for (int i = 0; i < 6; i++) assert_true(c[i] == 2.0f * (float)(i + 1));
    c[0] = NAN;
    NN_ASSERT_OK(nn_sgemm(1, 1, 2, 3, 0, 1.0f, NULL, 2, NULL, 0, 0.0f, c, 3));
    for (int i = 0; i < 6; i++) assert_true(c[i] == 0.0f);

    float untouched[4] = {7, 7, 7, 7};
    const float a[4] = {1, 1, 1, 1};
    NN_ASSERT_OK(nn_sgemm(0, 0, 0, 2, 2, 1.0f, a, 2, a, 2, 0.0f, untouched, 2));
    NN_ASSERT_OK(nn_sgemm(0, 0, 2, 0, 2, 1.0f, a, 2, a, 2, 0.0f, untouched, 2));
    NN_ASSERT_OK(nn_sgemm(0, 0, 0, 0, 0, 1.0f, NULL, 0, NULL, 0, 0.0f, NULL, 0));
    NN_ASSERT_OK(nn_sgemm(0, 0, 0, 5, 5, 1.0f, NULL, 5, NULL, 5, 1.0f, NULL, 5));
    for (int i = 0; i < 4; i++) assert_true(untouched[i] == 7.0f);
}

static void rejects_bad_arguments(void **state) {
    (void)state;
    float a[16] = {0}, b[16] = {0}, c[16];
    for (int i = 0; i < 16; i++) c[i] = 9.0f;

    NN_ASSERT_ERROR(nn_sgemm(2, 0, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2), NN_ERROR_INVALID_ARGUMENT,
                    "trans_a", "2");
    NN_ASSERT_ERROR(nn_sgemm(0, -1, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2), NN_ERROR_INVALID_ARGUMENT,
                    "trans_b");
    NN_ASSERT_ERROR(nn_sgemm(0, 0, 2, 2, 2, 1, NULL, 2, b, 2, 0, c, 2), NN_ERROR_NULL_POINTER,
                    "a is null");
    NN_ASSERT_ERROR(nn_sgemm(0, 0, 2, 2, 2, 1, a, 2, NULL, 2, 0, c, 2), NN_ERROR_NULL_POINTER,
                    "b is null");
    NN_ASSERT_ERROR(nn_sgemm(0, 0, 2, 2, 2, 1, a, 2, b, 2, 0, NULL, 2), NN_ERROR_NULL_POINTER,
                    "c is null");
    /* k = 0 still writes C: C may not be NULL. */
    NN_ASSERT_ERROR(nn_sgemm(0, 0, 2, 2, 0, 1, NULL, 1, NULL, 2, 0, NULL, 2),
                    NN_ERROR_NULL_POINTER, "c is null");

    /* Leading dimensions below the stored width: A is m x k = 3 x 4 here. */
    NN_ASSERT_ERROR(nn_sgemm(0, 0, 3, 2, 4, 1, a, 3, b, 2, 0, c, 2), NN_ERROR_SHAPE_MISMATCH,
                    "lda", "3");
    /* Transposed A is stored k x m = 4 x 3: lda >= 3 is enough, 2 is not. */
    NN_ASSERT_OK(nn_sgemm(1, 0, 3, 2, 4, 1, a, 3, b, 2, 0, c, 2));
    for (int i = 0; i < 6; i++) assert_true(c[i] == 0.0f); /* A and B are zeros */
    for (int i = 0; i < 16; i++) c[i] = 9.0f;
    NN_ASSERT_ERROR(nn_sgemm(1, 0, 3, 2, 4, 1, a, 2, b, 2, 0, c, 2), NN_ERROR_SHAPE_MISMATCH,
                    "lda");
    /* B is k x n = 4 x 2: ldb >= 2; transposed, n x k = 2 x 4: ldb >= 4. */
    NN_ASSERT_ERROR(nn_sgemm(0, 0, 3, 2, 4, 1, a, 4, b, 1, 0, c, 2), NN_ERROR_SHAPE_MISMATCH,
                    "ldb");
    NN_ASSERT_ERROR(nn_sgemm(0, 1, 3, 2, 4, 1, a, 4, b, 3, 0, c, 2), NN_ERROR_SHAPE_MISMATCH,
                    "ldb");
    NN_ASSERT_ERROR(nn_sgemm(0, 0, 3, 2, 4, 1, a, 4, b, 2, 0, c, 1), NN_ERROR_SHAPE_MISMATCH,
                    "ldc");

    /* Sizes whose products overflow: refused before anything is touched. */
    NN_ASSERT_SIZE_ERROR(nn_sgemm(0, 0, SIZE_MAX, 2, 2, 1, a, 2, b, 2, 0, c, 2), "m");
    NN_ASSERT_SIZE_ERROR(nn_sgemm(0, 0, 2, 2, SIZE_MAX / 2, 1, a, SIZE_MAX / 2, b, 2, 0, c, 2),
                         "A ");
    NN_ASSERT_ERROR(nn_sgemm(0, 0, (SIZE_MAX >> 2) + 1, 4, 1, 1, a, 1, b, 4, 0, c, 4),
                    NN_ERROR_SHAPE_MISMATCH, "large");
    NN_ASSERT_ERROR(nn_sgemm(0, 0, 2, 2, 2, 1, a, SIZE_MAX, b, 2, 0, c, 2),
                    NN_ERROR_SHAPE_MISMATCH, "lda");

    /* No failed call wrote C. */
    for (int i = 0; i < 16; i++) assert_true(c[i] == 9.0f);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(hand_worked),
    cmocka_unit_test(all_transposes_small),
    cmocka_unit_test(alpha_and_beta),
    cmocka_unit_test(padded_leading_dimensions),
    cmocka_unit_test(blocked_sizes),
    cmocka_unit_test(large_square),
    cmocka_unit_test(beta_zero_ignores_c),
    cmocka_unit_test(empty_sizes),
    cmocka_unit_test(rejects_bad_arguments),
};

NN_TEST_MAIN("sgemm", tests)
