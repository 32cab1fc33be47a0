/*
 * Seeing inside: nn_gradient_check_options_init, nn_model_gradient_check,
 * nn_model_set_anomaly_detection, nn_model_set_layer_statistics,
 * nn_model_layer_statistics_count, nn_model_layer_statistics,
 * nn_model_diagnose, nn_model_finding and nn_model_diagnosis_report
 * (nn.h, "Seeing inside: gradient check, anomaly detection, layer
 * statistics, diagnosis").
 *
 * The gradient check passes for every layer kind and loss, in double and in
 * float, names weight arrays that exist and leaves the model untouched;
 * anomaly detection names the layer, stage, epoch, batch and element of an
 * overflow and changes nothing when training is healthy; layer statistics
 * see dead and saturated units, with NaN where nn.h says so; the diagnosis
 * finds vanishing gradients, dead units, unscaled inputs, a label mismatch
 * and a learning rate that is too high, and nothing in a healthy model.
 * Every function's bad arguments too.
 *
 * The models and data follow Tests/NNCoreTests/DebuggingTests.swift.
 */
#include "nn_test.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Fixtures                                                                 */
/* ------------------------------------------------------------------------ */

/* Appends a Dense layer with the given initializers and L2 penalty. */
static void add_dense(nn_model *model, size_t units, nn_activation activation,
                      nn_initializer kernel, double kernel_value, nn_initializer bias,
                      double bias_value, double l2) {
    nn_dense_options o;
    nn_dense_options_init(&o, units);
    o.activation = activation;
    o.kernel_initializer = kernel;
    o.kernel_initializer_value = kernel_value;
    o.bias_initializer = bias;
    o.bias_initializer_value = bias_value;
    o.kernel_l2 = l2;
    NN_ASSERT_OK(nn_model_add_dense_ex(model, &o));
}

static void add_plain(nn_model *model, size_t units, nn_activation activation) {
    NN_ASSERT_OK(nn_model_add_dense(model, units, activation));
}

/* rows × cols uniform in [lo, hi) (malloc'd). */
static float *uniform(size_t rows, size_t cols, float lo, float hi, uint64_t seed) {
    float *v = malloc(rows * cols * sizeof *v);
    assert_non_null(v);
    nn_test_rng rng = {seed};
    nn_test_fill(&rng, v, rows * cols, lo, hi);
    return v;
}

/* rows one-hot rows of `classes` columns, classes drawn at random (malloc'd). */
static float *one_hot(size_t rows, size_t classes, uint64_t seed) {
    float *y = malloc(rows * classes * sizeof *y);
    assert_non_null(y);
    nn_test_rng rng = {seed};
    nn_test_one_hot(&rng, y, rows, classes);
    return y;
}

/* Non-zero if the model's weights are bit-identical to `saved` (count floats). */
static int weights_are(const nn_model *model, const float *saved, size_t count) {
    size_t n = 0;
    float *now = nn_test_weights(model, &n);
    int equal = n == count && memcmp(now, saved, n * sizeof *now) == 0;
    free(now);
    return equal;
}

/* The weight arrays of layer `layer`: [*first, *first + *arrays). */
static void layer_weights(const nn_model *model, size_t layer, size_t *first, size_t *arrays) {
    size_t index = 0;
    for (size_t i = 0; i <= layer; i++) {
        nn_layer_kind kind = (nn_layer_kind)0;
        NN_ASSERT_OK(nn_model_layer_kind(model, i, &kind));
        size_t n = kind == NN_LAYER_DENSE ? 2 : kind == NN_LAYER_BATCH_NORMALIZATION ? 4 : 0;
        if (i == layer) {
            *first = index;
            *arrays = n;
        }
        index += n;
    }
}

/* The trainable elements of layer `layer` (kernel + bias, gamma + beta). */
static size_t trainable_elements(const nn_model *model, size_t layer) {
    size_t first = 0, arrays = 0, total = 0;
    layer_weights(model, layer, &first, &arrays);
    for (size_t i = first; i < first + arrays; i++) {
        int trainable = -1;
        NN_ASSERT_OK(nn_model_weight_info(model, i, NULL, &trainable));
        if (trainable) total += nn_test_weight_size(model, i);
    }
    return total;
}

/* The L2 norm of the trainable weights of layer `layer`, summed in double. */
static double layer_norm(const nn_model *model, size_t layer) {
    size_t first = 0, arrays = 0;
    double sum = 0;
    layer_weights(model, layer, &first, &arrays);
    for (size_t i = first; i < first + arrays; i++) {
        int trainable = -1;
        NN_ASSERT_OK(nn_model_weight_info(model, i, NULL, &trainable));
        if (!trainable) continue;
        size_t n = nn_test_weight_size(model, i);
        float *w = malloc(n * sizeof *w);
        assert_non_null(w);
        NN_ASSERT_OK(nn_model_get_weight(model, i, w, n));
        for (size_t k = 0; k < n; k++) sum += (double)w[k] * (double)w[k];
        free(w);
    }
    return sqrt(sum);
}

/* ------------------------------------------------------------------------ */
/* Gradient check                                                           */
/* ------------------------------------------------------------------------ */

enum { GC_IN = 6, GC_OUT = 4, GC_ROWS = 9, GC_LAYERS = 8 };

/* Every layer kind and smooth activations (no ReLU kink within h):
 *   0 Dense(7, tanh, L2 1e-2)   1 BatchNormalization   2 Dropout(0.3)
 *   3 Activation(elu, 0.7)      4 Dense(6, elu)        5 Dense(5, softplus)
 *   6 Dense(5, sigmoid)         7 Dense(4, softmax)
 * categorical cross-entropy, Adam. */
static nn_model *every_kind_model(void) {
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(GC_IN, 11, &model));
    add_dense(model, 7, NN_ACTIVATION_TANH, NN_INIT_DEFAULT, 0, NN_INIT_DEFAULT, 0, 1e-2);
    NN_ASSERT_OK(nn_model_add_batch_normalization(model, 0.1, 1e-5));
    NN_ASSERT_OK(nn_model_add_dropout(model, 0.3));
    NN_ASSERT_OK(nn_model_add_activation(model, NN_ACTIVATION_ELU, 0.7));
    add_plain(model, 6, NN_ACTIVATION_ELU);
    add_plain(model, 5, NN_ACTIVATION_SOFTPLUS);
    add_plain(model, 5, NN_ACTIVATION_SIGMOID);
    add_plain(model, GC_OUT, NN_ACTIVATION_SOFTMAX);
    nn_test_compile(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_ADAM, 1e-3);
    return model;
}

static const size_t every_kind_checked_layers[] = {0, 1, 4, 5, 6, 7};
enum { GC_CHECKED = sizeof every_kind_checked_layers / sizeof every_kind_checked_layers[0] };

/* The fields of every result are consistent with the model: layers in
 * order, with parameters; weight_index names a trainable array of that
 * layer and element lies in it; the figures are finite. */
static void assert_results_consistent(const nn_model *model, const nn_gradient_check_result *r,
                                      size_t count) {
    size_t layers = 0, arrays = 0;
    NN_ASSERT_OK(nn_model_layer_count(model, &layers));
    NN_ASSERT_OK(nn_model_weight_count(model, &arrays));
    for (size_t i = 0; i < count; i++) {
        assert_true(r[i].layer < layers);
        if (i > 0) assert_true(r[i].layer > r[i - 1].layer);
        size_t first = 0, n = 0;
        layer_weights(model, r[i].layer, &first, &n);
        assert_true(n > 0);
        assert_in_range(r[i].weight_index, first, first + n - 1);
        assert_true(r[i].weight_index < arrays);
        const char *name = NULL;
        int trainable = -1;
        NN_ASSERT_OK(nn_model_weight_info(model, r[i].weight_index, &name, &trainable));
        assert_int_equal(trainable, 1);
        assert_non_null(name);
        assert_true(r[i].element < nn_test_weight_size(model, r[i].weight_index));
        assert_true(r[i].checked > 0);
        assert_true(r[i].checked <= trainable_elements(model, r[i].layer));
        assert_true(isfinite(r[i].relative_error) && r[i].relative_error >= 0);
        assert_true(isfinite(r[i].analytic) && isfinite(r[i].numeric));
    }
}

static void gradient_check_options_defaults(void **state) {
    (void)state;
    nn_gradient_check_options o;
    memset(&o, 0xA5, sizeof o);
    nn_gradient_check_options_init(&o);
    assert_int_equal(o.struct_size, sizeof(nn_gradient_check_options));
    assert_int_equal(o.use_float, 0);
    assert_true(o.epsilon == 0.0);
    assert_int_equal(o.max_checks_per_array, 64);
    assert_int_equal(o.seed, 0);
    nn_gradient_check_options_init(NULL); /* does nothing */
}

