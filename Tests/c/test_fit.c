/*
 * Training: nn_model_fit and nn_fit_options_init — preconditions, shapes,
 * data checks, options, the epoch callback, determinism, convergence and
 * divergence.
 */
#include "nn_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Fixtures                                                                 */
/* ------------------------------------------------------------------------ */

enum { ROWS = 24, IN = 3, OUT = 2 };

/* x [ROWS, IN] in [-1, 1) and y [ROWS, OUT] = a fixed linear map of x. */
static void regression_data(float *x, float *y, uint64_t seed) {
    nn_test_rng rng = {seed};
    nn_test_fill(&rng, x, ROWS * IN, -1.0f, 1.0f);
    for (size_t r = 0; r < ROWS; r++) {
        const float *xr = x + r * IN;
        y[r * OUT + 0] = 0.5f * xr[0] - xr[1] + 0.25f * xr[2] + 0.1f;
        y[r * OUT + 1] = -0.3f * xr[0] + 0.8f * xr[2] - 0.2f;
    }
}

/* IN -> Dense(4, tanh) -> Dense(OUT), MSE, SGD(lr). */
static nn_model *regression_model(uint64_t seed, double lr) {
    const nn_test_layer layers[] = {{4, NN_ACTIVATION_TANH}, {OUT, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(IN, seed, 2, layers);
    nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, lr);
    return model;
}

static nn_fit_options fit_options(size_t epochs, size_t batch, int shuffle) {
    nn_fit_options o;
    nn_fit_options_init(&o);
    o.epochs = epochs;
    o.batch_size = batch;
    o.shuffle = shuffle;
    return o;
}

/* ------------------------------------------------------------------------ */
/* Options                                                                  */
/* ------------------------------------------------------------------------ */

static void fit_options_defaults(void **state) {
    (void)state;
    nn_fit_options o;
    memset(&o, 0xA5, sizeof o);
    nn_fit_options_init(&o);
    assert_int_equal(o.struct_size, sizeof(nn_fit_options));
    assert_int_equal(o.epochs, 1);
    assert_int_equal(o.batch_size, 32);
    assert_int_equal(o.shuffle, 1);
    assert_int_equal(o.seed, 0);
    assert_null(o.validation_x);
    assert_null(o.validation_y);
    assert_int_equal(o.validation_rows, 0);
    assert_null(o.on_epoch_end);
    assert_null(o.user_data);
    nn_fit_options_init(NULL); /* does nothing */
}

/* ------------------------------------------------------------------------ */
/* Preconditions                                                            */
/* ------------------------------------------------------------------------ */

static void fit_requires_layers_loss_and_optimizer(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS * OUT];
    regression_data(x, y, 1);
    nn_optimizer_options sgd;
    NN_ASSERT_OK(nn_optimizer_options_init(&sgd, NN_OPTIMIZER_SGD));

    /* No layer. */
    nn_model *model = nn_test_model(IN, 1, 0, NULL);
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_MEAN_SQUARED_ERROR, 0));
    NN_ASSERT_OK(nn_model_set_optimizer(model, &sgd));
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, IN, NULL), NN_ERROR_INVALID_STATE,
                    "layer");
    nn_model_free(model);

    /* No loss. */
    const nn_test_layer layers[] = {{OUT, NN_ACTIVATION_LINEAR}};
    model = nn_test_model(IN, 1, 1, layers);
    NN_ASSERT_OK(nn_model_set_optimizer(model, &sgd));
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT, NULL), NN_ERROR_INVALID_STATE,
                    "loss");
    nn_model_free(model);

    /* No optimizer. */
    model = nn_test_model(IN, 1, 1, layers);
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_MEAN_SQUARED_ERROR, 0));
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT, NULL), NN_ERROR_INVALID_STATE,
                    "optimizer");
    nn_model_free(model);
}

/* A categorical loss needs at least two outputs. */
static void fit_rejects_loss_that_does_not_fit(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{1, NN_ACTIVATION_SIGMOID}};
    nn_model *model = nn_test_model(2, 1, 1, layers);
    nn_test_compile(model, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_SGD, 0.1);
    const float x[4] = {0, 1, 1, 0}, y[2] = {0, 0};
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, 2, 2, 1, NULL), NN_ERROR_INVALID_STATE,
                    "sparse_categorical_crossentropy", "2 units");
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0));
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, 2, 2, 1, NULL), NN_ERROR_INVALID_STATE,
                    "categorical_crossentropy", "2 units");
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Shapes and data                                                          */
/* ------------------------------------------------------------------------ */

static void fit_rejects_bad_shapes(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS * OUT];
    regression_data(x, y, 2);
    nn_model *model = regression_model(1, 0.1);
    size_t n = 0;
    float *before = nn_test_weights(model, &n);

    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN - 1, OUT, NULL),
                    NN_ERROR_SHAPE_MISMATCH, "expected 3 input columns, got 2");
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT + 1, NULL),
                    NN_ERROR_SHAPE_MISMATCH, "expected 2 target columns, got 3");
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, NULL), NN_ERROR_SHAPE_MISMATCH,
                    "expected 2 target columns, got 1");
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, 0, IN, OUT, NULL), NN_ERROR_SHAPE_MISMATCH,
                    "0 rows");
    NN_ASSERT_SIZE_ERROR(nn_model_fit(model, x, y, SIZE_MAX, IN, OUT, NULL), "x");
    NN_ASSERT_SIZE_ERROR(nn_model_fit(model, x, y, (SIZE_MAX >> 1) + 1, IN, OUT, NULL), "x");
    NN_ASSERT_SIZE_ERROR(nn_model_fit(model, x, y, SIZE_MAX / IN + 1, IN, OUT, NULL), "x");
    NN_ASSERT_ERROR(nn_model_fit(model, NULL, y, ROWS, IN, OUT, NULL), NN_ERROR_NULL_POINTER,
                    "x");
    NN_ASSERT_ERROR(nn_model_fit(model, x, NULL, ROWS, IN, OUT, NULL), NN_ERROR_NULL_POINTER,
                    "y");

    float *after = nn_test_weights(model, NULL);
    assert_memory_equal(before, after, n * sizeof(float));
    free(before);
    free(after);
    nn_model_free(model);
}

