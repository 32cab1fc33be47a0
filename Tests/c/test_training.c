/*
 * The fit options added in 0.2: validation_split, sample_weights,
 * class_weights / class_weight_count and early stopping
 * (nn_early_stopping_options_init and nn_fit_options.early_stopping):
 * defaults, what each does to the logs and the weights, checked against
 * computations made here, and bad values.
 */
#include "nn_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { ROWS = 24, IN = 3 };

/* x [ROWS, IN] in [-1, 1), y [ROWS] = a linear map of x. */
static void regression_data(float *x, float *y, uint64_t seed) {
    nn_test_rng rng = {seed};
    nn_test_fill(&rng, x, ROWS * IN, -1.0f, 1.0f);
    for (size_t r = 0; r < ROWS; r++)
        y[r] = 0.5f * x[r * IN] - x[r * IN + 1] + 0.25f * x[r * IN + 2] + 0.1f;
}

/* IN -> Dense(4, tanh) -> Dense(1), MSE, SGD(lr). */
static nn_model *regression_model(uint64_t seed, double lr) {
    const nn_test_layer layers[] = {{4, NN_ACTIVATION_TANH}, {1, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(IN, seed, 2, layers);
    nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, lr);
    return model;
}

/* The loss of each row alone, from evaluate (inference mode). */
static void row_losses(nn_model *model, const float *x, const float *y, size_t rows,
                       size_t y_cols, double *out) {
    for (size_t r = 0; r < rows; r++)
        NN_ASSERT_OK(nn_model_evaluate(model, x + r * IN, y + r * y_cols, 1, IN, y_cols, &out[r],
                                       1));
}

/* The "loss" logged for the single full batch of one epoch: the weighted
 * loss at the weights the model holds before the step. */
static double first_epoch_loss(nn_model *model, const float *x, const float *y, size_t rows,
                               size_t y_cols, nn_fit_options o) {
    nn_test_history h;
    nn_test_history_init(&h);
    o.epochs = 1;
    o.batch_size = rows;
    o.shuffle = 0;
    nn_test_record_into(&o, &h);
    NN_ASSERT_OK(nn_model_fit(model, x, y, rows, IN, y_cols, &o));
    return nn_test_log(&h, 0, "loss");
}

/* ------------------------------------------------------------------------ */
/* Defaults                                                                 */
/* ------------------------------------------------------------------------ */

static void new_fit_options_defaults(void **state) {
    (void)state;
    nn_fit_options o;
    memset(&o, 0xA5, sizeof o);
    nn_fit_options_init(&o);
    assert_int_equal(o.struct_size, sizeof(nn_fit_options));
    assert_true(o.validation_split == 0.0);
    assert_null(o.sample_weights);
    assert_null(o.class_weights);
    assert_int_equal(o.class_weight_count, 0);
    assert_null(o.early_stopping);
}

static void early_stopping_defaults(void **state) {
    (void)state;
    nn_early_stopping_options e;
    memset(&e, 0xA5, sizeof e);
    nn_early_stopping_options_init(&e);
    assert_int_equal(e.struct_size, sizeof(nn_early_stopping_options));
    assert_non_null(e.monitor);
    assert_string_equal(e.monitor, "val_loss");
    assert_true(e.min_delta == 0.0);
    assert_int_equal(e.patience, 0);
    assert_int_equal(e.mode, NN_MONITOR_AUTO);
    assert_int_equal(e.restore_best_weights, 0);
    nn_early_stopping_options_init(NULL); /* does nothing */
}

/* ------------------------------------------------------------------------ */
/* validation_split                                                         */
/* ------------------------------------------------------------------------ */

/* A split of 0.25 holds out the last 6 of 24 rows, taken before shuffling:
 * the model trains as one given the first 18 rows (same fit seed) and logs
 * val_loss = evaluate on the last 6. */
static void validation_split_holds_out_last_rows(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS];
    regression_data(x, y, 1);
    nn_model *split = regression_model(3, 0.1), *first = regression_model(3, 0.1);
    nn_test_history h;
    nn_test_history_init(&h);
    nn_fit_options o = nn_test_fit_options(4, 5, 1);
    o.seed = 99;
    o.validation_split = 0.25;
    nn_test_record_into(&o, &h);
    NN_ASSERT_OK(nn_model_fit(split, x, y, ROWS, IN, 1, &o));
    assert_int_equal(h.epochs, 4);
    assert_int_equal(h.n_logs, 2);
    assert_string_equal(h.names[0], "loss");
    assert_string_equal(h.names[1], "val_loss");

    nn_fit_options p = nn_test_fit_options(4, 5, 1);
    p.seed = 99;
    NN_ASSERT_OK(nn_model_fit(first, x, y, 18, IN, 1, &p));
    assert_true(nn_test_same_weights(split, first));

    double val = 0;
    NN_ASSERT_OK(nn_model_evaluate(split, x + 18 * IN, y + 18, 6, IN, 1, &val, 1));
    NN_ASSERT_CLOSE(nn_test_log(&h, 3, "val_loss"), val, 1e-6, 1e-9);
    nn_model_free(split);
    nn_model_free(first);
}

