/*
 * Explanations and per-step learning rates:
 *  - nn_model_input_gradient (d outputs / d x, a vector-Jacobian product)
 *    and nn_model_loss_input_gradient (d mean loss / d x), checked against
 *    central finite differences of nn_model_predict / nn_model_evaluate,
 *    on the general path (BatchNorm, Dropout) and on the small-network
 *    Dense path (one row and several); the model is left unchanged; two
 *    threads at once; bad input.
 *  - nn_model_set_learning_rate (from a batch callback during fit, the same
 *    steps as train_on_batch with the rate set between them) and
 *    nn_model_optimizer_iterations (Keras's optimizer.iterations).
 */
#include "nn_test.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROWS = 7, INPUTS = 5, OUTPUTS = 3 };

static float xs[ROWS * INPUTS], ys[ROWS * OUTPUTS];

static void make_data(void) {
    nn_test_rng rng = {21};
    nn_test_fill(&rng, xs, ROWS * INPUTS, -1, 1);
    nn_test_one_hot(&rng, ys, ROWS, OUTPUTS);
}

/* 5 -> 12 tanh -> BatchNorm -> Dropout -> 8 gelu -> 3 softmax, trained two
 * epochs so that the running statistics are not the identity. */
static nn_model *general_model(void) {
    make_data();
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(INPUTS, 5, &model));
    NN_ASSERT_OK(nn_model_add_dense(model, 12, NN_ACTIVATION_TANH));
    NN_ASSERT_OK(nn_model_add_batch_normalization(model, 0.3, 1e-3));
    NN_ASSERT_OK(nn_model_add_dropout(model, 0.25));
    NN_ASSERT_OK(nn_model_add_dense(model, 8, NN_ACTIVATION_GELU));
    NN_ASSERT_OK(nn_model_add_dense(model, OUTPUTS, NN_ACTIVATION_SOFTMAX));
    nn_test_compile(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_ADAM, 0.05);
    nn_fit_options fit = nn_test_fit_options(2, 4, 1);
    NN_ASSERT_OK(nn_model_fit(model, xs, ys, ROWS, INPUTS, OUTPUTS, &fit));
    return model;
}

/* Dense layers only (the small-network path), mean squared error. */
static nn_model *dense_model(void) {
    make_data();
    const nn_test_layer layers[] = {{8, NN_ACTIVATION_TANH}, {OUTPUTS, NN_ACTIVATION_SIGMOID}};
    nn_model *model = nn_test_model(INPUTS, 9, 2, layers);
    nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, 0.1);
    return model;
}

/* sum_j w[r, j] * predict(x)[r, j] for row r. */
static double weighted_output(nn_model *model, const float *x, size_t rows, const float *w, size_t r) {
    float *out = nn_test_predict(model, x, rows, INPUTS);
    double s = 0;
    for (size_t j = 0; j < OUTPUTS; j++) s += (double)w[r * OUTPUTS + j] * out[r * OUTPUTS + j];
    free(out);
    return s;
}

/* Checks nn_model_input_gradient on the first `rows` rows against central
 * differences (float32 inputs: h = 1e-2, so rounding and the O(h^2) error
 * stay near 1e-4). */
static void check_vjp(nn_model *model, size_t rows) {
    nn_test_rng rng = {33};
    float w[ROWS * OUTPUTS], g[ROWS * INPUTS], x[ROWS * INPUTS];
    nn_test_fill(&rng, w, rows * OUTPUTS, -1, 1);
    memcpy(x, xs, sizeof x);
    NN_ASSERT_OK(nn_model_input_gradient(model, x, rows, INPUTS, w, OUTPUTS, g, rows * INPUTS));
    const float h = 1e-2f;
    for (size_t r = 0; r < rows; r++) {
        for (size_t i = 0; i < INPUTS; i++) {
            float keep = x[r * INPUTS + i];
            x[r * INPUTS + i] = keep + h;
            double up = weighted_output(model, x, rows, w, r);
            x[r * INPUTS + i] = keep - h;
            double down = weighted_output(model, x, rows, w, r);
            x[r * INPUTS + i] = keep;
            NN_ASSERT_CLOSE(g[r * INPUTS + i], (up - down) / (2 * h), 2e-2, 5e-4);
        }
    }
}

