/*
 * nn_model_evaluate: every loss (with and without from_logits) and the
 * accuracy metric against double-precision references, the values
 * protocol (capacity, order), and bad inputs.
 */
#include "nn_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Logits z [rows, units] of a one-layer model, computed in double from its
 * weights. */
static double *logits(const nn_model *model, const float *x, size_t rows) {
    size_t in = 0, units = 0;
    NN_ASSERT_OK(nn_model_input_dim(model, &in));
    NN_ASSERT_OK(nn_model_output_dim(model, &units));
    float *w = nn_test_weights(model, NULL);
    double *z = malloc(rows * units * sizeof *z);
    assert_non_null(z);
    for (size_t r = 0; r < rows; r++)
        for (size_t u = 0; u < units; u++) {
            double s = w[in * units + u];
            for (size_t i = 0; i < in; i++) s += x[r * in + i] * w[i * units + u];
            z[r * units + u] = s;
        }
    free(w);
    return z;
}

static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/* log softmax(z)[j] for a row of n logits. */
static double log_softmax(const double *z, size_t n, size_t j) {
    double max = z[0], sum = 0;
    for (size_t i = 1; i < n; i++) max = z[i] > max ? z[i] : max;
    for (size_t i = 0; i < n; i++) sum += exp(z[i] - max);
    return z[j] - max - log(sum);
}

static size_t argmax(const double *v, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

static size_t argmaxf(const float *v, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

enum { ROWS = 12, IN = 4 };

static nn_model *one_layer(size_t units, nn_activation act, nn_loss loss, int from_logits,
                           uint64_t seed) {
    const nn_test_layer layers[] = {{units, act}};
    nn_model *model = nn_test_model(IN, seed, 1, layers);
    NN_ASSERT_OK(nn_model_set_loss(model, loss, from_logits));
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_ACCURACY));
    /* A non-zero bias, so that a layout mistake shows. */
    float bias[8];
    nn_test_rng rng = {seed};
    nn_test_fill(&rng, bias, units, -0.5f, 0.5f);
    nn_test_set_weight(model, 1, bias, units);
    return model;
}

static void inputs(float *x, uint64_t seed) {
    nn_test_rng rng = {seed};
    nn_test_fill(&rng, x, ROWS * IN, -1.5f, 1.5f);
}

static void mean_squared_error(void **state) {
    (void)state;
    enum { U = 3 };
    float x[ROWS * IN], y[ROWS * U];
    inputs(x, 1);
    nn_test_rng rng = {2};
    nn_test_fill(&rng, y, ROWS * U, -1, 1);
    nn_model *model = one_layer(U, NN_ACTIVATION_TANH, NN_LOSS_MEAN_SQUARED_ERROR, 0, 3);
    double *z = logits(model, x, ROWS);
    double want = 0, correct = 0;
    for (size_t r = 0; r < ROWS; r++) {
        double p[U];
        for (size_t u = 0; u < U; u++) {
            p[u] = tanh(z[r * U + u]);
            want += (p[u] - y[r * U + u]) * (p[u] - y[r * U + u]);
        }
        /* Several outputs: categorical accuracy (argmax against argmax). */
        double t[U] = {y[r * U], y[r * U + 1], y[r * U + 2]};
        correct += argmax(p, U) == argmax(t, U);
    }
    want /= ROWS * U;
    double got[2];
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, ROWS, IN, U, got, 2));
    NN_ASSERT_CLOSE(got[0], want, 1e-5, 1e-7);
    NN_ASSERT_CLOSE(got[1], correct / ROWS, 0, 1e-12);
    free(z);
    nn_model_free(model);
}

/* One output with MSE: binary accuracy at threshold 0.5. */
static void mse_one_output_binary_accuracy(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS];
    inputs(x, 4);
    nn_model *model = one_layer(1, NN_ACTIVATION_SIGMOID, NN_LOSS_MEAN_SQUARED_ERROR, 0, 5);
    double *z = logits(model, x, ROWS);
    double want = 0, correct = 0;
    for (size_t r = 0; r < ROWS; r++) {
        y[r] = (float)(r % 2);
        double p = sigmoid(z[r]);
        want += (p - y[r]) * (p - y[r]);
        correct += (p > 0.5 ? 1.0f : 0.0f) == y[r];
    }
    double got[2];
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, ROWS, IN, 1, got, 2));
    NN_ASSERT_CLOSE(got[0], want / ROWS, 1e-5, 1e-7);
    NN_ASSERT_CLOSE(got[1], correct / ROWS, 0, 1e-12);
    free(z);
    nn_model_free(model);
}