static void gradient_check_every_layer_kind_in_double(void **state) {
    (void)state;
    nn_model *model = every_kind_model();
    float *x = uniform(GC_ROWS, GC_IN, -1, 1, 1);
    float *y = one_hot(GC_ROWS, GC_OUT, 2);
    size_t saved_count = 0;
    float *saved = nn_test_weights(model, &saved_count);

    nn_gradient_check_options o;
    nn_gradient_check_options_init(&o);
    o.max_checks_per_array = 0; /* every element */
    nn_gradient_check_result r[GC_LAYERS];
    memset(r, 0xA5, sizeof r);
    size_t count = 0;
    NN_ASSERT_OK(nn_model_gradient_check(model, x, y, GC_ROWS, GC_IN, GC_OUT, &o, r, GC_LAYERS,
                                         &count));
    assert_int_equal(count, GC_CHECKED);
    assert_results_consistent(model, r, count);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(r[i].layer, every_kind_checked_layers[i]);
        if (!(r[i].relative_error < 1e-6))
            fail_msg("layer %zu: relative error %.3g in double (analytic %.9g, numeric %.9g at "
                     "weight %zu element %zu)", r[i].layer, r[i].relative_error, r[i].analytic,
                     r[i].numeric, r[i].weight_index, r[i].element);
        /* All elements: kernel + bias, or gamma + beta. */
        assert_int_equal(r[i].checked + r[i].below_resolution, trainable_elements(model, r[i].layer));
        assert_true(fabs(r[i].analytic - r[i].numeric) <=
                    1e-5 * (fabs(r[i].analytic) + fabs(r[i].numeric)) + 1e-9);
    }
    assert_int_equal(r[0].checked + r[0].below_resolution, GC_IN * 7 + 7);
    assert_int_equal(r[1].checked + r[1].below_resolution, 2 * 7); /* gamma and beta, not the running statistics */
    assert_int_equal(r[5].checked + r[5].below_resolution, 5 * GC_OUT + GC_OUT);

    /* The same seed gives the same results. */
    nn_gradient_check_result again[GC_LAYERS];
    size_t count_again = 0;
    NN_ASSERT_OK(nn_model_gradient_check(model, x, y, GC_ROWS, GC_IN, GC_OUT, &o, again,
                                         GC_LAYERS, &count_again));
    assert_int_equal(count_again, count);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(again[i].layer, r[i].layer);
        assert_true(again[i].relative_error == r[i].relative_error);
        assert_int_equal(again[i].weight_index, r[i].weight_index);
        assert_int_equal(again[i].element, r[i].element);
    }

    /* NULL options are the defaults: at most 64 elements per array. */
    NN_ASSERT_OK(nn_model_gradient_check(model, x, y, GC_ROWS, GC_IN, GC_OUT, NULL, again,
                                         GC_LAYERS, &count_again));
    assert_int_equal(count_again, count);
    for (size_t i = 0; i < count; i++) assert_true(again[i].relative_error < 1e-6);

    /* One element per array: the one of largest gradient, kernel and bias. */
    o.max_checks_per_array = 1;
    NN_ASSERT_OK(nn_model_gradient_check(model, x, y, GC_ROWS, GC_IN, GC_OUT, &o, again,
                                         GC_LAYERS, &count_again));
    assert_int_equal(count_again, count);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(again[i].checked + again[i].below_resolution, 2);
        assert_true(again[i].relative_error < 1e-6);
    }

    /* The model is not changed: weights, running statistics, and the
     * generator (a twin that never ran the check trains identically). */
    assert_true(weights_are(model, saved, saved_count));
    nn_model *twin = every_kind_model();
    assert_true(nn_test_same_weights(model, twin));
    nn_fit_options f = nn_test_fit_options(2, 4, 1);
    NN_ASSERT_OK(nn_model_fit(model, x, y, GC_ROWS, GC_IN, GC_OUT, &f));
    NN_ASSERT_OK(nn_model_fit(twin, x, y, GC_ROWS, GC_IN, GC_OUT, &f));
    assert_true(nn_test_same_weights(model, twin));

    free(saved);
    free(x);
    free(y);
    nn_model_free(model);
    nn_model_free(twin);
}

static void gradient_check_every_layer_kind_in_float(void **state) {
    (void)state;
    nn_model *model = every_kind_model();
    float *x = uniform(GC_ROWS, GC_IN, -1, 1, 1);
    float *y = one_hot(GC_ROWS, GC_OUT, 2);
    size_t saved_count = 0;
    float *saved = nn_test_weights(model, &saved_count);

    nn_gradient_check_options o;
    nn_gradient_check_options_init(&o);
    o.use_float = 1;
    nn_gradient_check_result r[GC_LAYERS];
    size_t count = 0;
    NN_ASSERT_OK(nn_model_gradient_check(model, x, y, GC_ROWS, GC_IN, GC_OUT, &o, r, GC_LAYERS,
                                         &count));
    assert_int_equal(count, GC_CHECKED);
    assert_results_consistent(model, r, count);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(r[i].layer, every_kind_checked_layers[i]);
        if (!(r[i].relative_error < 1e-2))
            fail_msg("layer %zu: relative error %.3g in float", r[i].layer, r[i].relative_error);
    }
    /* The float check of a layer agrees with the double one only roughly:
     * but it does find a gradient (not all zeros). */
    assert_true(fabs(r[0].analytic) + fabs(r[0].numeric) > 0);
    /* An explicit epsilon in float works as well. */
    o.epsilon = 5e-3;
    NN_ASSERT_OK(nn_model_gradient_check(model, x, y, GC_ROWS, GC_IN, GC_OUT, &o, r, GC_LAYERS,
                                         &count));
    assert_int_equal(count, GC_CHECKED);
    for (size_t i = 0; i < count; i++) assert_true(r[i].relative_error < 1e-2);
    assert_true(weights_are(model, saved, saved_count));
    free(saved);
    free(x);
    free(y);
    nn_model_free(model);
}

/* Dense(5, sigmoid) + Dense(outputs, last) on 4 inputs with `loss`. */
static void check_loss(const nn_loss_options *loss, nn_activation last, size_t outputs,
                       const float *y, size_t y_cols) {
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(4, 3, &model));
    add_plain(model, 5, NN_ACTIVATION_SIGMOID);
    add_plain(model, outputs, last);
    NN_ASSERT_OK(nn_model_set_loss_ex(model, loss));
    float *x = uniform(6, 4, -1, 1, 5);
    nn_gradient_check_options o;
    nn_gradient_check_options_init(&o);
    o.max_checks_per_array = 0;
    nn_gradient_check_result r[2];
    size_t count = 0;
    NN_ASSERT_OK(nn_model_gradient_check(model, x, y, 6, 4, y_cols, &o, r, 2, &count));
    assert_int_equal(count, 2);
    assert_results_consistent(model, r, count);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(r[i].layer, i);
        assert_int_equal(r[i].checked, trainable_elements(model, i));
        if (!(r[i].relative_error < 1e-6))
            fail_msg("loss %d, layer %zu: relative error %.3g", (int)loss->loss, i,
                     r[i].relative_error);
    }
    free(x);
    nn_model_free(model);
}