static void vjp_matches_finite_differences_general_path(void **state) {
    (void)state;
    nn_model *model = general_model();
    check_vjp(model, ROWS);
    check_vjp(model, 1);
    nn_model_free(model);
}

static void vjp_matches_finite_differences_dense_path(void **state) {
    (void)state;
    nn_model *model = dense_model();
    check_vjp(model, ROWS);
    check_vjp(model, 1); /* the fused one-row kernels */
    nn_model_free(model);
}

/* A one-hot output gradient gives d out_j / d x; the rows are independent
 * (inference mode): row r's gradient alone equals row r's in a batch. */
static void one_hot_rows_are_independent(void **state) {
    (void)state;
    nn_model *model = general_model();
    float onehot[ROWS * OUTPUTS] = {0}, batch[ROWS * INPUTS], single[INPUTS];
    for (size_t r = 0; r < ROWS; r++) onehot[r * OUTPUTS + r % OUTPUTS] = 1;
    NN_ASSERT_OK(nn_model_input_gradient(model, xs, ROWS, INPUTS, onehot, OUTPUTS, batch, ROWS * INPUTS));
    for (size_t r = 0; r < ROWS; r++) {
        NN_ASSERT_OK(nn_model_input_gradient(model, xs + r * INPUTS, 1, INPUTS, onehot + r * OUTPUTS, OUTPUTS,
                                             single, INPUTS));
        for (size_t i = 0; i < INPUTS; i++) NN_ASSERT_CLOSE(single[i], batch[r * INPUTS + i], 1e-5, 1e-7);
    }
    nn_model_free(model);
}

static double mean_loss(nn_model *model, const float *x) {
    double values[2];
    NN_ASSERT_OK(nn_model_evaluate(model, x, ys, ROWS, INPUTS, OUTPUTS, values, 2));
    return values[0];
}

/* d (mean loss) / d x against differences of nn_model_evaluate (whose
 * regularization penalty does not depend on x); softmax + cross-entropy
 * (the loss takes the logits) and sigmoid + MSE. */
static void loss_gradient_matches_finite_differences(void **state) {
    (void)state;
    nn_model *models[2] = {general_model(), dense_model()};
    for (int m = 0; m < 2; m++) {
        float x[ROWS * INPUTS], g[ROWS * INPUTS];
        memcpy(x, xs, sizeof x);
        NN_ASSERT_OK(nn_model_loss_input_gradient(models[m], x, ys, ROWS, INPUTS, OUTPUTS, g, ROWS * INPUTS));
        const float h = 1e-2f;
        for (size_t k = 0; k < ROWS * INPUTS; k++) {
            float keep = x[k];
            x[k] = keep + h;
            double up = mean_loss(models[m], x);
            x[k] = keep - h;
            double down = mean_loss(models[m], x);
            x[k] = keep;
            NN_ASSERT_CLOSE(g[k], (up - down) / (2 * h), 3e-2, 3e-4);
        }
        nn_model_free(models[m]);
    }
}

/* The model is not changed: weights, predictions and the next training
 * step are those of a twin that never computed an input gradient. */
static void model_is_unchanged(void **state) {
    (void)state;
    nn_model *model = general_model(), *twin = general_model();
    float g[ROWS * INPUTS], w[ROWS * OUTPUTS];
    for (size_t k = 0; k < ROWS * OUTPUTS; k++) w[k] = 1;
    NN_ASSERT_OK(nn_model_input_gradient(model, xs, ROWS, INPUTS, w, OUTPUTS, g, ROWS * INPUTS));
    NN_ASSERT_OK(nn_model_loss_input_gradient(model, xs, ys, ROWS, INPUTS, OUTPUTS, g, ROWS * INPUTS));
    double a[2], b[2];
    NN_ASSERT_OK(nn_model_train_on_batch(model, xs, ys, ROWS, INPUTS, OUTPUTS, NULL, a, 2));
    NN_ASSERT_OK(nn_model_train_on_batch(twin, xs, ys, ROWS, INPUTS, OUTPUTS, NULL, b, 2));
    assert_true(a[0] == b[0]);
    assert_true(nn_test_same_weights(model, twin));
    nn_model_free(model);
    nn_model_free(twin);
}

typedef struct worker {
    nn_model *model;
    float gradient[ROWS * INPUTS];
    nn_status status;
} worker;