static void validation_split_rejects_bad_values(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS];
    regression_data(x, y, 2);
    nn_model *model = regression_model(1, 0.1);
    size_t n = 0;
    float *before = nn_test_weights(model, &n);
    nn_fit_options o = nn_test_fit_options(2, 8, 1);
    const double bad[] = {1.0, 1.5, -0.1, NAN, INFINITY};
    for (size_t i = 0; i < 5; i++) {
        o.validation_split = bad[i];
        NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                        "validation_split");
    }
    /* A split that leaves no training row, or no validation row. */
    o.validation_split = 0.99;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "validation_split");
    o.validation_split = 0.5;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, 1, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "validation_split");
    /* Not together with validation data. */
    o.validation_split = 0.25;
    o.validation_x = x;
    o.validation_y = y;
    o.validation_rows = 4;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "validation_split");
    float *after = nn_test_weights(model, NULL);
    assert_memory_equal(before, after, n * sizeof(float));
    /* Nothing was trained: a layer can still be added. */
    NN_ASSERT_OK(nn_model_add_dense(model, 1, NN_ACTIVATION_LINEAR));
    free(before);
    free(after);
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* sample_weights                                                           */
/* ------------------------------------------------------------------------ */

/* Each row's loss is multiplied by its weight and the sum divided by the
 * batch size (Keras): weights of 2 double the logged loss of a full-batch
 * epoch; arbitrary weights give sum w_r l_r / rows. */
static void sample_weights_scale_the_loss(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS], ones[ROWS], twos[ROWS], mixed[ROWS];
    regression_data(x, y, 3);
    for (size_t r = 0; r < ROWS; r++) {
        ones[r] = 1.0f;
        twos[r] = 2.0f;
        mixed[r] = (float)(r % 4) * 0.5f; /* 0, 0.5, 1, 1.5, ... */
    }
    nn_model *a = regression_model(4, 0.1), *b = regression_model(4, 0.1);
    nn_model *c = regression_model(4, 0.1), *d = regression_model(4, 0.1);
    double l[ROWS], want = 0, plain = 0;
    row_losses(a, x, y, ROWS, 1, l);
    for (size_t r = 0; r < ROWS; r++) {
        want += mixed[r] * l[r];
        plain += l[r];
    }
    nn_fit_options o = nn_test_fit_options(1, ROWS, 0);
    o.sample_weights = ones;
    double la = first_epoch_loss(a, x, y, ROWS, 1, o);
    o.sample_weights = twos;
    double lb = first_epoch_loss(b, x, y, ROWS, 1, o);
    o.sample_weights = mixed;
    double lc = first_epoch_loss(c, x, y, ROWS, 1, o);
    o.sample_weights = NULL;
    double ld = first_epoch_loss(d, x, y, ROWS, 1, o);
    NN_ASSERT_CLOSE(la, plain / ROWS, 1e-5, 1e-9);
    NN_ASSERT_CLOSE(ld, la, 1e-6, 0);
    NN_ASSERT_CLOSE(lb, 2 * la, 1e-6, 0);
    NN_ASSERT_CLOSE(lc, want / ROWS, 1e-5, 1e-9);
    /* Weights of 1 are no weights at all. */
    assert_true(nn_test_same_weights(a, d));
    nn_model_free(a);
    nn_model_free(b);
    nn_model_free(c);
    nn_model_free(d);
}