static void gradient_check_other_losses(void **state) {
    (void)state;
    nn_loss_options loss;
    /* Binary cross-entropy after a sigmoid (fused), and from logits. */
    float *y3 = uniform(6, 3, 0, 1, 4);
    nn_loss_options_init(&loss, NN_LOSS_BINARY_CROSSENTROPY);
    check_loss(&loss, NN_ACTIVATION_SIGMOID, 3, y3, 3);
    loss.from_logits = 1;
    check_loss(&loss, NN_ACTIVATION_LINEAR, 3, y3, 3);
    /* Mean squared error with a linear output. */
    float *y2 = uniform(6, 2, 0, 1, 4);
    nn_loss_options_init(&loss, NN_LOSS_MEAN_SQUARED_ERROR);
    check_loss(&loss, NN_ACTIVATION_LINEAR, 2, y2, 2);
    /* Huber with delta 0.5 (both branches) after a GELU. */
    nn_loss_options_init(&loss, NN_LOSS_HUBER);
    loss.huber_delta = 0.5;
    float *wide = uniform(6, 2, -2, 2, 6);
    check_loss(&loss, NN_ACTIVATION_GELU, 2, wide, 2);
    /* Sparse categorical cross-entropy after a softmax. */
    float labels[6] = {0, 2, 1, 1, 0, 2};
    nn_loss_options_init(&loss, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    check_loss(&loss, NN_ACTIVATION_SOFTMAX, 3, labels, 1);
    free(y3);
    free(y2);
    free(wide);
}

static void gradient_check_rejects_bad_arguments(void **state) {
    (void)state;
    nn_model *model = every_kind_model();
    float *x = uniform(3, GC_IN, -1, 1, 1);
    float *y = one_hot(3, GC_OUT, 2);
    nn_gradient_check_options o;
    nn_gradient_check_options_init(&o);
    nn_gradient_check_result r[GC_LAYERS];
    size_t count = 12345;

    /* Handles and pointers. */
    NN_ASSERT_ERROR(nn_model_gradient_check(NULL, x, y, 3, GC_IN, GC_OUT, &o, r, GC_LAYERS, &count),
                    NN_ERROR_NULL_POINTER, "model");
    NN_ASSERT_ERROR(nn_model_gradient_check(nn_test_freed_handle(), x, y, 3, GC_IN, GC_OUT, &o, r,
                                            GC_LAYERS, &count),
                    NN_ERROR_INVALID_HANDLE, "handle");
    NN_ASSERT_ERROR(nn_model_gradient_check(model, NULL, y, 3, GC_IN, GC_OUT, &o, r, GC_LAYERS, &count),
                    NN_ERROR_NULL_POINTER, "x");
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, NULL, 3, GC_IN, GC_OUT, &o, r, GC_LAYERS, &count),
                    NN_ERROR_NULL_POINTER, "y");
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, y, 3, GC_IN, GC_OUT, &o, r, GC_LAYERS, NULL),
                    NN_ERROR_NULL_POINTER, "count");
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, y, 3, GC_IN, GC_OUT, &o, NULL, GC_LAYERS, &count),
                    NN_ERROR_NULL_POINTER, "results");
    assert_int_equal(count, 12345);

    /* Options. */
    nn_gradient_check_options bad = o;
    bad.struct_size = sizeof o - 8;
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, y, 3, GC_IN, GC_OUT, &bad, r, GC_LAYERS, &count),
                    NN_ERROR_INVALID_ARGUMENT, "struct_size");
    bad = o;
    bad.epsilon = -1e-3;
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, y, 3, GC_IN, GC_OUT, &bad, r, GC_LAYERS, &count),
                    NN_ERROR_INVALID_ARGUMENT, "epsilon");
    bad.epsilon = NAN;
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, y, 3, GC_IN, GC_OUT, &bad, r, GC_LAYERS, &count),
                    NN_ERROR_INVALID_ARGUMENT, "epsilon");
    bad.epsilon = INFINITY;
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, y, 3, GC_IN, GC_OUT, &bad, r, GC_LAYERS, &count),
                    NN_ERROR_INVALID_ARGUMENT, "epsilon");
    bad = o;
    bad.use_float = 2;
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, y, 3, GC_IN, GC_OUT, &bad, r, GC_LAYERS, &count),
                    NN_ERROR_INVALID_ARGUMENT, "use_float");
    bad.use_float = -1;
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, y, 3, GC_IN, GC_OUT, &bad, r, GC_LAYERS, &count),
                    NN_ERROR_INVALID_ARGUMENT, "use_float");
    bad = o;
    bad.max_checks_per_array = SIZE_MAX;
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, y, 3, GC_IN, GC_OUT, &bad, r, GC_LAYERS, &count),
                    NN_ERROR_INVALID_ARGUMENT, "max_checks_per_array");
    assert_int_equal(count, 12345);

    /* Too few results: the error, and *count says how many are needed. */
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, y, 3, GC_IN, GC_OUT, &o, r, GC_CHECKED - 1, &count),
                    NN_ERROR_SHAPE_MISMATCH, "results");
    assert_int_equal(count, GC_CHECKED);
    count = 0;
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, y, 3, GC_IN, GC_OUT, &o, NULL, 0, &count),
                    NN_ERROR_SHAPE_MISMATCH, "results");
    assert_int_equal(count, GC_CHECKED);
    /* Exactly enough is enough. */
    count = 0;
    NN_ASSERT_OK(nn_model_gradient_check(model, x, y, 3, GC_IN, GC_OUT, &o, r, GC_CHECKED, &count));
    assert_int_equal(count, GC_CHECKED);

    /* Data errors, as nn_model_evaluate. */
    count = 12345;
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, y, 3, GC_IN - 1, GC_OUT, &o, r, GC_LAYERS, &count),
                    NN_ERROR_SHAPE_MISMATCH, "input columns");
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, y, 3, GC_IN, GC_OUT - 1, &o, r, GC_LAYERS, &count),
                    NN_ERROR_SHAPE_MISMATCH, "3");
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, y, 0, GC_IN, GC_OUT, &o, r, GC_LAYERS, &count),
                    NN_ERROR_SHAPE_MISMATCH, "0 rows");
    NN_ASSERT_SIZE_ERROR(nn_model_gradient_check(model, x, y, SIZE_MAX / 2, GC_IN, GC_OUT, &o, r,
                                                 GC_LAYERS, &count),
                         "x");
    x[4] = NAN;
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, y, 3, GC_IN, GC_OUT, &o, r, GC_LAYERS, &count),
                    NN_ERROR_NON_FINITE, "input");
    x[4] = 0.5f;
    y[1] = INFINITY;
    NN_ASSERT_ERROR(nn_model_gradient_check(model, x, y, 3, GC_IN, GC_OUT, &o, r, GC_LAYERS, &count),
                    NN_ERROR_NON_FINITE, "target");
    y[1] = 0;
    assert_int_equal(count, 12345);

    /* Needs a loss; needs layers. */
    nn_model *bare = NULL;
    NN_ASSERT_OK(nn_model_create(GC_IN, 1, &bare));
    NN_ASSERT_ERROR(nn_model_gradient_check(bare, x, y, 3, GC_IN, GC_OUT, &o, r, GC_LAYERS, &count),
                    NN_ERROR_INVALID_STATE, "layer");
    add_plain(bare, GC_OUT, NN_ACTIVATION_SOFTMAX);
    NN_ASSERT_ERROR(nn_model_gradient_check(bare, x, y, 3, GC_IN, GC_OUT, &o, r, GC_LAYERS, &count),
                    NN_ERROR_INVALID_STATE, "loss");
    /* A loss is enough (no optimizer needed, as for evaluate). */
    NN_ASSERT_OK(nn_model_set_loss(bare, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0));
    NN_ASSERT_OK(nn_model_gradient_check(bare, x, y, 3, GC_IN, GC_OUT, &o, r, GC_LAYERS, &count));
    assert_int_equal(count, 1);
    assert_true(r[0].relative_error < 1e-6);
    nn_model_free(bare);

    /* A model without parameters has nothing to check. */
    nn_model *none = NULL;
    NN_ASSERT_OK(nn_model_create(GC_OUT, 1, &none));
    NN_ASSERT_OK(nn_model_add_activation(none, NN_ACTIVATION_SOFTMAX, NAN));
    NN_ASSERT_OK(nn_model_set_loss(none, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0));
    count = 12345;
    NN_ASSERT_OK(nn_model_gradient_check(none, y, y, 3, GC_OUT, GC_OUT, &o, r, GC_LAYERS, &count));
    assert_int_equal(count, 0);
    nn_model_free(none);

    free(x);
    free(y);
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Anomaly detection                                                        */
/* ------------------------------------------------------------------------ */

enum { AN_IN = 4, AN_OUT = 3, AN_ROWS = 8, AN_BATCH = 3, AN_ROW = 6 };

/* Dense(6, relu) -> Dense(5, tanh) -> Dense(3, softmax), categorical
 * cross-entropy, SGD(0.1); the first kernel constant 1 if `ones`. */
static nn_model *three_layer_model(int ones, nn_optimizer optimizer, double lr) {
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(AN_IN, 5, &model));
    if (ones)
        add_dense(model, 6, NN_ACTIVATION_RELU, NN_INIT_CONSTANT, 1, NN_INIT_DEFAULT, 0, 0);
    else
        add_plain(model, 6, NN_ACTIVATION_RELU);
    add_plain(model, 5, NN_ACTIVATION_TANH);
    add_plain(model, AN_OUT, NN_ACTIVATION_SOFTMAX);
    nn_test_compile(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, optimizer, lr);
    return model;
}