/* NaN or infinity in x or y: refused before any step. */
static void fit_rejects_non_finite_data(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS * OUT];
    regression_data(x, y, 3);
    nn_model *model = regression_model(1, 0.1);
    size_t n = 0;
    float *before = nn_test_weights(model, &n);

    x[ROWS * IN - 1] = NAN; /* the very last value */
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT, NULL), NN_ERROR_NON_FINITE,
                    "non-finite", "row 23, column 2");
    x[ROWS * IN - 1] = 0.5f;
    x[4] = INFINITY;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT, NULL), NN_ERROR_NON_FINITE,
                    "non-finite", "row 1, column 1");
    x[4] = 0.5f;
    y[7] = -INFINITY;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT, NULL), NN_ERROR_NON_FINITE,
                    "target", "row 3, column 1");
    y[7] = 0.0f;

    float *after = nn_test_weights(model, NULL);
    assert_memory_equal(before, after, n * sizeof(float));
    /* A failed fit is not training: layers can still be added. */
    NN_ASSERT_OK(nn_model_add_dense(model, 2, NN_ACTIVATION_LINEAR));
    free(before);
    free(after);
    nn_model_free(model);
}

/* Sparse labels must be whole class indices in [0, classes). */
static void fit_rejects_bad_sparse_labels(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{3, NN_ACTIVATION_SOFTMAX}};
    nn_model *model = nn_test_model(2, 1, 1, layers);
    nn_test_compile(model, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_SGD, 0.1);
    const float x[8] = {0, 1, 1, 0, 1, 1, 0, 0};
    float y[4] = {0, 1, 2, 1};
    NN_ASSERT_OK(nn_model_fit(model, x, y, 4, 2, 1, NULL));

    y[2] = 3;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, 4, 2, 1, NULL), NN_ERROR_INVALID_ARGUMENT,
                    "label", "row 2", "[0, 2]");
    y[2] = -1;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, 4, 2, 1, NULL), NN_ERROR_INVALID_ARGUMENT,
                    "label", "row 2");
    y[2] = 1.5f;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, 4, 2, 1, NULL), NN_ERROR_INVALID_ARGUMENT,
                    "label", "1.5");
    y[2] = 2;
    /* One column of labels, not one per class. */
    float onehot[12] = {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0};
    NN_ASSERT_ERROR(nn_model_fit(model, x, onehot, 4, 2, 3, NULL), NN_ERROR_SHAPE_MISMATCH,
                    "1 target column", "got 3");
    nn_model_free(model);
}

/* Binary cross-entropy targets must lie in [0, 1]. */
static void fit_rejects_bad_binary_targets(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{1, NN_ACTIVATION_SIGMOID}};
    nn_model *model = nn_test_model(2, 1, 1, layers);
    nn_test_compile(model, NN_LOSS_BINARY_CROSSENTROPY, 0, NN_OPTIMIZER_SGD, 0.1);
    const float x[8] = {0, 1, 1, 0, 1, 1, 0, 0};
    float y[4] = {0, 1, 0.25f, 1};
    NN_ASSERT_OK(nn_model_fit(model, x, y, 4, 2, 1, NULL)); /* soft targets are fine */
    y[3] = 1.5f;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, 4, 2, 1, NULL), NN_ERROR_INVALID_ARGUMENT,
                    "[0, 1]", "1.5", "row 3");
    y[3] = -0.1f;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, 4, 2, 1, NULL), NN_ERROR_INVALID_ARGUMENT,
                    "[0, 1]", "row 3");
    nn_model_free(model);
}

/* Categorical cross-entropy takes one-hot (or probability) rows; a single
 * label column is refused with a hint. */
static void fit_categorical_needs_one_hot(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{3, NN_ACTIVATION_SOFTMAX}};
    nn_model *model = nn_test_model(2, 1, 1, layers);
    nn_test_compile(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_SGD, 0.1);
    const float x[4] = {0, 1, 1, 0}, labels[2] = {0, 2};
    NN_ASSERT_ERROR(nn_model_fit(model, x, labels, 2, 2, 1, NULL), NN_ERROR_SHAPE_MISMATCH,
                    "3 columns", "sparse_categorical_crossentropy");
    const float onehot[6] = {1, 0, 0, 0, 0, 1};
    NN_ASSERT_OK(nn_model_fit(model, x, onehot, 2, 2, 3, NULL));
    nn_model_free(model);
}

static void fit_rejects_bad_options(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS * OUT];
    regression_data(x, y, 4);
    nn_model *model = regression_model(1, 0.1);
    nn_fit_options o;

    o = fit_options(1, 0, 1);
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT, &o), NN_ERROR_INVALID_ARGUMENT,
                    "batch_size");
    o = fit_options(1, 8, 2);
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT, &o), NN_ERROR_INVALID_ARGUMENT,
                    "shuffle", "2");
    o = fit_options(1, 8, -1);
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT, &o), NN_ERROR_INVALID_ARGUMENT,
                    "shuffle");
    o = fit_options(1, 8, 1);
    o.struct_size = 0;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT, &o), NN_ERROR_INVALID_ARGUMENT,
                    "struct_size");
    o.struct_size = offsetof(nn_fit_options, early_stopping);   /* below 0.3.0's size */
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT, &o), NN_ERROR_INVALID_ARGUMENT,
                    "struct_size");
    o.struct_size = offsetof(nn_fit_options, on_batch_end);      /* 0.3.0-0.5.0's size: accepted */
    NN_ASSERT_OK(nn_model_fit(model, x, y, ROWS, IN, OUT, &o));
    o.struct_size = sizeof o + sizeof(void *);                   /* a newer nn.h's */
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT, &o), NN_ERROR_INVALID_ARGUMENT,
                    "struct_size");

    /* Validation data: both arrays or none, with rows, finite, right widths. */
    float vx[4 * IN], vy[4 * OUT];
    regression_data(x, y, 4);
    memcpy(vx, x, sizeof vx);
    memcpy(vy, y, sizeof vy);
    o = fit_options(1, 8, 1);
    o.validation_x = vx;
    o.validation_rows = 4;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT, &o), NN_ERROR_NULL_POINTER,
                    "validation_y");
    o.validation_x = NULL;
    o.validation_y = vy;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT, &o), NN_ERROR_NULL_POINTER,
                    "validation_x");
    o.validation_x = vx;
    o.validation_rows = 0;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT, &o), NN_ERROR_SHAPE_MISMATCH,
                    "validation", "0 rows");
    o.validation_rows = SIZE_MAX;
    NN_ASSERT_SIZE_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT, &o), "validation");
    o.validation_rows = 4;
    vx[5] = NAN;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, OUT, &o), NN_ERROR_NON_FINITE,
                    "validation", "row 1, column 2");
    vx[5] = 0;
    NN_ASSERT_OK(nn_model_fit(model, x, y, ROWS, IN, OUT, &o));
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* What fit does                                                            */
/* ------------------------------------------------------------------------ */