/* The gradient is weighted too: with plain SGD, weights of 2 and learning
 * rate lr train like weights of 1 and learning rate 2 lr. */
static void sample_weights_scale_the_gradient(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS], twos[ROWS];
    regression_data(x, y, 5);
    for (size_t r = 0; r < ROWS; r++) twos[r] = 2.0f;
    nn_model *a = regression_model(6, 0.05), *b = regression_model(6, 0.1);
    nn_fit_options o = nn_test_fit_options(3, 8, 0);
    o.sample_weights = twos;
    NN_ASSERT_OK(nn_model_fit(a, x, y, ROWS, IN, 1, &o));
    o.sample_weights = NULL;
    NN_ASSERT_OK(nn_model_fit(b, x, y, ROWS, IN, 1, &o));
    size_t n = 0;
    float *wa = nn_test_weights(a, &n), *wb = nn_test_weights(b, NULL);
    for (size_t i = 0; i < n; i++) NN_ASSERT_CLOSE(wa[i], wb[i], 1e-5, 1e-6);
    free(wa);
    free(wb);
    nn_model_free(a);
    nn_model_free(b);
}

/* Zero weights silence rows: training on the rows weighted 1 among rows
 * weighted 0 moves the weights as the loss of those rows (scaled by the
 * fraction of rows) does. With SGD: lr on all rows with half weighted 0 =
 * lr / 2 on the weighted half alone. */
static void sample_weights_zero_rows(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS], w[ROWS];
    regression_data(x, y, 7);
    for (size_t r = 0; r < ROWS; r++) w[r] = r < ROWS / 2 ? 1.0f : 0.0f;
    for (size_t r = ROWS / 2; r < ROWS; r++) y[r] = 100.0f; /* would dominate if counted */
    nn_model *a = regression_model(8, 0.2), *b = regression_model(8, 0.1);
    nn_fit_options o = nn_test_fit_options(2, ROWS, 0);
    o.sample_weights = w;
    NN_ASSERT_OK(nn_model_fit(a, x, y, ROWS, IN, 1, &o));
    nn_fit_options p = nn_test_fit_options(2, ROWS / 2, 0);
    NN_ASSERT_OK(nn_model_fit(b, x, y, ROWS / 2, IN, 1, &p));
    size_t n = 0;
    float *wa = nn_test_weights(a, &n), *wb = nn_test_weights(b, NULL);
    for (size_t i = 0; i < n; i++) NN_ASSERT_CLOSE(wa[i], wb[i], 1e-5, 1e-6);
    free(wa);
    free(wb);
    nn_model_free(a);
    nn_model_free(b);
}

/* With validation_split, the weights of the held-out rows weigh val_loss:
 * sum w_r l_r / held rows, l_r each held row's loss at the end of the
 * epoch (nn.h, nn_fit_options.sample_weights). */
static void sample_weights_with_validation_split(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS], w[ROWS];
    regression_data(x, y, 31);
    for (size_t r = 0; r < ROWS; r++) w[r] = (float)(r % 5) * 0.75f;
    nn_model *model = regression_model(32, 0.1);
    nn_test_history h;
    nn_test_history_init(&h);
    nn_fit_options o = nn_test_fit_options(2, 6, 1);
    o.validation_split = 0.25; /* rows 18 .. 23 */
    o.sample_weights = w;
    nn_test_record_into(&o, &h);
    NN_ASSERT_OK(nn_model_fit(model, x, y, ROWS, IN, 1, &o));
    double l[6], want = 0;
    row_losses(model, x + 18 * IN, y + 18, 6, 1, l);
    for (size_t r = 0; r < 6; r++) want += w[18 + r] * l[r];
    NN_ASSERT_CLOSE(nn_test_log(&h, 1, "val_loss"), want / 6, 1e-5, 1e-9);
    /* A bad weight among the held-out rows is found too. */
    w[20] = -2.0f;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "sample_weight", "20");
    nn_model_free(model);
}

