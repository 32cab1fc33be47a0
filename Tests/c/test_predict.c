/*
 * Inference: nn_model_predict against a double-precision C reference of
 * the forward pass, for every activation, and its bad inputs.
 */
#include "nn_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Applies `act` to a row of n pre-activations, in place. */
static void reference_activation(nn_activation act, double *z, size_t n) {
    switch (act) {
    case NN_ACTIVATION_LINEAR: break;
    case NN_ACTIVATION_SIGMOID:
        for (size_t i = 0; i < n; i++) z[i] = 1.0 / (1.0 + exp(-z[i]));
        break;
    case NN_ACTIVATION_TANH:
        for (size_t i = 0; i < n; i++) z[i] = tanh(z[i]);
        break;
    case NN_ACTIVATION_RELU:
        for (size_t i = 0; i < n; i++) z[i] = z[i] > 0 ? z[i] : 0;
        break;
    case NN_ACTIVATION_SOFTMAX: {
        double max = z[0], sum = 0;
        for (size_t i = 1; i < n; i++) max = z[i] > max ? z[i] : max;
        for (size_t i = 0; i < n; i++) sum += (z[i] = exp(z[i] - max));
        for (size_t i = 0; i < n; i++) z[i] /= sum;
        break;
    }
    default: fail_msg("unknown activation %d", (int)act);
    }
}

/* The forward pass of `model` on x [rows, input_dim], computed in double
 * from the model's own weights; returns [rows, output_dim] (malloc'd). */
static double *reference_forward(const nn_model *model, const float *x, size_t rows) {
    size_t layers = 0, in = 0, params = 0;
    NN_ASSERT_OK(nn_model_layer_count(model, &layers));
    NN_ASSERT_OK(nn_model_input_dim(model, &in));
    float *w = nn_test_weights(model, &params);
    double *cur = malloc(rows * in * sizeof *cur);
    assert_non_null(cur);
    for (size_t i = 0; i < rows * in; i++) cur[i] = x[i];
    const float *p = w;
    for (size_t l = 0; l < layers; l++) {
        size_t units = 0;
        nn_activation act = NN_ACTIVATION_LINEAR;
        NN_ASSERT_OK(nn_model_layer_info(model, l, &units, &act));
        const float *kernel = p, *bias = p + in * units;
        double *next = malloc(rows * units * sizeof *next);
        assert_non_null(next);
        for (size_t r = 0; r < rows; r++) {
            for (size_t u = 0; u < units; u++) {
                double z = bias[u];
                for (size_t i = 0; i < in; i++) z += cur[r * in + i] * kernel[i * units + u];
                next[r * units + u] = z;
            }
            reference_activation(act, next + r * units, units);
        }
        free(cur);
        cur = next;
        p += in * units + units;
        in = units;
    }
    assert_int_equal((size_t)(p - w), params);
    free(w);
    return cur;
}