/* epochs = 0 trains nothing and calls no callback. */
static int count_calls(void *user_data, size_t epoch, size_t n_logs, const char *const *names,
                       const double *values) {
    (void)epoch;
    (void)n_logs;
    (void)names;
    (void)values;
    (*(size_t *)user_data)++;
    return 0;
}

static void zero_epochs_train_nothing(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS * OUT];
    regression_data(x, y, 5);
    nn_model *model = regression_model(9, 0.1);
    size_t n = 0;
    float *before = nn_test_weights(model, &n);
    size_t calls = 0;
    nn_fit_options o = fit_options(0, 4, 1);
    o.on_epoch_end = count_calls;
    o.user_data = &calls;
    NN_ASSERT_OK(nn_model_fit(model, x, y, ROWS, IN, OUT, &o));
    assert_int_equal(calls, 0);
    float *after = nn_test_weights(model, NULL);
    assert_memory_equal(before, after, n * sizeof(float));
    free(before);
    free(after);
    nn_model_free(model);
}

/* options NULL means the defaults: one epoch, batches of 32, shuffled. */
static void null_options_are_defaults(void **state) {
    (void)state;
    enum { N = 80 };
    nn_test_rng rng = {6};
    float x[N * 2], y[N];
    nn_test_fill(&rng, x, N * 2, -1, 1);
    for (int i = 0; i < N; i++) y[i] = x[2 * i] - x[2 * i + 1];
    const nn_test_layer layers[] = {{1, NN_ACTIVATION_LINEAR}};
    nn_model *a = nn_test_model(2, 3, 1, layers), *b = nn_test_model(2, 3, 1, layers);
    nn_test_compile(a, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, 0.05);
    nn_test_compile(b, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, 0.05);
    size_t calls = 0;
    nn_fit_options o;
    nn_fit_options_init(&o);
    o.on_epoch_end = count_calls; /* does not change training */
    o.user_data = &calls;
    NN_ASSERT_OK(nn_model_fit(a, x, y, N, 2, 1, NULL));
    NN_ASSERT_OK(nn_model_fit(b, x, y, N, 2, 1, &o));
    assert_int_equal(calls, 1);
    assert_true(nn_test_same_weights(a, b));
    /* And training happened. */
    nn_model *c = nn_test_model(2, 3, 1, layers);
    assert_false(nn_test_same_weights(a, c));
    nn_model_free(a);
    nn_model_free(b);
    nn_model_free(c);
}

/* A batch_size above the number of rows means one batch of all rows (the
 * header only requires batch_size > 0), up to SIZE_MAX. */
static void batch_larger_than_data(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS * OUT];
    regression_data(x, y, 13);
    const size_t batches[3] = {ROWS, ROWS + 1, SIZE_MAX};
    nn_model *models[3];
    for (int i = 0; i < 3; i++) {
        models[i] = regression_model(21, 0.1);
        nn_fit_options o = fit_options(2, batches[i], 0);
        NN_ASSERT_OK(nn_model_fit(models[i], x, y, ROWS, IN, OUT, &o));
    }
    assert_true(nn_test_same_weights(models[0], models[1]));
    assert_true(nn_test_same_weights(models[0], models[2]));
    for (int i = 0; i < 3; i++) nn_model_free(models[i]);
}

/* An epoch count the library will not run is refused with a message that
 * states the value passed. */
static void absurd_epoch_count(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS * OUT];
    regression_data(x, y, 14);
    nn_model *model = regression_model(1, 0.1);
    size_t calls = 0;
    nn_fit_options o = fit_options(SIZE_MAX, 8, 1);
    o.on_epoch_end = count_calls;
    o.user_data = &calls;
    nn_status s = nn_model_fit(model, x, y, ROWS, IN, OUT, &o);
    if (s != NN_OK) {
        /* Refusing is allowed; the message must not misstate the value. */
        assert_true(nn_test_contains(nn_last_error(), "epochs"));
        assert_true(nn_test_contains(nn_last_error(), "18446744073709551615"));
        assert_int_equal(calls, 0);
    }
    nn_model_free(model);
}

/* Layers cannot be added after fit. */
static void no_layers_after_fit(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS * OUT];
    regression_data(x, y, 7);
    nn_model *model = regression_model(1, 0.1);
    nn_fit_options o = fit_options(1, 8, 1);
    NN_ASSERT_OK(nn_model_fit(model, x, y, ROWS, IN, OUT, &o));
    NN_ASSERT_ERROR(nn_model_add_dense(model, 3, NN_ACTIVATION_RELU), NN_ERROR_INVALID_STATE,
                    "trained");
    nn_dense_options d;
    nn_dense_options_init(&d, 3);
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &d), NN_ERROR_INVALID_STATE, "trained");
    size_t layers = 0;
    NN_ASSERT_OK(nn_model_layer_count(model, &layers));
    assert_int_equal(layers, 2);
    nn_model_free(model);
}

/* Same seed, same calls: bit-identical weights, with shuffling. */
static void same_seed_same_weights(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS * OUT];
    regression_data(x, y, 8);
    nn_model *a = regression_model(77, 0.05), *b = regression_model(77, 0.05);
    nn_fit_options o = fit_options(5, 5, 1);
    NN_ASSERT_OK(nn_model_fit(a, x, y, ROWS, IN, OUT, &o));
    NN_ASSERT_OK(nn_model_fit(b, x, y, ROWS, IN, OUT, &o));
    assert_true(nn_test_same_weights(a, b));
    /* Continuing continues identically. */
    NN_ASSERT_OK(nn_model_fit(a, x, y, ROWS, IN, OUT, &o));
    NN_ASSERT_OK(nn_model_fit(b, x, y, ROWS, IN, OUT, &o));
    assert_true(nn_test_same_weights(a, b));
    nn_model_free(a);
    nn_model_free(b);
}