static void sample_weights_reject_bad_values(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS], w[ROWS];
    regression_data(x, y, 9);
    for (size_t r = 0; r < ROWS; r++) w[r] = 1.0f;
    nn_model *model = regression_model(1, 0.1);
    size_t n = 0;
    float *before = nn_test_weights(model, &n);
    nn_fit_options o = nn_test_fit_options(1, 8, 1);
    o.sample_weights = w;
    w[5] = -1.0f;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "sample_weight", "5", "-1");
    w[5] = NAN;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "sample_weight", "5");
    w[5] = 1.0f;
    w[ROWS - 1] = INFINITY;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "sample_weight", "23");
    w[ROWS - 1] = 1.0f;
    float *after = nn_test_weights(model, NULL);
    assert_memory_equal(before, after, n * sizeof(float));
    NN_ASSERT_OK(nn_model_fit(model, x, y, ROWS, IN, 1, &o));
    free(before);
    free(after);
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* class_weights                                                            */
/* ------------------------------------------------------------------------ */

enum { CN = 30, C = 3 };

static void class_data(float *x, float *labels, uint64_t seed) {
    nn_test_rng rng = {seed};
    for (size_t i = 0; i < CN; i++) {
        size_t c = (i * 7) % C;
        x[i * IN] = (float)c + nn_test_uniform(&rng, -0.8f, 0.8f);
        x[i * IN + 1] = (float)(2 - c) * 0.5f + nn_test_uniform(&rng, -0.5f, 0.5f);
        x[i * IN + 2] = nn_test_uniform(&rng, -1, 1);
        labels[i] = (float)c;
    }
}

static nn_model *classifier(uint64_t seed, nn_loss loss, size_t units, nn_activation act) {
    const nn_test_layer layers[] = {{units, act}};
    nn_model *model = nn_test_model(IN, seed, 1, layers);
    nn_test_compile(model, loss, 0, NN_OPTIMIZER_SGD, 0.1);
    return model;
}

/* Class weights of 2 on every class double the logged loss, like sample
 * weights of 2; uneven class weights give sum cw[class_r] l_r / rows, the
 * class being the index (sparse), the argmax of a one-hot row, or the 0/1
 * target of one output. */
static void class_weights_scale_the_loss(void **state) {
    (void)state;
    float x[CN * IN], labels[CN], onehot[CN * C], binary[CN];
    class_data(x, labels, 10);
    memset(onehot, 0, sizeof onehot);
    for (size_t i = 0; i < CN; i++) {
        onehot[i * C + (size_t)labels[i]] = 1.0f;
        binary[i] = labels[i] == 1.0f ? 1.0f : 0.0f;
    }
    const float twos[C] = {2, 2, 2}, uneven[C] = {0.5f, 3.0f, 1.25f};

    /* Sparse labels. */
    nn_model *a = classifier(11, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, C, NN_ACTIVATION_SOFTMAX);
    nn_model *b = classifier(11, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, C, NN_ACTIVATION_SOFTMAX);
    nn_model *c = classifier(11, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, C, NN_ACTIVATION_SOFTMAX);
    double l[CN], want = 0;
    row_losses(a, x, labels, CN, 1, l);
    for (size_t i = 0; i < CN; i++) want += uneven[(size_t)labels[i]] * l[i];
    nn_fit_options o = nn_test_fit_options(1, CN, 0);
    double la = first_epoch_loss(a, x, labels, CN, 1, o);
    o.class_weights = twos;
    o.class_weight_count = C;
    double lb = first_epoch_loss(b, x, labels, CN, 1, o);
    o.class_weights = uneven;
    double lc = first_epoch_loss(c, x, labels, CN, 1, o);
    NN_ASSERT_CLOSE(lb, 2 * la, 1e-6, 0);
    NN_ASSERT_CLOSE(lc, want / CN, 1e-5, 1e-9);
    nn_model_free(a);
    nn_model_free(b);
    nn_model_free(c);

    /* One-hot rows: the class is the argmax. */
    a = classifier(12, NN_LOSS_CATEGORICAL_CROSSENTROPY, C, NN_ACTIVATION_SOFTMAX);
    row_losses(a, x, onehot, CN, C, l);
    want = 0;
    for (size_t i = 0; i < CN; i++) want += uneven[(size_t)labels[i]] * l[i];
    o = nn_test_fit_options(1, CN, 0);
    o.class_weights = uneven;
    o.class_weight_count = C;
    NN_ASSERT_CLOSE(first_epoch_loss(a, x, onehot, CN, C, o), want / CN, 1e-5, 1e-9);
    nn_model_free(a);

    /* One output, 0/1 targets: two classes. */
    a = classifier(13, NN_LOSS_BINARY_CROSSENTROPY, 1, NN_ACTIVATION_SIGMOID);
    row_losses(a, x, binary, CN, 1, l);
    want = 0;
    for (size_t i = 0; i < CN; i++) want += uneven[(size_t)binary[i]] * l[i];
    o.class_weight_count = 2; /* enough for classes 0 and 1 */
    NN_ASSERT_CLOSE(first_epoch_loss(a, x, binary, CN, 1, o), want / CN, 1e-5, 1e-9);
    nn_model_free(a);
}