static void anomaly_detection_names_a_forward_overflow(void **state) {
    (void)state;
    /* Row AN_ROW holds two values of 3e38: with kernel 1 the first layer's
     * sums overflow to +inf, which ReLU keeps. Without shuffling, that row is
     * row AN_ROW % AN_BATCH of batch AN_ROW / AN_BATCH + 1. */
    float *x = uniform(AN_ROWS, AN_IN, -1, 1, 7);
    x[AN_ROW * AN_IN + 1] = 3e38f;
    x[AN_ROW * AN_IN + 2] = 3e38f;
    float *y = one_hot(AN_ROWS, AN_OUT, 8);
    char where[96], element[32];
    snprintf(where, sizeof where, "in forward of layer 0 (dense, relu) at epoch 1, batch %d",
             AN_ROW / AN_BATCH + 1);
    snprintf(element, sizeof element, "element [%d, ", AN_ROW % AN_BATCH);
    nn_fit_options f = nn_test_fit_options(2, AN_BATCH, 0);

    nn_model *model = three_layer_model(1, NN_OPTIMIZER_SGD, 0.1);
    NN_ASSERT_OK(nn_model_set_anomaly_detection(model, 1));
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, AN_ROWS, AN_IN, AN_OUT, &f), NN_ERROR_NON_FINITE,
                    "non-finite value (inf)", where, "(counting from 1)", element,
                    "of its output");
    /* Every unit of that row overflows: the first is named. */
    char exact[32];
    snprintf(exact, sizeof exact, "element [%d, 0]", AN_ROW % AN_BATCH);
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, AN_ROWS, AN_IN, AN_OUT, &f), NN_ERROR_NON_FINITE,
                    exact);

    /* Off again: the same data fails later (the loss becomes NaN in the same
     * batch), without a layer named. */
    NN_ASSERT_OK(nn_model_set_anomaly_detection(model, 0));
    char message[1024], batch[48];
    snprintf(batch, sizeof batch, "epoch 1, batch %d", AN_ROW / AN_BATCH + 1);
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, AN_ROWS, AN_IN, AN_OUT, &f), NN_ERROR_NON_FINITE,
                    "loss", batch);
    snprintf(message, sizeof message, "%s", nn_last_error());
    if (nn_test_contains(message, "in forward of layer")) fail_msg("off, but: %s", message);

    /* A model that never had it on fails the same way. */
    nn_model *plain = three_layer_model(1, NN_OPTIMIZER_SGD, 0.1);
    assert_int_equal(nn_model_fit(plain, x, y, AN_ROWS, AN_IN, AN_OUT, &f), NN_ERROR_NON_FINITE);
    snprintf(message, sizeof message, "%s", nn_last_error());
    assert_true(message[0] != '\0');
    if (nn_test_contains(message, "in forward of layer")) fail_msg("off, but: %s", message);
    if (nn_test_contains(message, "(dense, relu)")) fail_msg("off, but: %s", message);

    free(x);
    free(y);
    nn_model_free(model);
    nn_model_free(plain);
}

static void anomaly_detection_names_an_update_overflow(void **state) {
    (void)state;
    /* Targets of 1e3 give gradients of ~1e3: a step of 1e37 × 1e3 overflows. */
    float *x = uniform(AN_ROWS, AN_IN, -1, 1, 7);
    float y[AN_ROWS];
    for (size_t i = 0; i < AN_ROWS; i++) y[i] = 1e3f;
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(AN_IN, 5, &model));
    add_plain(model, 3, NN_ACTIVATION_TANH);
    add_plain(model, 1, NN_ACTIVATION_LINEAR);
    nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, 1e37);
    NN_ASSERT_OK(nn_model_set_anomaly_detection(model, 1));
    nn_fit_options f = nn_test_fit_options(1, 4, 0);
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, AN_ROWS, AN_IN, 1, &f), NN_ERROR_NON_FINITE,
                    "in update of layer 0 (dense, tanh) at epoch 1, batch 1", "element [",
                    "of its kernel");
    free(x);
    nn_model_free(model);
}

static void anomaly_detection_changes_nothing_when_healthy(void **state) {
    (void)state;
    float *x = uniform(AN_ROWS, AN_IN, -1, 1, 7);
    float *y = one_hot(AN_ROWS, AN_OUT, 8);
    nn_model *a = three_layer_model(0, NN_OPTIMIZER_SGD, 0.1);
    nn_model *b = three_layer_model(0, NN_OPTIMIZER_SGD, 0.1);
    nn_model *c = three_layer_model(0, NN_OPTIMIZER_SGD, 0.1);
    NN_ASSERT_OK(nn_model_set_anomaly_detection(b, 1));
    NN_ASSERT_OK(nn_model_set_anomaly_detection(c, 1));
    NN_ASSERT_OK(nn_model_set_layer_statistics(c, 1)); /* neither does collecting statistics */
    nn_fit_options f = nn_test_fit_options(3, 4, 1);
    NN_ASSERT_OK(nn_model_fit(a, x, y, AN_ROWS, AN_IN, AN_OUT, &f));
    NN_ASSERT_OK(nn_model_fit(b, x, y, AN_ROWS, AN_IN, AN_OUT, &f));
    NN_ASSERT_OK(nn_model_fit(c, x, y, AN_ROWS, AN_IN, AN_OUT, &f));
    assert_true(nn_test_same_weights(a, b));
    assert_true(nn_test_same_weights(a, c));
    /* The weights did move. */
    nn_model *fresh = three_layer_model(0, NN_OPTIMIZER_SGD, 0.1);
    assert_false(nn_test_same_weights(a, fresh));
    free(x);
    free(y);
    nn_model_free(a);
    nn_model_free(b);
    nn_model_free(c);
    nn_model_free(fresh);
}

static void anomaly_detection_rejects_bad_arguments(void **state) {
    (void)state;
    nn_model *model = three_layer_model(0, NN_OPTIMIZER_SGD, 0.1);
    NN_ASSERT_ERROR(nn_model_set_anomaly_detection(model, 2), NN_ERROR_INVALID_ARGUMENT, "enabled",
                    "2");
    NN_ASSERT_ERROR(nn_model_set_anomaly_detection(model, -1), NN_ERROR_INVALID_ARGUMENT, "enabled");
    NN_ASSERT_ERROR(nn_model_set_anomaly_detection(NULL, 1), NN_ERROR_NULL_POINTER, "model");
    NN_ASSERT_ERROR(nn_model_set_anomaly_detection(nn_test_freed_handle(), 1),
                    NN_ERROR_INVALID_HANDLE, "handle");
    NN_ASSERT_OK(nn_model_set_anomaly_detection(model, 1));
    NN_ASSERT_OK(nn_model_set_anomaly_detection(model, 1));
    NN_ASSERT_OK(nn_model_set_anomaly_detection(model, 0));
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Layer statistics                                                         */
/* ------------------------------------------------------------------------ */

enum { LS_IN = 4, LS_OUT = 3, LS_ROWS = 16, LS_BATCH = 4, LS_LAYERS = 4 };

/* 0 Dense(6, sigmoid, kernel 50)   1 Dense(8, relu, bias -100)
 * 2 Dropout(0.2)                   3 Dense(3, softmax)
 * categorical cross-entropy, SGD(0.01). */
static nn_model *statistics_model(void) {
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(LS_IN, 9, &model));
    add_dense(model, 6, NN_ACTIVATION_SIGMOID, NN_INIT_CONSTANT, 50, NN_INIT_DEFAULT, 0, 0);
    add_dense(model, 8, NN_ACTIVATION_RELU, NN_INIT_DEFAULT, 0, NN_INIT_CONSTANT, -100, 0);
    NN_ASSERT_OK(nn_model_add_dropout(model, 0.2));
    add_plain(model, LS_OUT, NN_ACTIVATION_SOFTMAX);
    nn_test_compile(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_SGD, 0.01);
    return model;
}

static nn_layer_statistics get_statistics(const nn_model *model, size_t entry, size_t layer) {
    nn_layer_statistics s;
    memset(&s, 0xA5, sizeof s);
    NN_ASSERT_OK(nn_model_layer_statistics(model, entry, layer, &s));
    assert_int_equal(s.struct_size, sizeof(nn_layer_statistics));
    assert_int_equal(s.layer, layer);
    assert_true(isfinite(s.activation_mean));
    assert_true(isfinite(s.activation_std) && s.activation_std >= 0);
    return s;
}