/* The shuffle order matters (batches smaller than the data), so another
 * shuffle seed gives other weights; the same fit seed gives the same. */
static void fit_seed_controls_shuffling(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS * OUT];
    regression_data(x, y, 9);
    nn_model *a = regression_model(5, 0.05), *b = regression_model(5, 0.05),
             *c = regression_model(5, 0.05), *d = regression_model(5, 0.05);
    nn_fit_options o = fit_options(3, 4, 1);
    o.seed = 1234;
    NN_ASSERT_OK(nn_model_fit(a, x, y, ROWS, IN, OUT, &o));
    NN_ASSERT_OK(nn_model_fit(b, x, y, ROWS, IN, OUT, &o));
    o.seed = 4321;
    NN_ASSERT_OK(nn_model_fit(c, x, y, ROWS, IN, OUT, &o));
    o.shuffle = 0; /* in order */
    NN_ASSERT_OK(nn_model_fit(d, x, y, ROWS, IN, OUT, &o));
    assert_true(nn_test_same_weights(a, b));
    assert_false(nn_test_same_weights(a, c));
    assert_false(nn_test_same_weights(a, d));
    assert_false(nn_test_same_weights(c, d));
    nn_model_free(a);
    nn_model_free(b);
    nn_model_free(c);
    nn_model_free(d);
}

/* Without shuffling, the order is the data's: two models differing only
 * in seed, given identical initial weights, train identically. */
static void no_shuffle_ignores_generator(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS * OUT];
    regression_data(x, y, 10);
    nn_model *a = regression_model(1, 0.05), *b = regression_model(2, 0.05);
    size_t n = 0;
    float *w = nn_test_weights(a, &n);
    size_t offset = 0;
    for (size_t i = 0; i < 4; i++) {
        size_t size = nn_test_weight_size(b, i);
        nn_test_set_weight(b, i, w + offset, size);
        offset += size;
    }
    nn_fit_options o = fit_options(4, 5, 0);
    NN_ASSERT_OK(nn_model_fit(a, x, y, ROWS, IN, OUT, &o));
    NN_ASSERT_OK(nn_model_fit(b, x, y, ROWS, IN, OUT, &o));
    assert_true(nn_test_same_weights(a, b));
    free(w);
    nn_model_free(a);
    nn_model_free(b);
}

/* SGD on a linear model recovers a linear map. */
static void learns_linear_map(void **state) {
    (void)state;
    enum { N = 200 };
    nn_test_rng rng = {11};
    float *x = malloc(N * 3 * sizeof *x), *y = malloc(N * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    nn_test_fill(&rng, x, N * 3, -1, 1);
    for (int i = 0; i < N; i++) y[i] = 2.0f * x[3 * i] - 3.0f * x[3 * i + 1] + 0.5f * x[3 * i + 2] + 1.0f;
    const nn_test_layer layers[] = {{1, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(3, 12, 1, layers);
    nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, 0.1);
    nn_fit_options o = fit_options(100, 10, 1);
    NN_ASSERT_OK(nn_model_fit(model, x, y, N, 3, 1, &o));
    float kernel[3], bias[1];
    NN_ASSERT_OK(nn_model_get_weight(model, 0, kernel, 3));
    NN_ASSERT_OK(nn_model_get_weight(model, 1, bias, 1));
    NN_ASSERT_CLOSE(kernel[0], 2.0, 0, 1e-3);
    NN_ASSERT_CLOSE(kernel[1], -3.0, 0, 1e-3);
    NN_ASSERT_CLOSE(kernel[2], 0.5, 0, 1e-3);
    NN_ASSERT_CLOSE(bias[0], 1.0, 0, 1e-3);
    double loss = -1;
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, 3, 1, &loss, 1));
    assert_true(loss >= 0 && loss < 1e-5);
    free(x);
    free(y);
    nn_model_free(model);
}

/* A learning rate far too large makes the loss overflow: NN_ERROR_NON_FINITE
 * naming the epoch and batch. */
static void divergence_is_reported(void **state) {
    (void)state;
    enum { N = 16 };
    float x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = 1.0e6f * (float)(i + 1);
        y[i] = 1.0f;
    }
    const nn_test_layer layers[] = {{1, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(1, 1, 1, layers);
    nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, 1.0e6);
    nn_fit_options o = fit_options(50, 4, 0);
    size_t calls = 0;
    o.on_epoch_end = count_calls;
    o.user_data = &calls;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, N, 1, 1, &o), NN_ERROR_NON_FINITE, "epoch",
                    "batch");
    assert_true(calls < 50);
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* The epoch callback                                                       */
/* ------------------------------------------------------------------------ */

typedef struct recorder {
    size_t calls;
    size_t stop_after;            /* return non-zero at this epoch (or never: SIZE_MAX) */
    size_t epochs[64];
    size_t n_logs[64];
    char names[64][4][32];
    double values[64][4];
    void *self;                   /* user_data must arrive untouched */
    int user_data_ok;
} recorder;

static int record(void *user_data, size_t epoch, size_t n_logs, const char *const *names,
                  const double *values) {
    recorder *r = user_data;
    r->user_data_ok = r->user_data_ok && r->self == user_data;
    if (r->calls < 64) {
        r->epochs[r->calls] = epoch;
        r->n_logs[r->calls] = n_logs;
        for (size_t i = 0; i < n_logs && i < 4; i++) {
            strncpy(r->names[r->calls][i], names[i], 31);
            r->names[r->calls][i][31] = '\0';
            r->values[r->calls][i] = values[i];
        }
    }
    r->calls++;
    return epoch == r->stop_after;
}

static void init_recorder(recorder *r, size_t stop_after) {
    memset(r, 0, sizeof *r);
    r->stop_after = stop_after;
    r->self = r;
    r->user_data_ok = 1;
}