/* The kernel is [inputs, units], row-major; output = x · W + b. */
static void hand_worked_dense(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{3, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(2, 1, 1, layers);
    const float kernel[6] = {1, 2, 3,
                             4, 5, 6};
    const float bias[3] = {0.5f, -1, 2};
    nn_test_set_weight(model, 0, kernel, 6);
    nn_test_set_weight(model, 1, bias, 3);
    const float x[4] = {1, -1,
                        0.5f, 2};
    float out[6];
    NN_ASSERT_OK(nn_model_predict(model, x, 2, 2, out, 6));
    const float want[6] = {1 - 4 + 0.5f, 2 - 5 - 1, 3 - 6 + 2,
                           0.5f + 8 + 0.5f, 1 + 10 - 1, 1.5f + 12 + 2};
    for (int i = 0; i < 6; i++) NN_ASSERT_CLOSE(out[i], want[i], 1e-6, 1e-6);
    nn_model_free(model);
}

/* Each activation on its own, on values covering both signs. */
static void each_activation(void **state) {
    (void)state;
    const nn_activation acts[] = {NN_ACTIVATION_LINEAR, NN_ACTIVATION_SIGMOID,
                                  NN_ACTIVATION_TANH, NN_ACTIVATION_RELU,
                                  NN_ACTIVATION_SOFTMAX};
    nn_test_rng rng = {17};
    enum { ROWS = 9, IN = 5, UNITS = 4 };
    float x[ROWS * IN];
    nn_test_fill(&rng, x, ROWS * IN, -2.0f, 2.0f);
    for (size_t a = 0; a < 5; a++) {
        const nn_test_layer layers[] = {{UNITS, acts[a]}};
        nn_model *model = nn_test_model(IN, 100 + a, 1, layers);
        float bias[UNITS];
        nn_test_fill(&rng, bias, UNITS, -1.0f, 1.0f);
        nn_test_set_weight(model, 1, bias, UNITS);
        float out[ROWS * UNITS];
        NN_ASSERT_OK(nn_model_predict(model, x, ROWS, IN, out, ROWS * UNITS));
        double *want = reference_forward(model, x, ROWS);
        for (size_t i = 0; i < ROWS * UNITS; i++) NN_ASSERT_CLOSE(out[i], want[i], 1e-5, 1e-6);
        if (acts[a] == NN_ACTIVATION_SOFTMAX) {
            for (size_t r = 0; r < ROWS; r++) {
                double sum = 0;
                for (size_t u = 0; u < UNITS; u++) sum += out[r * UNITS + u];
                NN_ASSERT_CLOSE(sum, 1.0, 0, 1e-6);
            }
        }
        free(want);
        nn_model_free(model);
    }
}

/* A deep stack, larger than a single tile of the kernels, with many rows. */
static void deep_network(void **state) {
    (void)state;
    const nn_test_layer layers[] = {
        {67, NN_ACTIVATION_RELU},   {33, NN_ACTIVATION_TANH}, {129, NN_ACTIVATION_SIGMOID},
        {17, NN_ACTIVATION_LINEAR}, {5, NN_ACTIVATION_SOFTMAX},
    };
    enum { ROWS = 301, IN = 23 };
    nn_model *model = nn_test_model(IN, 4242, 5, layers);
    nn_test_rng rng = {5};
    float *x = malloc(ROWS * IN * sizeof *x);
    float *out = malloc(ROWS * 5 * sizeof *out);
    assert_non_null(x);
    assert_non_null(out);
    nn_test_fill(&rng, x, ROWS * IN, -1.5f, 1.5f);
    NN_ASSERT_OK(nn_model_predict(model, x, ROWS, IN, out, ROWS * 5));
    double *want = reference_forward(model, x, ROWS);
    for (size_t i = 0; i < ROWS * 5; i++) NN_ASSERT_CLOSE(out[i], want[i], 1e-4, 1e-5);
    /* Rows are independent: predicting one row gives that row's outputs. */
    float one[5];
    NN_ASSERT_OK(nn_model_predict(model, x + 150 * IN, 1, IN, one, 5));
    for (size_t u = 0; u < 5; u++) NN_ASSERT_CLOSE(one[u], out[150 * 5 + u], 1e-5, 1e-6);
    free(want);
    free(x);
    free(out);
    nn_model_free(model);
}

/* Softmax of large logits stays finite and exact (no overflow of exp). */
static void softmax_large_logits(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{3, NN_ACTIVATION_SOFTMAX}};
    nn_model *model = nn_test_model(1, 1, 1, layers);
    const float kernel[3] = {1000, 999, -1000};
    const float bias[3] = {0, 0, 0};
    nn_test_set_weight(model, 0, kernel, 3);
    nn_test_set_weight(model, 1, bias, 3);
    const float x[2] = {1, -1};
    float out[6];
    NN_ASSERT_OK(nn_model_predict(model, x, 2, 1, out, 6));
    NN_ASSERT_CLOSE(out[0], 1.0 / (1.0 + exp(-1.0)), 1e-6, 1e-7);
    NN_ASSERT_CLOSE(out[1], exp(-1.0) / (1.0 + exp(-1.0)), 1e-6, 1e-7);
    NN_ASSERT_CLOSE(out[2], 0.0, 0, 1e-30);
    NN_ASSERT_CLOSE(out[3], 0.0, 0, 1e-30);
    NN_ASSERT_CLOSE(out[5], 1.0, 1e-6, 0);
    nn_model_free(model);
}

/* out may be larger than needed: nothing past rows * output_dim is written. */
static void predict_leaves_extra_capacity(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{2, NN_ACTIVATION_TANH}};
    nn_model *model = nn_test_model(3, 1, 1, layers);
    const float x[6] = {1, 2, 3, 4, 5, 6};
    float out[10];
    for (int i = 0; i < 10; i++) out[i] = 77.0f;
    NN_ASSERT_OK(nn_model_predict(model, x, 2, 3, out, 10));
    for (int i = 0; i < 4; i++) assert_true(out[i] != 77.0f && fabsf(out[i]) <= 1.0f);
    for (int i = 4; i < 10; i++) assert_true(out[i] == 77.0f);
    nn_model_free(model);
}