/* Binary cross-entropy on probabilities (sigmoid layer) and on logits
 * (linear layer, from_logits = 1); accuracy over every output, threshold
 * 0.5 on probabilities and 0 on logits. */
static void binary_crossentropy(void **state) {
    (void)state;
    enum { U = 2 };
    float x[ROWS * IN], y[ROWS * U];
    inputs(x, 6);
    for (size_t i = 0; i < ROWS * U; i++) y[i] = (float)((i * 7 / 3) % 2);
    y[3] = 0.25f; /* a soft target */
    for (int from_logits = 0; from_logits <= 1; from_logits++) {
        nn_model *model =
            one_layer(U, from_logits ? NN_ACTIVATION_LINEAR : NN_ACTIVATION_SIGMOID,
                      NN_LOSS_BINARY_CROSSENTROPY, from_logits, 7);
        double *z = logits(model, x, ROWS);
        double want = 0, correct = 0;
        for (size_t i = 0; i < ROWS * U; i++) {
            double p = sigmoid(z[i]);
            want += -(y[i] * log(p) + (1 - y[i]) * log(1 - p));
            correct += (z[i] > 0 ? 1.0f : 0.0f) == y[i];
        }
        double got[2];
        NN_ASSERT_OK(nn_model_evaluate(model, x, y, ROWS, IN, U, got, 2));
        NN_ASSERT_CLOSE(got[0], want / (ROWS * U), 1e-5, 1e-7);
        NN_ASSERT_CLOSE(got[1], correct / (ROWS * U), 0, 1e-12);
        free(z);
        nn_model_free(model);
    }
}

/* Categorical cross-entropy with probability-row targets, after a softmax
 * layer and from logits. */
static void categorical_crossentropy(void **state) {
    (void)state;
    enum { U = 3 };
    float x[ROWS * IN], y[ROWS * U];
    inputs(x, 8);
    for (size_t r = 0; r < ROWS; r++) {
        for (size_t u = 0; u < U; u++) y[r * U + u] = 0;
        if (r % 4 == 3) {
            y[r * U + 0] = 0.2f; /* a probability row */
            y[r * U + 2] = 0.8f;
        } else {
            y[r * U + r % 3] = 1;
        }
    }
    for (int from_logits = 0; from_logits <= 1; from_logits++) {
        nn_model *model =
            one_layer(U, from_logits ? NN_ACTIVATION_LINEAR : NN_ACTIVATION_SOFTMAX,
                      NN_LOSS_CATEGORICAL_CROSSENTROPY, from_logits, 9);
        double *z = logits(model, x, ROWS);
        double want = 0, correct = 0;
        for (size_t r = 0; r < ROWS; r++) {
            for (size_t u = 0; u < U; u++) want -= y[r * U + u] * log_softmax(z + r * U, U, u);
            correct += argmax(z + r * U, U) == argmaxf(y + r * U, U);
        }
        double got[2];
        NN_ASSERT_OK(nn_model_evaluate(model, x, y, ROWS, IN, U, got, 2));
        NN_ASSERT_CLOSE(got[0], want / ROWS, 1e-5, 1e-7);
        NN_ASSERT_CLOSE(got[1], correct / ROWS, 0, 1e-12);
        free(z);
        nn_model_free(model);
    }
}

static void sparse_categorical_crossentropy(void **state) {
    (void)state;
    enum { U = 4 };
    float x[ROWS * IN], y[ROWS];
    inputs(x, 10);
    for (size_t r = 0; r < ROWS; r++) y[r] = (float)((r * 5) % U);
    for (int from_logits = 0; from_logits <= 1; from_logits++) {
        nn_model *model =
            one_layer(U, from_logits ? NN_ACTIVATION_LINEAR : NN_ACTIVATION_SOFTMAX,
                      NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, from_logits, 11);
        double *z = logits(model, x, ROWS);
        double want = 0, correct = 0;
        for (size_t r = 0; r < ROWS; r++) {
            want -= log_softmax(z + r * U, U, (size_t)y[r]);
            correct += argmax(z + r * U, U) == (size_t)y[r];
        }
        double got[2];
        NN_ASSERT_OK(nn_model_evaluate(model, x, y, ROWS, IN, 1, got, 2));
        NN_ASSERT_CLOSE(got[0], want / ROWS, 1e-5, 1e-7);
        NN_ASSERT_CLOSE(got[1], correct / ROWS, 0, 1e-12);
        free(z);
        nn_model_free(model);
    }
}

/* Softmax with cross-entropy is computed from the logits, so a confidently
 * wrong prediction gives a large finite loss rather than log(0). */