/* 2 inputs -> Dense(3, softmax), sparse labels. */
enum { CN = 30 };
static void classification_data(float *x, float *labels, uint64_t seed) {
    nn_test_rng rng = {seed};
    for (size_t i = 0; i < CN; i++) {
        size_t c = i % 3;
        x[2 * i] = (float)c + nn_test_uniform(&rng, -0.3f, 0.3f);
        x[2 * i + 1] = (float)(2 - c) * 0.5f + nn_test_uniform(&rng, -0.3f, 0.3f);
        labels[i] = (float)c;
    }
}

static nn_model *classifier(uint64_t seed, int with_accuracy) {
    const nn_test_layer layers[] = {{3, NN_ACTIVATION_SOFTMAX}};
    nn_model *model = nn_test_model(2, seed, 1, layers);
    nn_test_compile(model, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_ADAM, 0.05);
    if (with_accuracy) NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_ACCURACY));
    return model;
}

static void callback_log_names(void **state) {
    (void)state;
    float x[CN * 2], y[CN], vx[CN * 2], vy[CN];
    classification_data(x, y, 1);
    classification_data(vx, vy, 2);

    /* Loss only. */
    nn_model *model = classifier(1, 0);
    recorder r;
    init_recorder(&r, SIZE_MAX);
    nn_fit_options o = fit_options(3, 8, 1);
    o.on_epoch_end = record;
    o.user_data = &r;
    NN_ASSERT_OK(nn_model_fit(model, x, y, CN, 2, 1, &o));
    assert_int_equal(r.calls, 3);
    assert_true(r.user_data_ok);
    for (size_t e = 0; e < 3; e++) {
        assert_int_equal(r.epochs[e], e);
        assert_int_equal(r.n_logs[e], 1);
        assert_string_equal(r.names[e][0], "loss");
        assert_true(isfinite(r.values[e][0]) && r.values[e][0] > 0);
    }
    nn_model_free(model);

    /* Loss and accuracy. */
    model = classifier(1, 1);
    init_recorder(&r, SIZE_MAX);
    NN_ASSERT_OK(nn_model_fit(model, x, y, CN, 2, 1, &o));
    assert_int_equal(r.calls, 3);
    for (size_t e = 0; e < 3; e++) {
        assert_int_equal(r.n_logs[e], 2);
        assert_string_equal(r.names[e][0], "loss");
        assert_string_equal(r.names[e][1], "accuracy");
        assert_true(r.values[e][1] >= 0 && r.values[e][1] <= 1);
    }
    nn_model_free(model);

    /* With validation data. */
    model = classifier(1, 1);
    init_recorder(&r, SIZE_MAX);
    o.epochs = 4;
    o.validation_x = vx;
    o.validation_y = vy;
    o.validation_rows = CN;
    NN_ASSERT_OK(nn_model_fit(model, x, y, CN, 2, 1, &o));
    assert_int_equal(r.calls, 4);
    for (size_t e = 0; e < 4; e++) {
        assert_int_equal(r.epochs[e], e);
        assert_int_equal(r.n_logs[e], 4);
        assert_string_equal(r.names[e][0], "loss");
        assert_string_equal(r.names[e][1], "accuracy");
        assert_string_equal(r.names[e][2], "val_loss");
        assert_string_equal(r.names[e][3], "val_accuracy");
        assert_true(r.values[e][2] > 0 && r.values[e][3] >= 0 && r.values[e][3] <= 1);
    }
    /* The last epoch's validation logs are evaluate's values after fit. */
    double after[2];
    NN_ASSERT_OK(nn_model_evaluate(model, vx, vy, CN, 2, 1, after, 2));
    NN_ASSERT_CLOSE(r.values[3][2], after[0], 1e-6, 1e-9);
    NN_ASSERT_CLOSE(r.values[3][3], after[1], 0, 1e-12);
    /* A new fit counts its epochs from 0 again. */
    init_recorder(&r, SIZE_MAX);
    o.epochs = 2;
    NN_ASSERT_OK(nn_model_fit(model, x, y, CN, 2, 1, &o));
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.epochs[0], 0);
    assert_int_equal(r.epochs[1], 1);
    nn_model_free(model);
}

/* With one full batch and no shuffling, epoch e's "loss" is the loss before
 * that epoch's single step: epoch 0 logs evaluate's loss before fit. */
static void callback_loss_is_training_loss(void **state) {
    (void)state;
    float x[CN * 2], y[CN];
    classification_data(x, y, 3);
    nn_model *model = classifier(4, 1);
    double before[2];
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, CN, 2, 1, before, 2));
    recorder r;
    init_recorder(&r, SIZE_MAX);
    nn_fit_options o = fit_options(2, CN, 0);
    o.on_epoch_end = record;
    o.user_data = &r;
    NN_ASSERT_OK(nn_model_fit(model, x, y, CN, 2, 1, &o));
    NN_ASSERT_CLOSE(r.values[0][0], before[0], 1e-5, 1e-7);
    NN_ASSERT_CLOSE(r.values[0][1], before[1], 0, 1e-12);
    /* Training made progress. */
    assert_true(r.values[1][0] < r.values[0][0]);
    nn_model_free(model);
}

/* Returning non-zero stops after that epoch; fit still returns NN_OK and
 * the model equals one trained for that many epochs. */
static void callback_can_stop_training(void **state) {
    (void)state;
    float x[CN * 2], y[CN];
    classification_data(x, y, 5);
    nn_model *stopped = classifier(6, 1), *short_run = classifier(6, 1);
    recorder r;
    init_recorder(&r, 2);
    nn_fit_options o = fit_options(20, 7, 1);
    o.on_epoch_end = record;
    o.user_data = &r;
    NN_ASSERT_OK(nn_model_fit(stopped, x, y, CN, 2, 1, &o));
    assert_int_equal(r.calls, 3);
    nn_fit_options p = fit_options(3, 7, 1);
    NN_ASSERT_OK(nn_model_fit(short_run, x, y, CN, 2, 1, &p));
    assert_true(nn_test_same_weights(stopped, short_run));
    /* Stop at once. */
    init_recorder(&r, 0);
    NN_ASSERT_OK(nn_model_fit(stopped, x, y, CN, 2, 1, &o));
    assert_int_equal(r.calls, 1);
    nn_model_free(stopped);
    nn_model_free(short_run);
}