static void layer_statistics_see_dead_and_saturated_units(void **state) {
    (void)state;
    nn_model *model = statistics_model();
    float *x = uniform(LS_ROWS, LS_IN, -1, 1, 1);
    float *y = one_hot(LS_ROWS, LS_OUT, 2);
    size_t count = 99;
    NN_ASSERT_OK(nn_model_layer_statistics_count(model, &count));
    assert_int_equal(count, 0);

    NN_ASSERT_OK(nn_model_set_layer_statistics(model, 2));
    nn_fit_options f = nn_test_fit_options(2, LS_BATCH, 1); /* 4 batches per epoch, 2 sampled */
    NN_ASSERT_OK(nn_model_fit(model, x, y, LS_ROWS, LS_IN, LS_OUT, &f));
    NN_ASSERT_OK(nn_model_layer_statistics_count(model, &count));
    assert_int_equal(count, 2);

    for (size_t e = 0; e < 2; e++) {
        nn_layer_statistics s[LS_LAYERS];
        for (size_t l = 0; l < LS_LAYERS; l++) {
            s[l] = get_statistics(model, e, l);
            assert_int_equal(s[l].epoch, e);
            assert_int_equal(s[l].batches, 2);
        }
        /* Kernel 50 on inputs in [-1, 1]: most sigmoid outputs on a tail. */
        assert_true(s[0].saturated_fraction > 0.8 && s[0].saturated_fraction <= 1);
        assert_true(isnan(s[0].dead_fraction));
        assert_true(s[0].activation_mean > 0 && s[0].activation_mean < 1);
        /* Nothing flows back through the dead ReLU layer to it. */
        assert_true(s[0].gradient_norm == 0);
        assert_true(s[0].update_ratio == 0);
        /* Its weights never change: kernel 50 (4 × 6), bias 0. */
        NN_ASSERT_CLOSE(s[0].weight_norm, 50.0 * sqrt(24.0), 1e-12, 0);
        /* Bias -100: the ReLU units never fire. */
        assert_true(s[1].dead_fraction == 1);
        assert_true(isnan(s[1].saturated_fraction));
        assert_true(s[1].activation_mean == 0 && s[1].activation_std == 0);
        assert_true(s[1].gradient_norm == 0);
        assert_true(s[1].weight_norm > 0);
        /* Dropout: no activation to judge, no parameters. */
        assert_true(isnan(s[2].dead_fraction) && isnan(s[2].saturated_fraction));
        assert_true(isnan(s[2].gradient_norm) && isnan(s[2].weight_norm) &&
                    isnan(s[2].update_ratio));
        /* The output layer learns (its bias sees softmax - y). */
        assert_true(isnan(s[3].dead_fraction) && isnan(s[3].saturated_fraction));
        assert_true(s[3].gradient_norm > 0 && isfinite(s[3].gradient_norm));
        assert_true(s[3].weight_norm > 0 && isfinite(s[3].weight_norm));
        assert_true(s[3].update_ratio > 0 && s[3].update_ratio < 1);
    }
    /* weight_norm is the norm at the end of the epoch: the last one's is
     * the model's now. */
    nn_layer_statistics last = get_statistics(model, 1, 3);
    NN_ASSERT_CLOSE(last.weight_norm, layer_norm(model, 3), 1e-9, 0);
    nn_layer_statistics first = get_statistics(model, 0, 3);
    assert_true(first.weight_norm != last.weight_norm);

    /* Out of range. */
    nn_layer_statistics s;
    memset(&s, 0x5A, sizeof s);
    NN_ASSERT_ERROR(nn_model_layer_statistics(model, 2, 0, &s), NN_ERROR_INVALID_ARGUMENT, "entry",
                    "2");
    NN_ASSERT_ERROR(nn_model_layer_statistics(model, SIZE_MAX, 0, &s), NN_ERROR_INVALID_ARGUMENT,
                    "entry");
    NN_ASSERT_ERROR(nn_model_layer_statistics(model, 0, LS_LAYERS, &s), NN_ERROR_INVALID_ARGUMENT,
                    "layer", "4");
    NN_ASSERT_ERROR(nn_model_layer_statistics(model, 0, SIZE_MAX, &s), NN_ERROR_INVALID_ARGUMENT,
                    "layer");
    assert_int_equal(s.struct_size, (size_t)0x5A5A5A5A5A5A5A5Aull); /* not written */
    NN_ASSERT_ERROR(nn_model_layer_statistics(model, 0, 0, NULL), NN_ERROR_NULL_POINTER, "out");

    /* Off: no new entries. */
    NN_ASSERT_OK(nn_model_set_layer_statistics(model, 0));
    nn_fit_options one = nn_test_fit_options(1, LS_BATCH, 1);
    NN_ASSERT_OK(nn_model_fit(model, x, y, LS_ROWS, LS_IN, LS_OUT, &one));
    NN_ASSERT_OK(nn_model_layer_statistics_count(model, &count));
    assert_int_equal(count, 2);

    /* On again, every batch: entries continue, with the model's epoch
     * numbers (2 + 1 epochs trained before). */
    NN_ASSERT_OK(nn_model_set_layer_statistics(model, 1));
    NN_ASSERT_OK(nn_model_fit(model, x, y, LS_ROWS, LS_IN, LS_OUT, &f));
    NN_ASSERT_OK(nn_model_layer_statistics_count(model, &count));
    assert_int_equal(count, 4);
    for (size_t e = 2; e < 4; e++) {
        nn_layer_statistics t = get_statistics(model, e, 0);
        assert_int_equal(t.epoch, e + 1);
        assert_int_equal(t.batches, LS_ROWS / LS_BATCH);
    }
    /* Earlier entries stay as they were. */
    nn_layer_statistics again = get_statistics(model, 0, 3);
    assert_true(again.weight_norm == first.weight_norm);

    /* More batches than an epoch has: the first batch only. */
    NN_ASSERT_OK(nn_model_set_layer_statistics(model, 1000));
    NN_ASSERT_OK(nn_model_fit(model, x, y, LS_ROWS, LS_IN, LS_OUT, &one));
    NN_ASSERT_OK(nn_model_layer_statistics_count(model, &count));
    assert_int_equal(count, 5);
    nn_layer_statistics t = get_statistics(model, 4, 3);
    assert_int_equal(t.batches, 1);
    assert_int_equal(t.epoch, 5);

    free(x);
    free(y);
    nn_model_free(model);
}

static void layer_statistics_are_off_by_default(void **state) {
    (void)state;
    nn_model *model = three_layer_model(0, NN_OPTIMIZER_SGD, 0.1);
    float *x = uniform(AN_ROWS, AN_IN, -1, 1, 7);
    float *y = one_hot(AN_ROWS, AN_OUT, 8);
    nn_fit_options f = nn_test_fit_options(2, 4, 1);
    NN_ASSERT_OK(nn_model_fit(model, x, y, AN_ROWS, AN_IN, AN_OUT, &f));
    size_t count = 99;
    NN_ASSERT_OK(nn_model_layer_statistics_count(model, &count));
    assert_int_equal(count, 0);
    nn_layer_statistics s;
    NN_ASSERT_ERROR(nn_model_layer_statistics(model, 0, 0, &s), NN_ERROR_INVALID_ARGUMENT, "entry");
    free(x);
    free(y);
    nn_model_free(model);
}

static void layer_statistics_reject_bad_arguments(void **state) {
    (void)state;
    nn_model *model = three_layer_model(0, NN_OPTIMIZER_SGD, 0.1);
    size_t count = 0;
    nn_layer_statistics s;
    NN_ASSERT_ERROR(nn_model_set_layer_statistics(model, (size_t)1 << 31), NN_ERROR_INVALID_ARGUMENT,
                    "every_batches");
    NN_ASSERT_ERROR(nn_model_set_layer_statistics(model, SIZE_MAX), NN_ERROR_INVALID_ARGUMENT,
                    "every_batches");
    NN_ASSERT_OK(nn_model_set_layer_statistics(model, ((size_t)1 << 31) - 1));
    NN_ASSERT_ERROR(nn_model_set_layer_statistics(NULL, 1), NN_ERROR_NULL_POINTER, "model");
    NN_ASSERT_ERROR(nn_model_set_layer_statistics(nn_test_freed_handle(), 1),
                    NN_ERROR_INVALID_HANDLE, "handle");
    NN_ASSERT_ERROR(nn_model_layer_statistics_count(model, NULL), NN_ERROR_NULL_POINTER, "count");
    NN_ASSERT_ERROR(nn_model_layer_statistics_count(NULL, &count), NN_ERROR_NULL_POINTER, "model");
    NN_ASSERT_ERROR(nn_model_layer_statistics_count(nn_test_freed_handle(), &count),
                    NN_ERROR_INVALID_HANDLE, "handle");
    NN_ASSERT_ERROR(nn_model_layer_statistics(NULL, 0, 0, &s), NN_ERROR_NULL_POINTER, "model");
    NN_ASSERT_ERROR(nn_model_layer_statistics(nn_test_freed_handle(), 0, 0, &s),
                    NN_ERROR_INVALID_HANDLE, "handle");
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Diagnosis                                                                */
/* ------------------------------------------------------------------------ */

/* The first finding of `kind` of the last diagnosis (fails if none), and
 * checks that every finding has a message and a suggestion. */
static nn_finding find(const nn_model *model, size_t count, nn_finding_kind kind) {
    nn_finding found;
    int have = 0;
    for (size_t i = 0; i < count; i++) {
        nn_finding f;
        memset(&f, 0, sizeof f);
        NN_ASSERT_OK(nn_model_finding(model, i, &f));
        assert_true(f.kind >= NN_FINDING_VANISHING_GRADIENTS && f.kind <= NN_FINDING_LOSS_AT_CHANCE);
        assert_non_null(f.message);
        assert_non_null(f.suggestion);
        assert_true(strlen(f.message) > 10 && strlen(f.suggestion) > 10);
        assert_true(f.layer >= -1);
        if (f.kind == kind && !have) {
            found = f;
            have = 1;
        }
    }
    if (!have) {
        size_t length = 0;
        NN_ASSERT_OK(nn_model_diagnosis_report(model, NULL, 0, &length));
        char *report = malloc(length + 1);
        assert_non_null(report);
        NN_ASSERT_OK(nn_model_diagnosis_report(model, report, length + 1, NULL));
        print_error("%s", report);
        free(report);
        fail_msg("no finding of kind %d among %zu", (int)kind, count);
    }
    return found;
}

static int has_finding(const nn_model *model, size_t count, nn_finding_kind kind) {
    for (size_t i = 0; i < count; i++) {
        nn_finding f;
        NN_ASSERT_OK(nn_model_finding(model, i, &f));
        if (f.kind == kind) return 1;
    }
    return 0;
}

/* The report of the last diagnosis (malloc'd). */
static char *report_of(const nn_model *model) {
    size_t length = 0;
    NN_ASSERT_OK(nn_model_diagnosis_report(model, NULL, 0, &length));
    char *report = malloc(length + 1);
    assert_non_null(report);
    size_t again = 0;
    NN_ASSERT_OK(nn_model_diagnosis_report(model, report, length + 1, &again));
    assert_int_equal(again, length);
    assert_int_equal(strlen(report), length);
    return report;
}

enum { VG_IN = 16, VG_OUT = 4, VG_ROWS = 64 };

/* 9 × Dense(16, sigmoid, kernel 0.01) + Dense(4, softmax), SGD(0.1). */
static nn_model *deep_sigmoid_model(void) {
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(VG_IN, 1, &model));
    for (int i = 0; i < 9; i++)
        add_dense(model, 16, NN_ACTIVATION_SIGMOID, NN_INIT_CONSTANT, 0.01, NN_INIT_DEFAULT, 0, 0);
    add_plain(model, VG_OUT, NN_ACTIVATION_SOFTMAX);
    nn_test_compile(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_SGD, 0.1);
    return model;
}