/* Sample and class weights multiply. */
static void class_and_sample_weights_multiply(void **state) {
    (void)state;
    float x[CN * IN], labels[CN], sw[CN];
    class_data(x, labels, 14);
    for (size_t i = 0; i < CN; i++) sw[i] = (float)(i % 3) + 0.5f;
    const float cw[C] = {2.0f, 0.25f, 1.0f};
    nn_model *a = classifier(15, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, C, NN_ACTIVATION_SOFTMAX);
    double l[CN], want = 0;
    row_losses(a, x, labels, CN, 1, l);
    for (size_t i = 0; i < CN; i++) want += sw[i] * cw[(size_t)labels[i]] * l[i];
    nn_fit_options o = nn_test_fit_options(1, CN, 0);
    o.sample_weights = sw;
    o.class_weights = cw;
    o.class_weight_count = C;
    NN_ASSERT_CLOSE(first_epoch_loss(a, x, labels, CN, 1, o), want / CN, 1e-5, 1e-9);
    nn_model_free(a);
}

static void class_weights_reject_bad_values(void **state) {
    (void)state;
    float x[CN * IN], labels[CN];
    class_data(x, labels, 16);
    nn_model *model = classifier(17, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, C,
                                 NN_ACTIVATION_SOFTMAX);
    size_t n = 0;
    float *before = nn_test_weights(model, &n);
    float cw[C] = {1, 1, 1};
    nn_fit_options o = nn_test_fit_options(1, 8, 1);

    o.class_weights = NULL;
    o.class_weight_count = 3;
    NN_ASSERT_ERROR(nn_model_fit(model, x, labels, CN, IN, 1, &o), NN_ERROR_NULL_POINTER,
                    "class_weights");
    /* Too few entries for class 2, which is present. */
    o.class_weights = cw;
    o.class_weight_count = 2;
    NN_ASSERT_ERROR(nn_model_fit(model, x, labels, CN, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "class_weight", "2");
    o.class_weight_count = 3;
    cw[1] = -0.5f;
    NN_ASSERT_ERROR(nn_model_fit(model, x, labels, CN, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "class_weight", "-0.5");
    cw[1] = NAN;
    NN_ASSERT_ERROR(nn_model_fit(model, x, labels, CN, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "class_weight");
    cw[1] = 1.0f;
    float *after = nn_test_weights(model, NULL);
    assert_memory_equal(before, after, n * sizeof(float));
    NN_ASSERT_OK(nn_model_fit(model, x, labels, CN, IN, 1, &o));
    free(before);
    free(after);
    nn_model_free(model);

    /* Regression targets have no class. */
    float rx[ROWS * IN], ry[ROWS];
    regression_data(rx, ry, 18);
    model = regression_model(19, 0.1);
    o = nn_test_fit_options(1, 8, 1);
    o.class_weights = cw;
    o.class_weight_count = 3;
    NN_ASSERT_ERROR(nn_model_fit(model, rx, ry, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "class_weight");
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Early stopping                                                           */
/* ------------------------------------------------------------------------ */

/* Keras's rule, replayed on logged values: the epoch (0-based) after which
 * fit stops, or SIZE_MAX if it runs all `epochs`; *best_epoch receives the
 * epoch of the best value. */
static size_t expected_stop(const nn_test_history *h, const char *monitor, int maximize,
                            double min_delta, size_t patience, size_t epochs,
                            size_t *best_epoch) {
    double best = maximize ? -INFINITY : INFINITY;
    size_t wait = 0;
    *best_epoch = 0;
    for (size_t e = 0; e < epochs && e < h->epochs; e++) {
        double v = nn_test_log(h, e, monitor);
        int improved = maximize ? v > best + min_delta : v < best - min_delta;
        if (improved) {
            best = v;
            wait = 0;
            *best_epoch = e;
        } else {
            wait++;
            if (wait >= patience && e > 0) return e;
        }
    }
    return SIZE_MAX;
}

/* Training data y = f(x) and validation data with the opposite targets:
 * as the model fits f, the validation loss rises. */
static void diverging_validation(float *x, float *y, float *vy) {
    regression_data(x, y, 20);
    for (size_t r = 0; r < ROWS; r++) vy[r] = -3.0f * y[r];
}

static void early_stopping_stops_before_budget(void **state) {
    (void)state;
    enum { BUDGET = 200 };
    float x[ROWS * IN], y[ROWS], vy[ROWS];
    diverging_validation(x, y, vy);
    const size_t patiences[] = {0, 2, 5};
    for (size_t p = 0; p < 3; p++) {
        nn_model *model = regression_model(21, 0.1);
        nn_early_stopping_options e;
        nn_early_stopping_options_init(&e);
        e.patience = patiences[p];
        nn_test_history h;
        nn_test_history_init(&h);
        nn_fit_options o = nn_test_fit_options(BUDGET, 8, 1);
        o.validation_x = x;
        o.validation_y = vy;
        o.validation_rows = ROWS;
        o.early_stopping = &e;
        nn_test_record_into(&o, &h);
        NN_ASSERT_OK(nn_model_fit(model, x, y, ROWS, IN, 1, &o));
        size_t best = 0;
        size_t stop = expected_stop(&h, "val_loss", 0, 0.0, patiences[p], BUDGET, &best);
        assert_true(stop != SIZE_MAX);
        assert_int_equal(h.epochs, stop + 1);
        assert_true(h.epochs < BUDGET);
        assert_true(h.epochs >= patiences[p] + 1);
        /* Without restore_best_weights the model keeps its last weights. */
        double val = 0;
        NN_ASSERT_OK(nn_model_evaluate(model, x, vy, ROWS, IN, 1, &val, 1));
        NN_ASSERT_CLOSE(val, nn_test_log(&h, stop, "val_loss"), 1e-6, 1e-9);
        nn_model_free(model);
    }
}

/* restore_best_weights: after fit, evaluate on the validation data equals
 * the best val_loss logged; batch normalization statistics are restored
 * with the weights (evaluate uses them). */
static void early_stopping_restores_best_weights(void **state) {
    (void)state;
    enum { BUDGET = 200 };
    float x[ROWS * IN], y[ROWS], vy[ROWS];
    diverging_validation(x, y, vy);
    for (int with_bn = 0; with_bn < 2; with_bn++) {
        nn_model *model = nn_test_model(IN, 22, 0, NULL);
        NN_ASSERT_OK(nn_model_add_dense(model, 4, NN_ACTIVATION_TANH));
        if (with_bn) NN_ASSERT_OK(nn_model_add_batch_normalization(model, 0.2, 1e-3));
        NN_ASSERT_OK(nn_model_add_dense(model, 1, NN_ACTIVATION_LINEAR));
        nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, 0.05);
        nn_early_stopping_options e;
        nn_early_stopping_options_init(&e);
        e.patience = 3;
        e.restore_best_weights = 1;
        nn_test_history h;
        nn_test_history_init(&h);
        nn_fit_options o = nn_test_fit_options(BUDGET, 6, 1);
        o.validation_x = x;
        o.validation_y = vy;
        o.validation_rows = ROWS;
        o.early_stopping = &e;
        nn_test_record_into(&o, &h);
        NN_ASSERT_OK(nn_model_fit(model, x, y, ROWS, IN, 1, &o));
        size_t best = 0;
        size_t stop = expected_stop(&h, "val_loss", 0, 0.0, 3, BUDGET, &best);
        assert_int_equal(h.epochs, stop + 1);
        assert_true(best < stop); /* the last epoch was not the best */
        double min = INFINITY;
        for (size_t i = 0; i < h.epochs; i++) {
            double v = nn_test_log(&h, i, "val_loss");
            min = v < min ? v : min;
        }
        NN_ASSERT_CLOSE(nn_test_log(&h, best, "val_loss"), min, 0, 0);
        double val = 0;
        NN_ASSERT_OK(nn_model_evaluate(model, x, vy, ROWS, IN, 1, &val, 1));
        NN_ASSERT_CLOSE(val, min, 0, 1e-6);
        nn_model_free(model);
    }
}

/* The best weights are restored also when fit runs its whole budget:
 * monitoring val_loss in "max" mode while it falls, the best epoch is the
 * first. */
static void early_stopping_restores_without_stopping(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS];
    regression_data(x, y, 23);
    nn_model *model = regression_model(24, 0.1);
    nn_early_stopping_options e;
    nn_early_stopping_options_init(&e);
    e.mode = NN_MONITOR_MAX;
    e.patience = 100;
    e.restore_best_weights = 1;
    nn_test_history h;
    nn_test_history_init(&h);
    nn_fit_options o = nn_test_fit_options(8, ROWS, 0);
    o.validation_x = x;
    o.validation_y = y;
    o.validation_rows = ROWS;
    o.early_stopping = &e;
    nn_test_record_into(&o, &h);
    NN_ASSERT_OK(nn_model_fit(model, x, y, ROWS, IN, 1, &o));
    assert_int_equal(h.epochs, 8);
    size_t best = 99;
    assert_true(expected_stop(&h, "val_loss", 1, 0, 100, 8, &best) == SIZE_MAX);
    assert_int_equal(best, 0);
    assert_true(nn_test_log(&h, 7, "val_loss") < nn_test_log(&h, 0, "val_loss"));
    double val = 0;
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, ROWS, IN, 1, &val, 1));
    NN_ASSERT_CLOSE(val, nn_test_log(&h, 0, "val_loss"), 0, 1e-6);
    nn_model_free(model);
}

/* The mode decides the direction: the training loss falls every epoch
 * (one full batch, small steps), so in "min" (and "auto" for a loss) fit
 * runs its budget, in "max" it stops after max(patience, 1) + 1 epochs;
 * min_delta larger than the per-epoch progress stops it in "min" too. */
static void early_stopping_mode_and_min_delta(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS];
    regression_data(x, y, 25);
    const struct {
        nn_monitor_mode mode;
        double min_delta;
        size_t patience;
        size_t epochs; /* expected */
    } cases[] = {
        {NN_MONITOR_MIN, 0.0, 0, 12},  {NN_MONITOR_AUTO, 0.0, 0, 12},
        {NN_MONITOR_MAX, 0.0, 0, 2},   {NN_MONITOR_MAX, 0.0, 2, 3},
        {NN_MONITOR_MIN, 1.0, 1, 2},   {NN_MONITOR_MIN, 1.0, 4, 5},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        nn_model *model = regression_model(26, 0.01);
        nn_early_stopping_options e;
        nn_early_stopping_options_init(&e);
        e.monitor = "loss";
        e.mode = cases[c].mode;
        e.min_delta = cases[c].min_delta;
        e.patience = cases[c].patience;
        nn_test_history h;
        nn_test_history_init(&h);
        nn_fit_options o = nn_test_fit_options(12, ROWS, 0);
        o.early_stopping = &e;
        nn_test_record_into(&o, &h);
        NN_ASSERT_OK(nn_model_fit(model, x, y, ROWS, IN, 1, &o));
        for (size_t i = 1; i < h.epochs; i++)
            assert_true(nn_test_log(&h, i, "loss") < nn_test_log(&h, i - 1, "loss"));
        if (h.epochs != cases[c].epochs)
            fail_msg("case %zu (mode %d, min_delta %g, patience %zu): %zu epochs, expected %zu", c,
                     (int)cases[c].mode, cases[c].min_delta, cases[c].patience, h.epochs,
                     cases[c].epochs);
        nn_model_free(model);
    }
}