/* Epochs that log only their loss (no metric, validation, schedule,
 * statistics or callback) reach the history in one pass at the end of the
 * fit: the logs, their epoch numbers and the weights are those of the same
 * fit with an epoch callback, also for a fit that fails at an epoch (the
 * epochs before it are kept) and across fits. */
static void quiet_epochs_log_as_watched(void **state) {
    (void)state;
    float x[CN * 2], y[CN];
    classification_data(x, y, 12);
    nn_model *watched = classifier(4, 0), *quiet = classifier(4, 0);
    recorder r;
    init_recorder(&r, SIZE_MAX);
    nn_fit_options o = fit_options(5, 4, 1), plain = o;
    o.on_epoch_end = record;
    o.user_data = &r;
    for (int round = 0; round < 2; round++) {   /* the second fit numbers its epochs from 5 */
        NN_ASSERT_OK(nn_model_fit(watched, x, y, CN, 2, 1, &o));
        NN_ASSERT_OK(nn_model_fit(quiet, x, y, CN, 2, 1, &plain));
        assert_true(nn_test_same_weights(watched, quiet));
        size_t epochs = 0, logs = 0;
        NN_ASSERT_OK(nn_model_fit_logs(quiet, &epochs, &logs));
        assert_int_equal(epochs, 5);
        assert_int_equal(logs, 1);
        const char *name = NULL;
        double values[5] = {0};
        NN_ASSERT_OK(nn_model_fit_log(quiet, 0, &name, values, 5));
        assert_string_equal(name, "loss");
        for (size_t e = 0; e < 5; e++) assert_true(values[e] == r.values[5 * round + e][0]);
    }
    /* A rate that makes the loss overflow: both fail at the same epoch and
     * keep the epochs before it. */
    nn_optimizer_options sgd;
    NN_ASSERT_OK(nn_optimizer_options_init(&sgd, NN_OPTIMIZER_SGD));
    sgd.learning_rate = 1e38;
    NN_ASSERT_OK(nn_model_set_optimizer(watched, &sgd));
    NN_ASSERT_OK(nn_model_set_optimizer(quiet, &sgd));
    init_recorder(&r, SIZE_MAX);
    nn_status a = nn_model_fit(watched, x, y, CN, 2, 1, &o), b = nn_model_fit(quiet, x, y, CN, 2, 1, &plain);
    assert_int_equal(a, NN_ERROR_NON_FINITE);
    assert_int_equal(b, NN_ERROR_NON_FINITE);
    size_t wa = 0, wl = 0, qa = 0, ql = 0;
    NN_ASSERT_OK(nn_model_fit_logs(watched, &wa, &wl));
    NN_ASSERT_OK(nn_model_fit_logs(quiet, &qa, &ql));
    assert_int_equal(qa, wa);
    assert_int_equal(qa, r.calls);
    assert_true(qa >= 1 && qa < 5);              /* it failed after an epoch or more */
    const char *name = NULL;
    double values[5] = {0};
    NN_ASSERT_OK(nn_model_fit_log(quiet, 0, &name, values, qa));
    for (size_t e = 0; e < qa; e++) assert_true(values[e] == r.values[e][0]);
    nn_model_free(watched);
    nn_model_free(quiet);
}

/* nn_model_fit_logs / nn_model_fit_log: the logs of the last fit, as the
 * callback received them, for a caller that passed no callback; a stopped
 * fit keeps the epochs it ran; a new fit replaces them. */
static void fit_logs_without_callback(void **state) {
    (void)state;
    float x[CN * 2], y[CN], vx[CN * 2], vy[CN];
    classification_data(x, y, 7);
    classification_data(vx, vy, 8);
    nn_model *watched = classifier(9, 1), *silent = classifier(9, 1);
    size_t epochs = 99, logs = 99;
    NN_ASSERT_OK(nn_model_fit_logs(silent, &epochs, &logs));
    assert_int_equal(epochs, 0);
    assert_int_equal(logs, 0);

    recorder r;
    init_recorder(&r, SIZE_MAX);
    nn_fit_options o = fit_options(4, 8, 1);
    o.validation_x = vx;
    o.validation_y = vy;
    o.validation_rows = CN;
    nn_fit_options quiet = o;
    o.on_epoch_end = record;
    o.user_data = &r;
    NN_ASSERT_OK(nn_model_fit(watched, x, y, CN, 2, 1, &o));
    NN_ASSERT_OK(nn_model_fit(silent, x, y, CN, 2, 1, &quiet));
    assert_true(nn_test_same_weights(watched, silent));
    NN_ASSERT_OK(nn_model_fit_logs(silent, &epochs, &logs));
    assert_int_equal(epochs, 4);
    assert_int_equal(logs, 4);
    assert_int_equal(r.n_logs[0], 4);
    for (size_t i = 0; i < logs; i++) {
        const char *name = NULL;
        double values[4] = {0};
        NN_ASSERT_OK(nn_model_fit_log(silent, i, &name, values, 4));
        assert_string_equal(name, r.names[0][i]);
        for (size_t e = 0; e < 4; e++) assert_true(values[e] == r.values[e][i]);
    }
    /* The watched model kept its logs too. */
    NN_ASSERT_OK(nn_model_fit_logs(watched, &epochs, &logs));
    assert_int_equal(epochs, 4);

    /* Bad arguments. */
    const char *name = NULL;
    double values[4];
    NN_ASSERT_ERROR(nn_model_fit_log(silent, 4, &name, values, 4), NN_ERROR_INVALID_ARGUMENT, "4");
    NN_ASSERT_ERROR(nn_model_fit_log(silent, 0, &name, values, 3), NN_ERROR_SHAPE_MISMATCH, "4 epochs");
    NN_ASSERT_ERROR(nn_model_fit_log(silent, 0, NULL, values, 4), NN_ERROR_NULL_POINTER, "name");
    NN_ASSERT_ERROR(nn_model_fit_log(silent, 0, &name, NULL, 4), NN_ERROR_NULL_POINTER, "values");
    NN_ASSERT_ERROR(nn_model_fit_logs(silent, NULL, &logs), NN_ERROR_NULL_POINTER, "epochs");
    NN_ASSERT_ERROR(nn_model_fit_logs(NULL, &epochs, &logs), NN_ERROR_NULL_POINTER, "model");

    /* A stopped fit keeps the epochs it ran; the next fit replaces them. */
    init_recorder(&r, 1);
    NN_ASSERT_OK(nn_model_fit(watched, x, y, CN, 2, 1, &o));
    NN_ASSERT_OK(nn_model_fit_logs(watched, &epochs, &logs));
    assert_int_equal(epochs, 2);
    nn_fit_options one = fit_options(1, 8, 1);
    NN_ASSERT_OK(nn_model_fit(watched, x, y, CN, 2, 1, &one));
    NN_ASSERT_OK(nn_model_fit_logs(watched, &epochs, &logs));
    assert_int_equal(epochs, 1);
    assert_int_equal(logs, 2);  /* loss, accuracy: no validation this time */
    /* A fit refused before training leaves no logs of an older one. */
    nn_fit_options zero = fit_options(3, 8, 1);
    zero.batch_size = 0;
    NN_ASSERT_ERROR(nn_model_fit(watched, x, y, CN, 2, 1, &zero), NN_ERROR_INVALID_ARGUMENT, "batch_size");
    NN_ASSERT_OK(nn_model_fit_logs(watched, &epochs, &logs));
    assert_int_equal(epochs, 0);
    assert_int_equal(logs, 0);
    nn_model_free(watched);
    nn_model_free(silent);
}