static void diagnose_finds_vanishing_gradients(void **state) {
    (void)state;
    nn_model *model = deep_sigmoid_model();
    float *x = uniform(VG_ROWS, VG_IN, -1, 1, 3);
    float *y = one_hot(VG_ROWS, VG_OUT, 4);
    size_t saved_count = 0;
    float *saved = nn_test_weights(model, &saved_count);

    size_t count = 0;
    NN_ASSERT_OK(nn_model_diagnose(model, x, y, VG_ROWS, VG_IN, VG_OUT, 0, 0, &count));
    assert_true(count >= 1);
    nn_finding f = find(model, count, NN_FINDING_VANISHING_GRADIENTS);
    assert_true(f.value > 0 && f.value < 1e-3);
    assert_int_equal(f.layer, 0);
    assert_true(nn_test_contains(f.message, "times that of the last"));
    assert_true(nn_test_contains(f.suggestion, "he_normal"));

    /* The report: one paragraph per finding, with its message and suggestion. */
    char *report = report_of(model);
    assert_true(nn_test_contains(report, "[vanishing_gradients]"));
    assert_true(nn_test_contains(report, "after 20 training steps"));
    for (size_t i = 0; i < count; i++) {
        nn_finding g;
        NN_ASSERT_OK(nn_model_finding(model, i, &g));
        assert_non_null(strstr(report, g.message));
        assert_non_null(strstr(report, g.suggestion));
    }

    /* The strings stay valid and unchanged across other calls. */
    char message[1024], suggestion[1024];
    snprintf(message, sizeof message, "%s", f.message);
    snprintf(suggestion, sizeof suggestion, "%s", f.suggestion);
    char summary[64];
    NN_ASSERT_OK(nn_model_summary(model, summary, sizeof summary, NULL));
    for (size_t i = 0; i < count; i++) {
        nn_finding g;
        NN_ASSERT_OK(nn_model_finding(model, i, &g));
    }
    free(report_of(model));
    assert_string_equal(f.message, message);
    assert_string_equal(f.suggestion, suggestion);

    /* The model is not changed: weights, optimizer state and generator
     * (a twin that was never diagnosed trains identically), and it
     * collected no layer statistics. */
    assert_true(weights_are(model, saved, saved_count));
    size_t entries = 99;
    NN_ASSERT_OK(nn_model_layer_statistics_count(model, &entries));
    assert_int_equal(entries, 0);
    nn_model *twin = deep_sigmoid_model();
    nn_fit_options o = nn_test_fit_options(1, 16, 1);
    NN_ASSERT_OK(nn_model_fit(model, x, y, VG_ROWS, VG_IN, VG_OUT, &o));
    NN_ASSERT_OK(nn_model_fit(twin, x, y, VG_ROWS, VG_IN, VG_OUT, &o));
    assert_true(nn_test_same_weights(model, twin));

    free(report);
    free(saved);
    free(x);
    free(y);
    nn_model_free(model);
    nn_model_free(twin);
}

enum { DU_IN = 5, DU_OUT = 3, DU_ROWS = 50 };

static void diagnose_finds_dead_units(void **state) {
    (void)state;
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(DU_IN, 2, &model));
    add_dense(model, 10, NN_ACTIVATION_RELU, NN_INIT_DEFAULT, 0, NN_INIT_CONSTANT, -20, 0);
    add_plain(model, DU_OUT, NN_ACTIVATION_SOFTMAX);
    nn_test_compile(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_ADAM, 1e-3);
    float *x = uniform(DU_ROWS, DU_IN, -1, 1, 5);
    float *y = one_hot(DU_ROWS, DU_OUT, 6);
    size_t count = 0;
    NN_ASSERT_OK(nn_model_diagnose(model, x, y, DU_ROWS, DU_IN, DU_OUT, 0, 0, &count));
    nn_finding f = find(model, count, NN_FINDING_DEAD_UNITS);
    assert_true(f.value >= 0.9 && f.value <= 1);
    assert_int_equal(f.layer, 0);
    assert_true(nn_test_contains(f.message, "layer 0"));
    assert_true(nn_test_contains(f.message, "never fired"));
    assert_false(has_finding(model, count, NN_FINDING_UNSCALED_INPUTS));
    char *report = report_of(model);
    assert_true(nn_test_contains(report, "[dead_units]"));
    free(report);
    free(x);
    free(y);
    nn_model_free(model);
}

static void diagnose_finds_unscaled_inputs(void **state) {
    (void)state;
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(DU_IN, 2, &model));
    add_plain(model, 4, NN_ACTIVATION_RELU);
    add_plain(model, DU_OUT, NN_ACTIVATION_SOFTMAX);
    nn_test_compile(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_ADAM, 1e-3);
    float *x = uniform(DU_ROWS, DU_IN, -1, 1, 5);
    for (size_t r = 0; r < DU_ROWS; r++) x[r * DU_IN + 3] *= 1e4f;
    float *y = one_hot(DU_ROWS, DU_OUT, 6);
    size_t count = 0;
    NN_ASSERT_OK(nn_model_diagnose(model, x, y, DU_ROWS, DU_IN, DU_OUT, 0, 0, &count));
    nn_finding f = find(model, count, NN_FINDING_UNSCALED_INPUTS);
    assert_true(nn_test_contains(f.message, "feature 3"));
    assert_true(f.value > 1e3);
    assert_int_equal(f.layer, -1);
    assert_true(nn_test_contains(f.suggestion, "standardize"));
    free(x);
    free(y);
    nn_model_free(model);
}

static void diagnose_finds_label_mismatch(void **state) {
    (void)state;
    /* Categorical cross-entropy after a ReLU output layer. */
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(DU_IN, 2, &model));
    add_plain(model, 4, NN_ACTIVATION_TANH);
    add_plain(model, DU_OUT, NN_ACTIVATION_RELU);
    nn_test_compile(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_ADAM, 1e-3);
    float *x = uniform(20, DU_IN, -1, 1, 5);
    float *y = one_hot(20, DU_OUT, 6);
    size_t count = 0;
    NN_ASSERT_OK(nn_model_diagnose(model, x, y, 20, DU_IN, DU_OUT, 0, 0, &count));
    nn_finding f = find(model, count, NN_FINDING_LABEL_MISMATCH);
    assert_true(nn_test_contains(f.message, "softmax"));
    assert_int_equal(f.layer, 1);
    char *report = report_of(model);
    assert_true(nn_test_contains(report, "[label_mismatch]"));
    free(report);

    /* Class indices given to categorical cross-entropy: a finding, not an error. */
    nn_model *softmax = NULL;
    NN_ASSERT_OK(nn_model_create(DU_IN, 2, &softmax));
    add_plain(softmax, 4, NN_ACTIVATION_TANH);
    add_plain(softmax, DU_OUT, NN_ACTIVATION_SOFTMAX);
    nn_test_compile(softmax, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_ADAM, 1e-3);
    float indices[20];
    for (size_t r = 0; r < 20; r++) indices[r] = (float)(r % 3);
    NN_ASSERT_OK(nn_model_diagnose(softmax, x, indices, 20, DU_IN, 1, 0, 0, &count));
    f = find(softmax, count, NN_FINDING_LABEL_MISMATCH);
    assert_true(nn_test_contains(f.message, "categorical_crossentropy"));
    assert_true(nn_test_contains(f.suggestion, "sparse_categorical_crossentropy"));

    /* 0/1 targets with a regression loss after a sigmoid. */
    nn_model *mse = NULL;
    NN_ASSERT_OK(nn_model_create(DU_IN, 2, &mse));
    add_plain(mse, 4, NN_ACTIVATION_TANH);
    add_plain(mse, 1, NN_ACTIVATION_SIGMOID);
    nn_test_compile(mse, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_ADAM, 1e-3);
    float labels[20];
    for (size_t r = 0; r < 20; r++) labels[r] = (float)(r % 2);
    NN_ASSERT_OK(nn_model_diagnose(mse, x, labels, 20, DU_IN, 1, 0, 0, &count));
    f = find(mse, count, NN_FINDING_LABEL_MISMATCH);
    assert_true(nn_test_contains(f.suggestion, "binary_crossentropy"));

    free(x);
    free(y);
    nn_model_free(model);
    nn_model_free(softmax);
    nn_model_free(mse);
}