static void *run_worker(void *arg) {
    worker *w = arg;
    float onehot[ROWS * OUTPUTS] = {0};
    for (size_t r = 0; r < ROWS; r++) onehot[r * OUTPUTS] = 1;
    for (int k = 0; k < 200 && w->status == NN_OK; k++)
        w->status = nn_model_input_gradient(w->model, xs, ROWS, INPUTS, onehot, OUTPUTS, w->gradient, ROWS * INPUTS);
    return NULL;
}

/* An inference call: two threads at once each get the single-thread result. */
static void two_threads_at_once(void **state) {
    (void)state;
    nn_model *model = general_model();
    worker ref = {model, {0}, NN_OK};
    run_worker(&ref);
    NN_ASSERT_OK(ref.status);
    worker w[2] = {{model, {0}, NN_OK}, {model, {0}, NN_OK}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&t[i], NULL, run_worker, &w[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) {
        NN_ASSERT_OK(w[i].status);
        assert_memory_equal(w[i].gradient, ref.gradient, sizeof ref.gradient);
    }
    nn_model_free(model);
}

static void bad_input(void **state) {
    (void)state;
    nn_model *model = dense_model();
    float g[ROWS * INPUTS], w[ROWS * OUTPUTS] = {0}, bad[ROWS * INPUTS];
    memcpy(bad, xs, sizeof bad);
    bad[3] = NAN;
    NN_ASSERT_ERROR(nn_model_input_gradient(model, NULL, ROWS, INPUTS, w, OUTPUTS, g, ROWS * INPUTS),
                    NN_ERROR_NULL_POINTER, "x");
    NN_ASSERT_ERROR(nn_model_input_gradient(model, xs, ROWS, INPUTS, NULL, OUTPUTS, g, ROWS * INPUTS),
                    NN_ERROR_NULL_POINTER, "output_gradient");
    NN_ASSERT_ERROR(nn_model_input_gradient(model, xs, ROWS, INPUTS, w, OUTPUTS, NULL, ROWS * INPUTS),
                    NN_ERROR_NULL_POINTER, "input_gradient");
    NN_ASSERT_ERROR(nn_model_input_gradient(model, xs, ROWS, INPUTS + 1, w, OUTPUTS, g, ROWS * INPUTS + 7),
                    NN_ERROR_SHAPE_MISMATCH, "input columns");
    NN_ASSERT_ERROR(nn_model_input_gradient(model, xs, ROWS, INPUTS, w, OUTPUTS - 1, g, ROWS * INPUTS),
                    NN_ERROR_SHAPE_MISMATCH, "output_gradient", "3 output columns");
    NN_ASSERT_ERROR(nn_model_input_gradient(model, xs, ROWS, INPUTS, w, OUTPUTS, g, ROWS * INPUTS - 1),
                    NN_ERROR_SHAPE_MISMATCH, "input gradient buffer", "34");
    NN_ASSERT_ERROR(nn_model_input_gradient(model, xs, 0, INPUTS, w, OUTPUTS, g, ROWS * INPUTS),
                    NN_ERROR_SHAPE_MISMATCH, "0 rows");
    NN_ASSERT_ERROR(nn_model_input_gradient(model, bad, ROWS, INPUTS, w, OUTPUTS, g, ROWS * INPUTS),
                    NN_ERROR_NON_FINITE, "input");
    w[4] = INFINITY;
    NN_ASSERT_ERROR(nn_model_input_gradient(model, xs, ROWS, INPUTS, w, OUTPUTS, g, ROWS * INPUTS),
                    NN_ERROR_NON_FINITE, "output gradient");
    NN_ASSERT_ERROR(nn_model_loss_input_gradient(model, xs, NULL, ROWS, INPUTS, OUTPUTS, g, ROWS * INPUTS),
                    NN_ERROR_NULL_POINTER, "y");
    NN_ASSERT_ERROR(nn_model_loss_input_gradient(model, xs, ys, ROWS, INPUTS, OUTPUTS + 1, g, ROWS * INPUTS),
                    NN_ERROR_SHAPE_MISMATCH, "target");
    nn_model_free(model);

    /* No loss: the loss gradient is refused, the output gradient is not. */
    const nn_test_layer layers[] = {{OUTPUTS, NN_ACTIVATION_TANH}};
    model = nn_test_model(INPUTS, 3, 1, layers);
    NN_ASSERT_ERROR(nn_model_loss_input_gradient(model, xs, ys, ROWS, INPUTS, OUTPUTS, g, ROWS * INPUTS),
                    NN_ERROR_INVALID_STATE, "no loss");
    for (size_t k = 0; k < ROWS * OUTPUTS; k++) w[k] = 1;
    NN_ASSERT_OK(nn_model_input_gradient(model, xs, ROWS, INPUTS, w, OUTPUTS, g, ROWS * INPUTS));
    nn_model_free(model);

    /* A step activation passes no gradient. */
    const nn_test_layer steps[] = {{4, NN_ACTIVATION_STEP}, {OUTPUTS, NN_ACTIVATION_LINEAR}};
    model = nn_test_model(INPUTS, 3, 2, steps);
    NN_ASSERT_ERROR(nn_model_input_gradient(model, xs, ROWS, INPUTS, w, OUTPUTS, g, ROWS * INPUTS),
                    NN_ERROR_INVALID_STATE, "step", "no gradient");
    nn_model_free(model);

    /* No layer. */
    NN_ASSERT_OK(nn_model_create(INPUTS, 1, &model));
    NN_ASSERT_ERROR(nn_model_input_gradient(model, xs, ROWS, INPUTS, w, OUTPUTS, g, ROWS * INPUTS),
                    NN_ERROR_INVALID_STATE, "no layers");
    nn_model_free(model);
}

/* ---- learning rate per step ---- */

typedef struct rates {
    nn_model *model;
    double rates[16];
    size_t calls;
    nn_status status;
} rates;

static int set_rate(void *user_data, size_t epoch, size_t batch, size_t batches, size_t n_logs,
                    const char *const *names, const double *values) {
    (void)epoch, (void)batch, (void)batches, (void)n_logs, (void)names, (void)values;
    rates *r = user_data;
    r->calls++;
    if (r->status == NN_OK && r->calls < 16) r->status = nn_model_set_learning_rate(r->model, r->rates[r->calls]);
    return 0;
}

/* A fit whose batch callback sets the rate of the next step trains exactly
 * as train_on_batch with the rate set before each step; iterations count
 * the steps, a new optimizer restarts them, a saved file keeps them. */
static void rate_set_from_batch_callback(void **state) {
    (void)state;
    enum { BATCH = 3 };
    nn_model *a = dense_model(), *b = dense_model();
    rates r = {a, {0}, 0, NN_OK};
    for (int k = 0; k < 16; k++) r.rates[k] = 0.5 / (1 + k);
    NN_ASSERT_OK(nn_model_set_learning_rate(a, r.rates[0]));
    nn_fit_options fit = nn_test_fit_options(2, BATCH, 0);
    fit.on_batch_end = set_rate;
    fit.user_data = &r;
    NN_ASSERT_OK(nn_model_fit(a, xs, ys, ROWS, INPUTS, OUTPUTS, &fit));
    NN_ASSERT_OK(r.status);
    size_t steps = 0;
    NN_ASSERT_OK(nn_model_optimizer_iterations(a, &steps));
    const size_t batches = (ROWS + BATCH - 1) / BATCH;
    assert_int_equal(steps, 2 * batches);
    assert_int_equal(r.calls, 2 * batches);

    for (size_t k = 0; k < 2 * batches; k++) {
        NN_ASSERT_OK(nn_model_set_learning_rate(b, r.rates[k]));
        size_t first = (k % batches) * BATCH, rows = first + BATCH > ROWS ? ROWS - first : BATCH;
        double logs[1];
        NN_ASSERT_OK(nn_model_train_on_batch(b, xs + first * INPUTS, ys + first * OUTPUTS, rows, INPUTS, OUTPUTS,
                                             NULL, logs, 1));
    }
    assert_true(nn_test_same_weights(a, b));
    double rate = 0;
    NN_ASSERT_OK(nn_model_learning_rate(a, &rate));
    assert_true(rate == r.rates[2 * batches]);

    /* Saved with the optimizer, the count and the rate survive. */
    nn_model *loaded = nn_test_reload(a);
    size_t loaded_steps = 0;
    NN_ASSERT_OK(nn_model_optimizer_iterations(loaded, &loaded_steps));
    assert_int_equal(loaded_steps, steps);
    NN_ASSERT_OK(nn_model_learning_rate(loaded, &rate));
    assert_true(rate == r.rates[2 * batches]);
    nn_model_free(loaded);

    /* A new optimizer starts from 0. */
    nn_test_compile(a, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, 0.1);
    NN_ASSERT_OK(nn_model_optimizer_iterations(a, &steps));
    assert_int_equal(steps, 0);
    nn_model_free(a);
    nn_model_free(b);
}

/* An epoch schedule keeps its base: a rate set by hand lasts until the
 * schedule sets the next epoch's. */
static void epoch_schedule_overrides_next_epoch(void **state) {
    (void)state;
    nn_model *model = dense_model(); /* SGD, learning rate 0.1 */
    nn_schedule_options schedule;
    NN_ASSERT_OK(nn_schedule_options_init(&schedule, NN_SCHEDULE_EXPONENTIAL));
    schedule.gamma = 0.5;
    NN_ASSERT_OK(nn_model_set_lr_schedule(model, &schedule));
    NN_ASSERT_OK(nn_model_set_learning_rate(model, 0.7));
    double rate = 0;
    NN_ASSERT_OK(nn_model_learning_rate(model, &rate));
    assert_true(rate == 0.7);
    nn_fit_options fit = nn_test_fit_options(2, ROWS, 0);
    NN_ASSERT_OK(nn_model_fit(model, xs, ys, ROWS, INPUTS, OUTPUTS, &fit));
    NN_ASSERT_OK(nn_model_learning_rate(model, &rate));
    assert_true(rate == 0.1 * 0.5); /* epoch 1 of the schedule, from its base 0.1 */
    nn_model_free(model);
}

static void rate_errors(void **state) {
    (void)state;
    nn_model *model = NULL;
    size_t steps = 0;
    NN_ASSERT_OK(nn_model_create(INPUTS, 1, &model));
    NN_ASSERT_ERROR(nn_model_set_learning_rate(model, 0.1), NN_ERROR_INVALID_STATE, "no optimizer");
    NN_ASSERT_ERROR(nn_model_optimizer_iterations(model, &steps), NN_ERROR_INVALID_STATE, "no optimizer");
    nn_model_free(model);
    model = dense_model();
    NN_ASSERT_ERROR(nn_model_set_learning_rate(model, NAN), NN_ERROR_INVALID_ARGUMENT, "learning_rate");
    NN_ASSERT_ERROR(nn_model_set_learning_rate(model, INFINITY), NN_ERROR_INVALID_ARGUMENT, "learning_rate");
    NN_ASSERT_ERROR(nn_model_set_learning_rate(model, -1), NN_ERROR_INVALID_ARGUMENT, "learning_rate", ">= 0");
    NN_ASSERT_ERROR(nn_model_optimizer_iterations(model, NULL), NN_ERROR_NULL_POINTER, "out");
    double rate = 0;
    NN_ASSERT_OK(nn_model_learning_rate(model, &rate));
    assert_true(rate == 0.1); /* refused calls change nothing */
    nn_model_free(model);

    /* 0 is a rate (a Keras schedule's end): a step changes nothing, and a
     * file saved then still loads (the configured rate stays > 0). */
    model = dense_model();
    NN_ASSERT_OK(nn_model_set_learning_rate(model, 0));
    size_t n0 = 0, n1 = 0;
    float *before = nn_test_weights(model, &n0);
    double logs[1];
    NN_ASSERT_OK(nn_model_train_on_batch(model, xs, ys, ROWS, INPUTS, OUTPUTS, NULL, logs, 1));
    float *after = nn_test_weights(model, &n1);
    assert_memory_equal(before, after, n0 * sizeof(float));
    free(before);
    free(after);
    nn_model *loaded = nn_test_reload(model);
    NN_ASSERT_OK(nn_model_learning_rate(loaded, &rate));
    assert_true(rate == 0);
    nn_model_free(loaded);
    nn_model_free(model);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(vjp_matches_finite_differences_general_path),
    cmocka_unit_test(vjp_matches_finite_differences_dense_path),
    cmocka_unit_test(one_hot_rows_are_independent),
    cmocka_unit_test(loss_gradient_matches_finite_differences),
    cmocka_unit_test(model_is_unchanged),
    cmocka_unit_test(two_threads_at_once),
    cmocka_unit_test(bad_input),
    cmocka_unit_test(rate_set_from_batch_callback),
    cmocka_unit_test(epoch_schedule_overrides_next_epoch),
    cmocka_unit_test(rate_errors),
};

NN_TEST_MAIN("input_gradient", tests)