/* The monitor string is read during the call only (the caller may reuse
 * its buffer), and monitors with validation_split work. */
static void early_stopping_with_validation_split(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS];
    regression_data(x, y, 27);
    for (size_t r = 18; r < ROWS; r++) y[r] = -5.0f * y[r]; /* held-out rows disagree */
    char monitor[16];
    strcpy(monitor, "val_loss");
    nn_model *model = regression_model(28, 0.1);
    nn_early_stopping_options e;
    nn_early_stopping_options_init(&e);
    e.monitor = monitor;
    e.patience = 1;
    nn_test_history h;
    nn_test_history_init(&h);
    nn_fit_options o = nn_test_fit_options(300, 6, 1);
    o.validation_split = 0.25;
    o.early_stopping = &e;
    nn_test_record_into(&o, &h);
    NN_ASSERT_OK(nn_model_fit(model, x, y, ROWS, IN, 1, &o));
    size_t best = 0;
    size_t stop = expected_stop(&h, "val_loss", 0, 0, 1, 300, &best);
    assert_int_equal(h.epochs, stop + 1);
    assert_true(h.epochs < 300);
    strcpy(monitor, "garbage");
    NN_ASSERT_OK(nn_model_fit(model, x, y, ROWS, IN, 1, NULL)); /* no stale pointer used */
    nn_model_free(model);
}