static void diagnose_finds_too_high_learning_rate(void **state) {
    (void)state;
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(5, 3, &model));
    add_plain(model, 16, NN_ACTIVATION_RELU);
    add_plain(model, 1, NN_ACTIVATION_LINEAR);
    nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, 100);
    float *x = uniform(64, 5, -1, 1, 7);
    float *y = uniform(64, 1, -1, 1, 8);
    size_t saved_count = 0;
    float *saved = nn_test_weights(model, &saved_count);
    size_t count = 0;
    NN_ASSERT_OK(nn_model_diagnose(model, x, y, 64, 5, 1, 0, 0, &count));
    nn_finding f = find(model, count, NN_FINDING_LEARNING_RATE_TOO_HIGH);
    assert_int_equal(f.layer, -1);
    assert_true(nn_test_contains(f.message, "learning rate"));
    assert_true(nn_test_contains(f.suggestion, "lower the learning rate"));
    /* The diverging copy left the model alone. */
    assert_true(weights_are(model, saved, saved_count));
    double lr = 0;
    NN_ASSERT_OK(nn_model_learning_rate(model, &lr));
    assert_true(lr == 100);
    free(saved);
    free(x);
    free(y);
    nn_model_free(model);
}

static void diagnose_finds_loss_at_chance(void **state) {
    (void)state;
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(5, 3, &model));
    add_dense(model, 8, NN_ACTIVATION_RELU, NN_INIT_ZEROS, 0, NN_INIT_DEFAULT, 0, 0);
    add_dense(model, 4, NN_ACTIVATION_SOFTMAX, NN_INIT_ZEROS, 0, NN_INIT_DEFAULT, 0, 0);
    nn_test_compile(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_SGD, 0.01);
    float *x = uniform(64, 5, -1, 1, 7);
    float y[64 * 4] = {0};
    for (size_t r = 0; r < 64; r++) y[r * 4 + r % 4] = 1;
    size_t count = 0;
    NN_ASSERT_OK(nn_model_diagnose(model, x, y, 64, 5, 4, 0, 0, &count));
    nn_finding f = find(model, count, NN_FINDING_LOSS_AT_CHANCE);
    NN_ASSERT_CLOSE(f.value, log(4.0), 0, 0.05);
    free(x);
    nn_model_free(model);
}

/* The class of each row is the largest of its first three features. */
static void learnable_labels(const float *x, float *y, size_t rows) {
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * AN_IN;
        size_t best = 0;
        for (size_t j = 1; j < 3; j++)
            if (row[j] > row[best]) best = j;
        for (size_t j = 0; j < AN_OUT; j++) y[r * AN_OUT + j] = j == best ? 1.0f : 0.0f;
    }
}

static void diagnose_finds_nothing_in_a_healthy_model(void **state) {
    (void)state;
    nn_model *model = three_layer_model(0, NN_OPTIMIZER_ADAM, 0.01);
    float *x = uniform(64, AN_IN, -1, 1, 9);
    float y[64 * AN_OUT];
    learnable_labels(x, y, 64);
    size_t count = 99;
    NN_ASSERT_OK(nn_model_diagnose(model, x, y, 64, AN_IN, AN_OUT, 0, 0, &count));
    char *report = report_of(model);
    if (count != 0) fail_msg("%zu findings in a healthy model:\n%s", count, report);
    assert_true(nn_test_contains(report, "nothing looks wrong"));
    assert_true(nn_test_contains(report, "after 20 training steps"));
    nn_finding f;
    NN_ASSERT_ERROR(nn_model_finding(model, 0, &f), NN_ERROR_INVALID_ARGUMENT, "out of range");
    free(report);
    free(x);
    nn_model_free(model);
}

static void diagnosis_report_is_written_as_summary(void **state) {
    (void)state;
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(DU_IN, 2, &model));
    add_dense(model, 10, NN_ACTIVATION_RELU, NN_INIT_DEFAULT, 0, NN_INIT_CONSTANT, -20, 0);
    add_plain(model, DU_OUT, NN_ACTIVATION_SOFTMAX);
    nn_test_compile(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_ADAM, 1e-3);
    float *x = uniform(DU_ROWS, DU_IN, -1, 1, 5);
    float *y = one_hot(DU_ROWS, DU_OUT, 6);
    size_t count = 0;
    /* Before any diagnosis. */
    size_t length = 12345;
    char buffer[4096];
    NN_ASSERT_ERROR(nn_model_diagnosis_report(model, buffer, sizeof buffer, &length),
                    NN_ERROR_INVALID_STATE, "nn_model_diagnose");
    NN_ASSERT_ERROR(nn_model_diagnosis_report(model, NULL, 0, &length), NN_ERROR_INVALID_STATE,
                    "diagnos");
    assert_int_equal(length, 12345);

    NN_ASSERT_OK(nn_model_diagnose(model, x, y, DU_ROWS, DU_IN, DU_OUT, 5, 10, &count));
    assert_true(count >= 1);
    /* The size first, then all of it. */
    NN_ASSERT_OK(nn_model_diagnosis_report(model, NULL, 0, &length));
    assert_true(length > 40 && length < sizeof buffer);
    memset(buffer, 'x', sizeof buffer);
    size_t full = 0;
    NN_ASSERT_OK(nn_model_diagnosis_report(model, buffer, sizeof buffer, &full));
    assert_int_equal(full, length);
    assert_int_equal(strlen(buffer), length);
    assert_true(strncmp(buffer, "Diagnosis after 5 training steps", 32) == 0);
    assert_true(buffer[length - 1] == '\n');
    /* Exactly enough room. */
    char *exact = malloc(length + 1);
    assert_non_null(exact);
    NN_ASSERT_OK(nn_model_diagnosis_report(model, exact, length + 1, NULL));
    assert_string_equal(exact, buffer);
    /* Truncated: capacity - 1 bytes and a NUL, *length still the full length. */
    char small[11];
    memset(small, 'x', sizeof small);
    size_t n = 0;
    NN_ASSERT_OK(nn_model_diagnosis_report(model, small, sizeof small, &n));
    assert_int_equal(n, length);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_true(strncmp(small, buffer, sizeof small - 1) == 0);
    NN_ASSERT_OK(nn_model_diagnosis_report(model, exact, length, &n));
    assert_int_equal(strlen(exact), length - 1);
    char one = 'x';
    NN_ASSERT_OK(nn_model_diagnosis_report(model, &one, 1, &n));
    assert_true(one == '\0');
    assert_int_equal(n, length);
    /* Every finding's message and suggestion is in it. */
    for (size_t i = 0; i < count; i++) {
        nn_finding f;
        NN_ASSERT_OK(nn_model_finding(model, i, &f));
        assert_non_null(strstr(buffer, f.message));
        assert_non_null(strstr(buffer, f.suggestion));
    }
    /* Bad arguments. */
    NN_ASSERT_ERROR(nn_model_diagnosis_report(model, NULL, 10, &n), NN_ERROR_NULL_POINTER, "buffer");
    NN_ASSERT_ERROR(nn_model_diagnosis_report(NULL, buffer, sizeof buffer, &n),
                    NN_ERROR_NULL_POINTER, "model");
    NN_ASSERT_ERROR(nn_model_diagnosis_report(nn_test_freed_handle(), buffer, sizeof buffer, &n),
                    NN_ERROR_INVALID_HANDLE, "handle");

    /* A new diagnosis replaces the old: findings, strings and report. */
    float *scaled = uniform(DU_ROWS, DU_IN, -1, 1, 5);
    for (size_t r = 0; r < DU_ROWS; r++) scaled[r * DU_IN + 3] *= 1e4f;
    size_t count2 = 0;
    NN_ASSERT_OK(nn_model_diagnose(model, scaled, y, DU_ROWS, DU_IN, DU_OUT, 2, 0, &count2));
    nn_finding g = find(model, count2, NN_FINDING_UNSCALED_INPUTS);
    assert_true(nn_test_contains(g.message, "feature 3"));
    char *report = report_of(model);
    assert_true(strncmp(report, "Diagnosis after 2 training steps", 32) == 0);
    assert_non_null(strstr(report, g.message));
    free(report);

    free(exact);
    free(scaled);
    free(x);
    free(y);
    nn_model_free(model);
}