static void crossentropy_is_stable(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{2, NN_ACTIVATION_SOFTMAX}};
    nn_model *model = nn_test_model(1, 1, 1, layers);
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0));
    const float kernel[2] = {60, -60}, bias[2] = {0, 0};
    nn_test_set_weight(model, 0, kernel, 2);
    nn_test_set_weight(model, 1, bias, 2);
    const float x[1] = {1}, y[1] = {1}; /* logits 60, -60; the label is class 1 */
    double loss = 0;
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, 1, 1, 1, &loss, 1));
    NN_ASSERT_CLOSE(loss, 120.0, 1e-5, 0);
    nn_model_free(model);
}

/* More rows than one internal chunk: still the mean over all rows. */
static void many_rows(void **state) {
    (void)state;
    enum { R = 1031, U = 2 };
    float *x = malloc(R * IN * sizeof *x), *y = malloc(R * U * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    nn_test_rng rng = {12};
    nn_test_fill(&rng, x, R * IN, -1, 1);
    nn_test_fill(&rng, y, R * U, -1, 1);
    nn_model *model = one_layer(U, NN_ACTIVATION_LINEAR, NN_LOSS_MEAN_SQUARED_ERROR, 0, 13);
    double *z = logits(model, x, R);
    double want = 0;
    for (size_t i = 0; i < R * U; i++) want += (z[i] - y[i]) * (z[i] - y[i]);
    double got[2];
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, R, IN, U, got, 2));
    NN_ASSERT_CLOSE(got[0], want / (R * U), 1e-5, 1e-7);
    free(z);
    free(x);
    free(y);
    nn_model_free(model);
}

/* values: the loss first, then the metrics; capacity must hold them all;
 * entries past the count are untouched. */
static void values_protocol(void **state) {
    (void)state;
    enum { U = 2 };
    float x[ROWS * IN], y[ROWS * U];
    inputs(x, 14);
    nn_test_rng rng = {15};
    nn_test_fill(&rng, y, ROWS * U, 0, 1);
    const nn_test_layer layers[] = {{U, NN_ACTIVATION_SIGMOID}};
    nn_model *model = nn_test_model(IN, 16, 1, layers);
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_MEAN_SQUARED_ERROR, 0));

    double values[4] = {-1, -2, -3, -4};
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, ROWS, IN, U, values, 4));
    assert_true(values[0] > 0);
    assert_true(values[1] == -2 && values[2] == -3 && values[3] == -4);
    double loss_only = values[0];

    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_ACCURACY));
    values[0] = -1;
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, y, ROWS, IN, U, values, 1),
                    NN_ERROR_SHAPE_MISMATCH, "values", "1", "2");
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, y, ROWS, IN, U, values, 0),
                    NN_ERROR_SHAPE_MISMATCH, "values");
    assert_true(values[0] == -1 && values[1] == -2);
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, ROWS, IN, U, values, 4));
    assert_true(values[0] == loss_only); /* adding a metric does not change the loss */

    assert_true(values[1] >= 0 && values[1] <= 1);
    assert_true(values[2] == -3 && values[3] == -4);
    nn_model_free(model);
}

/* capacity is what the caller's array holds: SIZE_MAX is not too small. */
static void evaluate_huge_capacity(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS];
    inputs(x, 23);
    for (size_t r = 0; r < ROWS; r++) y[r] = (float)(r % 2);
    nn_model *model = one_layer(2, NN_ACTIVATION_SOFTMAX,
                                NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, 24);
    double want[2], big[4] = {-1, -2, -3, -4};
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, ROWS, IN, 1, want, 2));
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, ROWS, IN, 1, big, SIZE_MAX));
    assert_memory_equal(big, want, sizeof want);
    assert_true(big[2] == -3 && big[3] == -4);
    nn_model_free(model);
}