/* A schedule set from the epoch callback applies from the next fit: the
 * running fit keeps its own (and logs the same names every epoch), and a
 * reduce-on-plateau installed mid-fit does not break the running plateau
 * (it once trapped). */
typedef struct { nn_model *model; size_t calls; int ok; } scheduler;
static int install_schedules(void *user_data, size_t epoch, size_t n_logs, const char *const *names,
                             const double *values) {
    (void)names;
    (void)values;
    (void)n_logs;
    scheduler *s = user_data;
    nn_schedule_options o;
    nn_status status;
    if (epoch % 2 == 0) {
        status = nn_schedule_options_init(&o, NN_SCHEDULE_REDUCE_ON_PLATEAU);
        o.monitor = "loss";
        if (status == NN_OK) status = nn_model_set_lr_schedule(s->model, &o);
    } else {
        status = nn_model_set_lr_schedule(s->model, NULL);
    }
    s->ok = s->ok && status == NN_OK;
    s->calls++;
    return 0;
}

static void schedule_set_during_fit_applies_next_fit(void **state) {
    (void)state;
    float x[CN * 2], y[CN];
    classification_data(x, y, 11);
    nn_model *model = classifier(12, 0);
    nn_schedule_options plateau;
    NN_ASSERT_OK(nn_schedule_options_init(&plateau, NN_SCHEDULE_REDUCE_ON_PLATEAU));
    plateau.monitor = "loss";
    NN_ASSERT_OK(nn_model_set_lr_schedule(model, &plateau));
    scheduler s = {model, 0, 1};
    nn_fit_options o = fit_options(4, 8, 1);
    o.on_epoch_end = install_schedules;
    o.user_data = &s;
    NN_ASSERT_OK(nn_model_fit(model, x, y, CN, 2, 1, &o));
    assert_int_equal(s.calls, 4);
    assert_true(s.ok);
    size_t epochs = 0, logs = 0;
    NN_ASSERT_OK(nn_model_fit_logs(model, &epochs, &logs));
    assert_int_equal(epochs, 4);
    assert_int_equal(logs, 2);  /* loss, learning_rate: every epoch */
    const char *name = NULL;
    double rates[4];
    NN_ASSERT_OK(nn_model_fit_log(model, 1, &name, rates, 4));
    assert_string_equal(name, "learning_rate");
    for (size_t e = 0; e < 4; e++) assert_true(isfinite(rates[e]) && rates[e] > 0);
    /* The last callback (epoch 3) removed the schedule: the next fit logs no rate. */
    nn_fit_options plain = fit_options(1, 8, 1);
    NN_ASSERT_OK(nn_model_fit(model, x, y, CN, 2, 1, &plain));
    NN_ASSERT_OK(nn_model_fit_logs(model, &epochs, &logs));
    assert_int_equal(logs, 1);
    nn_model_free(model);
}

/* Metrics added or cleared from the epoch callback apply from the next fit:
 * the running fit keeps the metrics it began with, for training and
 * validation logs alike (it once wrote past its values, a trap, when a
 * callback added one). */
typedef struct { nn_model *model; size_t calls; int ok; size_t names[4]; } metric_changer;
static int change_metrics(void *user_data, size_t epoch, size_t n_logs, const char *const *names,
                          const double *values) {
    (void)names;
    metric_changer *m = user_data;
    for (size_t i = 0; i < n_logs; i++) m->ok = m->ok && isfinite(values[i]);
    if (epoch < 4) m->names[epoch] = n_logs;
    nn_status status = epoch % 2 == 1 ? nn_model_add_metric(m->model, NN_METRIC_ACCURACY)
                                      : nn_model_clear_metrics(m->model);
    m->ok = m->ok && status == NN_OK;
    m->calls++;
    return 0;
}

static void metrics_set_during_fit_apply_next_fit(void **state) {
    (void)state;
    float x[CN * 2], y[CN], vx[CN * 2], vy[CN];
    classification_data(x, y, 13);
    classification_data(vx, vy, 14);
    nn_model *model = classifier(15, 0);
    metric_changer m = {model, 0, 1, {0}};
    nn_fit_options o = fit_options(4, 8, 1);
    o.validation_x = vx;
    o.validation_y = vy;
    o.validation_rows = CN;
    o.on_epoch_end = change_metrics;
    o.user_data = &m;
    NN_ASSERT_OK(nn_model_fit(model, x, y, CN, 2, 1, &o));
    assert_int_equal(m.calls, 4);
    assert_true(m.ok);
    for (size_t e = 0; e < 4; e++) assert_int_equal(m.names[e], 2);  /* loss, val_loss: every epoch */
    size_t epochs = 0, logs = 0;
    NN_ASSERT_OK(nn_model_fit_logs(model, &epochs, &logs));
    assert_int_equal(epochs, 4);
    assert_int_equal(logs, 2);
    /* The callbacks of epochs 1 and 3 (counting from 0) added accuracy, 0 and 2
     * cleared it: the next fit logs it. */
    nn_fit_options next = fit_options(1, 8, 1);
    NN_ASSERT_OK(nn_model_fit(model, x, y, CN, 2, 1, &next));
    NN_ASSERT_OK(nn_model_fit_logs(model, &epochs, &logs));
    assert_int_equal(logs, 2);  /* loss, accuracy */
    const char *name = NULL;
    double value;
    NN_ASSERT_OK(nn_model_fit_log(model, 1, &name, &value, 1));
    assert_string_equal(name, "accuracy");
    nn_model_free(model);
}