static void diagnose_rejects_bad_arguments(void **state) {
    (void)state;
    nn_model *model = three_layer_model(0, NN_OPTIMIZER_ADAM, 0.01);
    float *x = uniform(16, AN_IN, -1, 1, 9);
    float y[16 * AN_OUT];
    learnable_labels(x, y, 16);
    size_t count = 12345;
    nn_finding f;

    /* Nothing to read before the first diagnosis. */
    NN_ASSERT_ERROR(nn_model_finding(model, 0, &f), NN_ERROR_INVALID_STATE, "nn_model_diagnose");

    /* steps: 0 is the default 20, 1 is too few, more than 100000 too many. */
    NN_ASSERT_ERROR(nn_model_diagnose(model, x, y, 16, AN_IN, AN_OUT, 1, 8, &count),
                    NN_ERROR_INVALID_ARGUMENT, "steps", "1");
    NN_ASSERT_ERROR(nn_model_diagnose(model, x, y, 16, AN_IN, AN_OUT, 100001, 8, &count),
                    NN_ERROR_INVALID_ARGUMENT, "steps", "100000");
    NN_ASSERT_ERROR(nn_model_diagnose(model, x, y, 16, AN_IN, AN_OUT, SIZE_MAX, 8, &count),
                    NN_ERROR_INVALID_ARGUMENT, "steps");
    NN_ASSERT_ERROR(nn_model_diagnose(model, x, y, 16, AN_IN, AN_OUT, 2, (size_t)1 << 31, &count),
                    NN_ERROR_INVALID_ARGUMENT, "batch_size");
    NN_ASSERT_ERROR(nn_model_diagnose(model, x, y, 16, AN_IN, AN_OUT, 2, SIZE_MAX, &count),
                    NN_ERROR_INVALID_ARGUMENT, "batch_size");
    assert_int_equal(count, 12345);
    NN_ASSERT_ERROR(nn_model_finding(model, 0, &f), NN_ERROR_INVALID_STATE, "diagnos");

    /* Pointers and handles. */
    NN_ASSERT_ERROR(nn_model_diagnose(model, NULL, y, 16, AN_IN, AN_OUT, 2, 8, &count),
                    NN_ERROR_NULL_POINTER, "x");
    NN_ASSERT_ERROR(nn_model_diagnose(model, x, NULL, 16, AN_IN, AN_OUT, 2, 8, &count),
                    NN_ERROR_NULL_POINTER, "y");
    NN_ASSERT_ERROR(nn_model_diagnose(model, x, y, 16, AN_IN, AN_OUT, 2, 8, NULL),
                    NN_ERROR_NULL_POINTER, "count");
    NN_ASSERT_ERROR(nn_model_diagnose(NULL, x, y, 16, AN_IN, AN_OUT, 2, 8, &count),
                    NN_ERROR_NULL_POINTER, "model");
    NN_ASSERT_ERROR(nn_model_diagnose(nn_test_freed_handle(), x, y, 16, AN_IN, AN_OUT, 2, 8, &count),
                    NN_ERROR_INVALID_HANDLE, "handle");
    NN_ASSERT_ERROR(nn_model_finding(NULL, 0, &f), NN_ERROR_NULL_POINTER, "model");
    NN_ASSERT_ERROR(nn_model_finding(nn_test_freed_handle(), 0, &f), NN_ERROR_INVALID_HANDLE,
                    "handle");

    /* Data. */
    NN_ASSERT_ERROR(nn_model_diagnose(model, x, y, 16, AN_IN + 1, AN_OUT, 2, 8, &count),
                    NN_ERROR_SHAPE_MISMATCH, "input columns");
    NN_ASSERT_SIZE_ERROR(nn_model_diagnose(model, x, y, SIZE_MAX / 2, AN_IN, AN_OUT, 2, 8, &count),
                         "x");
    x[5] = NAN;
    NN_ASSERT_ERROR(nn_model_diagnose(model, x, y, 16, AN_IN, AN_OUT, 2, 8, &count),
                    NN_ERROR_NON_FINITE, "input");
    x[5] = 0.25f;
    y[2] = INFINITY;
    NN_ASSERT_ERROR(nn_model_diagnose(model, x, y, 16, AN_IN, AN_OUT, 2, 8, &count),
                    NN_ERROR_NON_FINITE, "target");
    learnable_labels(x, y, 16);
    assert_int_equal(count, 12345);

    /* No rows. (The status only: the message, "expected 4 input columns,
     * got 4", does not say what is wrong.) */
    assert_int_equal(nn_model_diagnose(model, x, y, 0, AN_IN, AN_OUT, 2, 8, &count),
                     NN_ERROR_SHAPE_MISMATCH);
    assert_int_equal(count, 12345);

    /* Needs a compiled model. */
    nn_model *bare = NULL;
    NN_ASSERT_OK(nn_model_create(AN_IN, 1, &bare));
    NN_ASSERT_ERROR(nn_model_diagnose(bare, x, y, 16, AN_IN, AN_OUT, 2, 8, &count),
                    NN_ERROR_INVALID_STATE, "compile");
    add_plain(bare, AN_OUT, NN_ACTIVATION_SOFTMAX);
    NN_ASSERT_ERROR(nn_model_diagnose(bare, x, y, 16, AN_IN, AN_OUT, 2, 8, &count),
                    NN_ERROR_INVALID_STATE, "loss");
    NN_ASSERT_OK(nn_model_set_loss(bare, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0));
    NN_ASSERT_ERROR(nn_model_diagnose(bare, x, y, 16, AN_IN, AN_OUT, 2, 8, &count),
                    NN_ERROR_INVALID_STATE, "optimizer");
    NN_ASSERT_ERROR(nn_model_finding(bare, 0, &f), NN_ERROR_INVALID_STATE, "diagnos");
    nn_model_free(bare);

    /* Defaults: steps 0 is 20, batch_size 0 is 32 (more than the rows). */
    NN_ASSERT_OK(nn_model_diagnose(model, x, y, 16, AN_IN, AN_OUT, 0, 0, &count));
    char *report = report_of(model);
    assert_true(strncmp(report, "Diagnosis after 20 training steps", 33) == 0);
    free(report);
    NN_ASSERT_OK(nn_model_diagnose(model, x, y, 16, AN_IN, AN_OUT, 2, 4, &count));
    report = report_of(model);
    assert_true(strncmp(report, "Diagnosis after 2 training steps", 32) == 0);
    free(report);

    /* Index out of range, NULL out. */
    NN_ASSERT_ERROR(nn_model_finding(model, count, &f), NN_ERROR_INVALID_ARGUMENT, "out of range");
    NN_ASSERT_ERROR(nn_model_finding(model, SIZE_MAX, &f), NN_ERROR_INVALID_ARGUMENT,
                    "out of range");
    NN_ASSERT_ERROR(nn_model_finding(model, 0, NULL), NN_ERROR_NULL_POINTER, "out");

    free(x);
    nn_model_free(model);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(gradient_check_options_defaults),
    cmocka_unit_test(gradient_check_every_layer_kind_in_double),
    cmocka_unit_test(gradient_check_every_layer_kind_in_float),
    cmocka_unit_test(gradient_check_other_losses),
    cmocka_unit_test(gradient_check_rejects_bad_arguments),
    cmocka_unit_test(anomaly_detection_names_a_forward_overflow),
    cmocka_unit_test(anomaly_detection_names_an_update_overflow),
    cmocka_unit_test(anomaly_detection_changes_nothing_when_healthy),
    cmocka_unit_test(anomaly_detection_rejects_bad_arguments),
    cmocka_unit_test(layer_statistics_see_dead_and_saturated_units),
    cmocka_unit_test(layer_statistics_are_off_by_default),
    cmocka_unit_test(layer_statistics_reject_bad_arguments),
    cmocka_unit_test(diagnose_finds_vanishing_gradients),
    cmocka_unit_test(diagnose_finds_dead_units),
    cmocka_unit_test(diagnose_finds_unscaled_inputs),
    cmocka_unit_test(diagnose_finds_label_mismatch),
    cmocka_unit_test(diagnose_finds_too_high_learning_rate),
    cmocka_unit_test(diagnose_finds_loss_at_chance),
    cmocka_unit_test(diagnose_finds_nothing_in_a_healthy_model),
    cmocka_unit_test(diagnosis_report_is_written_as_summary),
    cmocka_unit_test(diagnose_rejects_bad_arguments),
};

NN_TEST_MAIN("debugging", tests)