static void evaluate_rejects_bad_inputs(void **state) {
    (void)state;
    enum { U = 3 };
    float x[ROWS * IN], y[ROWS];
    inputs(x, 17);
    for (size_t r = 0; r < ROWS; r++) y[r] = (float)(r % U);
    nn_model *model =
        one_layer(U, NN_ACTIVATION_SOFTMAX, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, 18);
    double v[2] = {-1, -1};
    NN_ASSERT_ERROR(nn_model_evaluate(model, NULL, y, ROWS, IN, 1, v, 2), NN_ERROR_NULL_POINTER,
                    "x");
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, NULL, ROWS, IN, 1, v, 2), NN_ERROR_NULL_POINTER,
                    "y");
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, y, ROWS, IN, 1, NULL, 2), NN_ERROR_NULL_POINTER,
                    "values");
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, y, ROWS, IN + 1, 1, v, 2),
                    NN_ERROR_SHAPE_MISMATCH, "expected 4 input columns, got 5");
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, y, ROWS, IN, 2, v, 2), NN_ERROR_SHAPE_MISMATCH,
                    "1 target column");
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, y, 0, IN, 1, v, 2), NN_ERROR_SHAPE_MISMATCH,
                    "0 rows");
    NN_ASSERT_SIZE_ERROR(nn_model_evaluate(model, x, y, SIZE_MAX / 2 + 1, IN, 1, v, 2), "x");
    x[7] = NAN;
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, y, ROWS, IN, 1, v, 2), NN_ERROR_NON_FINITE,
                    "row 1, column 3");
    x[7] = 0;
    y[5] = INFINITY;
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, y, ROWS, IN, 1, v, 2), NN_ERROR_NON_FINITE,
                    "target", "row 5");
    y[5] = 3; /* 3 classes: 0, 1, 2 */
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, y, ROWS, IN, 1, v, 2),
                    NN_ERROR_INVALID_ARGUMENT, "label", "row 5");
    assert_true(v[0] == -1 && v[1] == -1);
    nn_model_free(model);
}

static void evaluate_requires_layers_and_loss(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS * IN];
    inputs(x, 19);
    memcpy(y, x, sizeof y);
    double v = -1;
    nn_model *model = nn_test_model(IN, 1, 0, NULL);
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_MEAN_SQUARED_ERROR, 0));
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, y, ROWS, IN, IN, &v, 1), NN_ERROR_INVALID_STATE,
                    "layer");
    nn_model_free(model);
    const nn_test_layer layers[] = {{2, NN_ACTIVATION_LINEAR}};
    model = nn_test_model(IN, 1, 1, layers);
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, y, ROWS, IN, 2, &v, 1), NN_ERROR_INVALID_STATE,
                    "loss");
    assert_true(v == -1);
    nn_model_free(model);
}

/* Evaluation is inference: it changes neither the weights nor the result of
 * a later fit (no generator draws, no optimizer steps). */
static void evaluate_has_no_side_effects(void **state) {
    (void)state;
    enum { U = 2 };
    float x[ROWS * IN], y[ROWS * U];
    inputs(x, 20);
    nn_test_rng rng = {21};
    nn_test_fill(&rng, y, ROWS * U, -1, 1);
    nn_model *a = one_layer(U, NN_ACTIVATION_LINEAR, NN_LOSS_MEAN_SQUARED_ERROR, 0, 22);
    nn_model *b = one_layer(U, NN_ACTIVATION_LINEAR, NN_LOSS_MEAN_SQUARED_ERROR, 0, 22);
    nn_optimizer_options o;
    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_ADAM));
    NN_ASSERT_OK(nn_model_set_optimizer(a, &o));
    NN_ASSERT_OK(nn_model_set_optimizer(b, &o));
    double v[2], first[2];
    NN_ASSERT_OK(nn_model_evaluate(a, x, y, ROWS, IN, U, first, 2));
    for (int i = 0; i < 5; i++) {
        NN_ASSERT_OK(nn_model_evaluate(a, x, y, ROWS, IN, U, v, 2));
        assert_memory_equal(v, first, sizeof v);
    }
    nn_fit_options f;
    nn_fit_options_init(&f);
    f.epochs = 3;
    f.batch_size = 5;
    NN_ASSERT_OK(nn_model_fit(a, x, y, ROWS, IN, U, &f));
    NN_ASSERT_OK(nn_model_fit(b, x, y, ROWS, IN, U, &f));
    size_t n = 0;
    float *wa = nn_test_weights(a, &n), *wb = nn_test_weights(b, NULL);
    assert_memory_equal(wa, wb, n * sizeof(float));
    free(wa);
    free(wb);
    nn_model_free(a);
    nn_model_free(b);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(mean_squared_error),
    cmocka_unit_test(mse_one_output_binary_accuracy),
    cmocka_unit_test(binary_crossentropy),
    cmocka_unit_test(categorical_crossentropy),
    cmocka_unit_test(sparse_categorical_crossentropy),
    cmocka_unit_test(crossentropy_is_stable),
    cmocka_unit_test(many_rows),
    cmocka_unit_test(values_protocol),
    cmocka_unit_test(evaluate_huge_capacity),
    cmocka_unit_test(evaluate_rejects_bad_inputs),
    cmocka_unit_test(evaluate_requires_layers_and_loss),
    cmocka_unit_test(evaluate_has_no_side_effects),
};

NN_TEST_MAIN("evaluate", tests)