/* The callback may call back into libnn on another model (it runs on the
 * calling thread, between epochs). */
typedef struct probe {
    nn_model *other;
    size_t calls;
    int ok;
} probe;

static int call_into_library(void *user_data, size_t epoch, size_t n_logs,
                             const char *const *names, const double *values) {
    (void)epoch;
    (void)values;
    probe *p = user_data;
    p->calls++;
    size_t dim = 0;
    p->ok = p->ok && nn_model_input_dim(p->other, &dim) == NN_OK && dim == 2;
    /* The names are valid for the whole call, also after a libnn call. */
    p->ok = p->ok && n_logs == 1 && strcmp(names[0], "loss") == 0;
    return 0;
}

static void callback_may_use_library(void **state) {
    (void)state;
    float x[CN * 2], y[CN];
    classification_data(x, y, 7);
    nn_model *model = classifier(8, 0), *other = classifier(9, 0);
    probe p = {other, 0, 1};
    nn_fit_options o = fit_options(2, 10, 1);
    o.on_epoch_end = call_into_library;
    o.user_data = &p;
    NN_ASSERT_OK(nn_model_fit(model, x, y, CN, 2, 1, &o));
    assert_int_equal(p.calls, 2);
    assert_true(p.ok);
    nn_model_free(model);
    nn_model_free(other);
}

/* During the callback the model's weights may be read and replaced:
 * training resumes from the weights the model holds when it returns. */
typedef struct replacer {
    nn_model *model;
    const float *weights; /* all weights, concatenated */
    size_t calls;
    int ok;
} replacer;

static int replace_weights(void *user_data, size_t epoch, size_t n_logs,
                           const char *const *names, const double *values) {
    (void)n_logs;
    (void)names;
    (void)values;
    replacer *r = user_data;
    r->calls++;
    if (epoch != 0) return 0;
    /* Reading works: predict on the model being trained. */
    float x[IN] = {0.1f, 0.2f, 0.3f}, out[OUT];
    r->ok = r->ok && nn_model_predict(r->model, x, 1, IN, out, OUT) == NN_OK;
    size_t offset = 0;
    for (size_t i = 0; i < 4; i++) {
        size_t ndim = 0, dims[NN_MAX_DIMS];
        r->ok = r->ok && nn_model_weight_shape(r->model, i, &ndim, dims, NN_MAX_DIMS) == NN_OK;
        size_t size = ndim == 2 ? dims[0] * dims[1] : dims[0];
        r->ok = r->ok && nn_model_set_weight(r->model, i, r->weights + offset, size) == NN_OK;
        offset += size;
    }
    return 0;
}

static void callback_may_replace_weights(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS * OUT];
    regression_data(x, y, 12);
    /* Plain SGD keeps no state, so only the weights carry over. */
    nn_model *a = regression_model(1, 0.05), *b = regression_model(2, 0.05);
    float *start = nn_test_weights(b, NULL);
    replacer r = {a, start, 0, 1};
    nn_fit_options o = fit_options(3, ROWS, 0);
    o.on_epoch_end = replace_weights;
    o.user_data = &r;
    NN_ASSERT_OK(nn_model_fit(a, x, y, ROWS, IN, OUT, &o));
    assert_int_equal(r.calls, 3);
    assert_true(r.ok);
    /* b starts from the replacement weights and trains the 2 remaining epochs. */
    nn_fit_options p = fit_options(2, ROWS, 0);
    NN_ASSERT_OK(nn_model_fit(b, x, y, ROWS, IN, OUT, &p));
    assert_true(nn_test_same_weights(a, b));
    free(start);
    nn_model_free(a);
    nn_model_free(b);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(fit_options_defaults),
    cmocka_unit_test(quiet_epochs_log_as_watched),
    cmocka_unit_test(fit_logs_without_callback),
    cmocka_unit_test(schedule_set_during_fit_applies_next_fit),
    cmocka_unit_test(fit_requires_layers_loss_and_optimizer),
    cmocka_unit_test(fit_rejects_loss_that_does_not_fit),
    cmocka_unit_test(fit_rejects_bad_shapes),
    cmocka_unit_test(fit_rejects_non_finite_data),
    cmocka_unit_test(fit_rejects_bad_sparse_labels),
    cmocka_unit_test(fit_rejects_bad_binary_targets),
    cmocka_unit_test(fit_categorical_needs_one_hot),
    cmocka_unit_test(fit_rejects_bad_options),
    cmocka_unit_test(zero_epochs_train_nothing),
    cmocka_unit_test(null_options_are_defaults),
    cmocka_unit_test(batch_larger_than_data),
    cmocka_unit_test(absurd_epoch_count),
    cmocka_unit_test(no_layers_after_fit),
    cmocka_unit_test(same_seed_same_weights),
    cmocka_unit_test(fit_seed_controls_shuffling),
    cmocka_unit_test(no_shuffle_ignores_generator),
    cmocka_unit_test(learns_linear_map),
    cmocka_unit_test(divergence_is_reported),
    cmocka_unit_test(callback_log_names),
    cmocka_unit_test(callback_loss_is_training_loss),
    cmocka_unit_test(callback_can_stop_training),
    cmocka_unit_test(callback_may_use_library),
    cmocka_unit_test(metrics_set_during_fit_apply_next_fit),
    cmocka_unit_test(callback_may_replace_weights),
};

NN_TEST_MAIN("fit", tests)