static void early_stopping_rejects_bad_options(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS];
    regression_data(x, y, 29);
    nn_model *model = regression_model(30, 0.1);
    size_t n = 0;
    float *before = nn_test_weights(model, &n);
    nn_early_stopping_options e;
    nn_fit_options o = nn_test_fit_options(3, 8, 1);
    o.early_stopping = &e;

    /* The default monitor, val_loss, is not logged without validation data. */
    nn_early_stopping_options_init(&e);
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "val_loss");
    e.monitor = "accuracy"; /* no such metric on this model */
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "accuracy", "loss");
    e.monitor = "learning_rate"; /* logged only with a schedule */
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "learning_rate");
    e.monitor = NULL;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_NULL_POINTER,
                    "monitor");

    nn_early_stopping_options_init(&e);
    e.monitor = "loss";
    e.min_delta = -0.1;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "min_delta");
    e.min_delta = NAN;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "min_delta");
    e.min_delta = 0;
    e.mode = (nn_monitor_mode)7;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "mode", "7");
    e.mode = NN_MONITOR_AUTO;
    e.restore_best_weights = 2;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "restore_best_weights", "2");
    e.restore_best_weights = 0;
    e.patience = SIZE_MAX;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "patience", "18446744073709551615");
    e.patience = 0;
    e.struct_size = 0;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &o), NN_ERROR_INVALID_ARGUMENT,
                    "struct_size");

    float *after = nn_test_weights(model, NULL);
    assert_memory_equal(before, after, n * sizeof(float));
    NN_ASSERT_OK(nn_model_add_dense(model, 1, NN_ACTIVATION_LINEAR)); /* still untrained */
    free(before);
    free(after);
    nn_model_free(model);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(new_fit_options_defaults),
    cmocka_unit_test(early_stopping_defaults),
    cmocka_unit_test(validation_split_holds_out_last_rows),
    cmocka_unit_test(validation_split_rejects_bad_values),
    cmocka_unit_test(sample_weights_scale_the_loss),
    cmocka_unit_test(sample_weights_scale_the_gradient),
    cmocka_unit_test(sample_weights_zero_rows),
    cmocka_unit_test(sample_weights_with_validation_split),
    cmocka_unit_test(sample_weights_reject_bad_values),
    cmocka_unit_test(class_weights_scale_the_loss),
    cmocka_unit_test(class_and_sample_weights_multiply),
    cmocka_unit_test(class_weights_reject_bad_values),
    cmocka_unit_test(early_stopping_stops_before_budget),
    cmocka_unit_test(early_stopping_restores_best_weights),
    cmocka_unit_test(early_stopping_restores_without_stopping),
    cmocka_unit_test(early_stopping_mode_and_min_delta),
    cmocka_unit_test(early_stopping_with_validation_split),
    cmocka_unit_test(early_stopping_rejects_bad_options),
};

NN_TEST_MAIN("training", tests)