static void predict_rejects_bad_inputs(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{2, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(3, 1, 1, layers);
    float x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    float out[8];
    for (int i = 0; i < 8; i++) out[i] = 77.0f;

    NN_ASSERT_ERROR(nn_model_predict(model, x, 2, 2, out, 8), NN_ERROR_SHAPE_MISMATCH,
                    "expected 3 input columns, got 2");
    NN_ASSERT_ERROR(nn_model_predict(model, x, 2, 4, out, 8), NN_ERROR_SHAPE_MISMATCH,
                    "expected 3 input columns, got 4");
    /* Too small an output buffer: 2 rows need 4 floats. */
    NN_ASSERT_ERROR(nn_model_predict(model, x, 2, 3, out, 3), NN_ERROR_SHAPE_MISMATCH, "4", "3");
    NN_ASSERT_ERROR(nn_model_predict(model, x, 2, 3, out, 0), NN_ERROR_SHAPE_MISMATCH, "4");
    NN_ASSERT_ERROR(nn_model_predict(model, NULL, 2, 3, out, 8), NN_ERROR_NULL_POINTER, "x");
    NN_ASSERT_ERROR(nn_model_predict(model, x, 2, 3, NULL, 8), NN_ERROR_NULL_POINTER, "out");

    /* rows * x_cols overflows size_t: refused before anything is read. */
    NN_ASSERT_SIZE_ERROR(nn_model_predict(model, x, SIZE_MAX, 3, out, 8), "x");
    NN_ASSERT_SIZE_ERROR(nn_model_predict(model, x, SIZE_MAX / 3 + 1, 3, out, 8), "x");
    NN_ASSERT_SIZE_ERROR(nn_model_predict(model, x, (SIZE_MAX >> 1) + 1, 3, out, 8), "x");
    {
        /* 2^62 rows of 4 columns: the product wraps to exactly 0, which
         * must not pass for an empty input. */
        const nn_test_layer wide[] = {{1, NN_ACTIVATION_LINEAR}};
        nn_model *four = nn_test_model(4, 1, 1, wide);
        NN_ASSERT_SIZE_ERROR(nn_model_predict(four, x, (SIZE_MAX >> 2) + 1, 4, out, 8), "x");
        nn_model_free(four);
    }

    /* NaN or infinity in x. */
    x[4] = NAN;
    NN_ASSERT_ERROR(nn_model_predict(model, x, 2, 3, out, 8), NN_ERROR_NON_FINITE, "finite");
    x[4] = 5;
    x[5] = -INFINITY;
    NN_ASSERT_ERROR(nn_model_predict(model, x, 2, 3, out, 8), NN_ERROR_NON_FINITE, "finite");
    x[5] = 6;

    for (int i = 0; i < 8; i++) assert_true(out[i] == 77.0f);
    NN_ASSERT_OK(nn_model_predict(model, x, 2, 3, out, 8));
    nn_model_free(model);
}

/* out_capacity is what the caller's buffer holds; SIZE_MAX is not "too
 * small", so the call succeeds and writes rows * output_dim floats. */
static void predict_huge_capacity(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{2, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(3, 1, 1, layers);
    const float x[6] = {1, 2, 3, 4, 5, 6};
    float out[6] = {77, 77, 77, 77, 77, 77}, want[4];
    NN_ASSERT_OK(nn_model_predict(model, x, 2, 3, want, 4));
    NN_ASSERT_OK(nn_model_predict(model, x, 2, 3, out, SIZE_MAX));
    assert_memory_equal(out, want, sizeof want);
    assert_true(out[4] == 77.0f && out[5] == 77.0f);
    nn_model_free(model);
}

static void predict_without_layers(void **state) {
    (void)state;
    nn_model *model = nn_test_model(3, 1, 0, NULL);
    const float x[3] = {1, 2, 3};
    float out[3];
    NN_ASSERT_ERROR(nn_model_predict(model, x, 1, 3, out, 3), NN_ERROR_INVALID_STATE, "layer");
    nn_model_free(model);
}

/* Zero rows: nothing to predict. Per the header's conventions a zero size
 * is a shape error (NN_ERROR_SHAPE_MISMATCH: "a size is zero"). */
static void predict_zero_rows(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{2, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(3, 1, 1, layers);
    const float x[3] = {1, 2, 3};
    float out[2] = {77, 77};
    NN_ASSERT_ERROR(nn_model_predict(model, x, 0, 3, out, 2), NN_ERROR_SHAPE_MISMATCH, "rows");
    assert_true(out[0] == 77.0f && out[1] == 77.0f);
    nn_model_free(model);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(hand_worked_dense),
    cmocka_unit_test(each_activation),
    cmocka_unit_test(deep_network),
    cmocka_unit_test(softmax_large_logits),
    cmocka_unit_test(predict_leaves_extra_capacity),
    cmocka_unit_test(predict_rejects_bad_inputs),
    cmocka_unit_test(predict_huge_capacity),
    cmocka_unit_test(predict_without_layers),
    cmocka_unit_test(predict_zero_rows),
};

NN_TEST_MAIN("predict", tests)
