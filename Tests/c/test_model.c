/*
 * Building models: nn_model_create, layers (nn_model_add_dense[_ex],
 * nn_dense_options_init with every field), initializers, inspection
 * (input/output dim, layer count and info, parameter count), loss,
 * optimizer options of every kind, metrics and the summary. Dropout, batch
 * normalization and activation layers are in test_layers.c.
 */
#include "nn_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Creation and inspection                                                  */
/* ------------------------------------------------------------------------ */

static void create_empty_model(void **state) {
    (void)state;
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(7, 123, &model));
    assert_non_null(model);
    size_t v = 99;
    NN_ASSERT_OK(nn_model_input_dim(model, &v));
    assert_int_equal(v, 7);
    NN_ASSERT_OK(nn_model_output_dim(model, &v)); /* no layer: the input width */
    assert_int_equal(v, 7);
    NN_ASSERT_OK(nn_model_layer_count(model, &v));
    assert_int_equal(v, 0);
    NN_ASSERT_OK(nn_model_parameter_count(model, &v));
    assert_int_equal(v, 0);
    NN_ASSERT_OK(nn_model_weight_count(model, &v));
    assert_int_equal(v, 0);
    NN_ASSERT_OK(nn_model_metric_count(model, &v));
    assert_int_equal(v, 1);
    nn_model_free(model);
}

static void create_rejects_bad_arguments(void **state) {
    (void)state;
    nn_model *model = NULL;
    NN_ASSERT_ERROR(nn_model_create(0, 1, &model), NN_ERROR_SHAPE_MISMATCH, "input_dim");
    NN_ASSERT_ERROR(nn_model_create(4, 1, NULL), NN_ERROR_NULL_POINTER, "out");
    assert_null(model);
}

/* Absurd widths are refused with a status, not a crash or a huge allocation. */
static void create_and_add_huge_sizes(void **state) {
    (void)state;
    nn_model *model = NULL;
    nn_status s = nn_model_create(SIZE_MAX, 1, &model);
    if (s == NN_OK) {
        /* A model this wide cannot get a layer: input_dim * units overflows. */
        nn_status t = nn_model_add_dense(model, 2, NN_ACTIVATION_LINEAR);
        assert_true(t == NN_ERROR_SHAPE_MISMATCH || t == NN_ERROR_OUT_OF_MEMORY);
        assert_true(strlen(nn_last_error()) > 0);
        nn_model_free(model);
    } else {
        assert_true(s == NN_ERROR_SHAPE_MISMATCH || s == NN_ERROR_OUT_OF_MEMORY);
        assert_null(model);
    }
    NN_ASSERT_OK(nn_model_create(4, 1, &model));
    nn_status t = nn_model_add_dense(model, SIZE_MAX, NN_ACTIVATION_LINEAR);
    assert_true(t == NN_ERROR_SHAPE_MISMATCH || t == NN_ERROR_OUT_OF_MEMORY);
    assert_true(nn_test_contains(nn_last_error(), "units") ||
                nn_test_contains(nn_last_error(), "large"));
    t = nn_model_add_dense(model, SIZE_MAX / 2, NN_ACTIVATION_LINEAR);
    assert_true(t == NN_ERROR_SHAPE_MISMATCH || t == NN_ERROR_OUT_OF_MEMORY);
    /* The failed calls left the model as it was. */
    size_t layers = 9;
    NN_ASSERT_OK(nn_model_layer_count(model, &layers));
    assert_int_equal(layers, 0);
    nn_model_free(model);
}

static void layers_shapes_and_counts(void **state) {
    (void)state;
    const nn_test_layer layers[] = {
        {5, NN_ACTIVATION_RELU},
        {4, NN_ACTIVATION_TANH},
        {3, NN_ACTIVATION_SIGMOID},
        {2, NN_ACTIVATION_SOFTMAX},
        {6, NN_ACTIVATION_LINEAR},
    };
    nn_model *model = nn_test_model(3, 1, 5, layers);
    size_t v = 0;
    NN_ASSERT_OK(nn_model_layer_count(model, &v));
    assert_int_equal(v, 5);
    NN_ASSERT_OK(nn_model_input_dim(model, &v));
    assert_int_equal(v, 3);
    NN_ASSERT_OK(nn_model_output_dim(model, &v));
    assert_int_equal(v, 6);
    /* 3*5+5 + 5*4+4 + 4*3+3 + 3*2+2 + 2*6+6 */
    NN_ASSERT_OK(nn_model_parameter_count(model, &v));
    assert_int_equal(v, 20 + 24 + 15 + 8 + 18);
    NN_ASSERT_OK(nn_model_weight_count(model, &v));
    assert_int_equal(v, 10);

    for (size_t i = 0; i < 5; i++) {
        size_t units = 0;
        nn_activation act = (nn_activation)42;
        NN_ASSERT_OK(nn_model_layer_info(model, i, &units, &act));
        assert_int_equal(units, layers[i].units);
        assert_int_equal(act, layers[i].activation);
        /* Either out-pointer may be NULL. */
        units = 0;
        NN_ASSERT_OK(nn_model_layer_info(model, i, &units, NULL));
        assert_int_equal(units, layers[i].units);
        act = (nn_activation)42;
        NN_ASSERT_OK(nn_model_layer_info(model, i, NULL, &act));
        assert_int_equal(act, layers[i].activation);
        NN_ASSERT_OK(nn_model_layer_info(model, i, NULL, NULL));
    }
    size_t units = 77;
    nn_activation act = (nn_activation)42;
    NN_ASSERT_ERROR(nn_model_layer_info(model, 5, &units, &act), NN_ERROR_INVALID_ARGUMENT,
                    "5");
    NN_ASSERT_ERROR(nn_model_layer_info(model, SIZE_MAX, &units, &act),
                    NN_ERROR_INVALID_ARGUMENT, "index");
    assert_int_equal(units, 77);
    assert_int_equal(act, 42);
    nn_model_free(model);
}

static void inspection_rejects_null_out(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{2, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(3, 1, 1, layers);
    NN_ASSERT_ERROR(nn_model_input_dim(model, NULL), NN_ERROR_NULL_POINTER, "out");
    NN_ASSERT_ERROR(nn_model_output_dim(model, NULL), NN_ERROR_NULL_POINTER, "out");
    NN_ASSERT_ERROR(nn_model_layer_count(model, NULL), NN_ERROR_NULL_POINTER, "out");
    NN_ASSERT_ERROR(nn_model_parameter_count(model, NULL), NN_ERROR_NULL_POINTER, "out");
    NN_ASSERT_ERROR(nn_model_weight_count(model, NULL), NN_ERROR_NULL_POINTER, "out");
    NN_ASSERT_ERROR(nn_model_metric_count(model, NULL), NN_ERROR_NULL_POINTER, "out");
    NN_ASSERT_ERROR(nn_model_metric_name(model, 0, NULL), NN_ERROR_NULL_POINTER, "out");
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* add_dense                                                                */
/* ------------------------------------------------------------------------ */

static void add_dense_rejects_bad_arguments(void **state) {
    (void)state;
    nn_model *model = nn_test_model(3, 1, 0, NULL);
    NN_ASSERT_ERROR(nn_model_add_dense(model, 0, NN_ACTIVATION_RELU), NN_ERROR_SHAPE_MISMATCH,
                    "unit");
    NN_ASSERT_ERROR(nn_model_add_dense(model, 4, (nn_activation)99), NN_ERROR_INVALID_ARGUMENT,
                    "activation", "99");
    NN_ASSERT_ERROR(nn_model_add_dense(model, 4, (nn_activation)11), NN_ERROR_INVALID_ARGUMENT,
                    "activation", "11");
    NN_ASSERT_ERROR(nn_model_add_dense(model, 4, (nn_activation)-1), NN_ERROR_INVALID_ARGUMENT,
                    "activation");
    size_t v = 9;
    NN_ASSERT_OK(nn_model_layer_count(model, &v));
    assert_int_equal(v, 0);
    NN_ASSERT_OK(nn_model_parameter_count(model, &v));
    assert_int_equal(v, 0);
    nn_model_free(model);
}

static void dense_options_defaults(void **state) {
    (void)state;
    nn_dense_options o;
    memset(&o, 0xA5, sizeof o);
    nn_dense_options_init(&o, 17);
    assert_int_equal(o.struct_size, sizeof(nn_dense_options));
    assert_int_equal(o.units, 17);
    assert_int_equal(o.activation, NN_ACTIVATION_LINEAR);
    assert_int_equal(o.kernel_initializer, NN_INIT_DEFAULT);
    assert_int_equal(o.bias_initializer, NN_INIT_DEFAULT);
    assert_true(isnan(o.activation_parameter)); /* NaN: the activation's default */
    assert_true(o.kernel_initializer_value == 0.0);
    assert_true(o.bias_initializer_value == 0.0);
    assert_true(o.kernel_l1 == 0.0);
    assert_true(o.kernel_l2 == 0.0);
    nn_dense_options_init(NULL, 3); /* does nothing, does not crash */
}

static void add_dense_ex_like_add_dense(void **state) {
    (void)state;
    /* With default options, add_dense_ex and add_dense draw the same weights. */
    nn_model *a = nn_test_model(4, 99, 0, NULL);
    nn_model *b = nn_test_model(4, 99, 0, NULL);
    NN_ASSERT_OK(nn_model_add_dense(a, 3, NN_ACTIVATION_TANH));
    nn_dense_options o;
    nn_dense_options_init(&o, 3);
    o.activation = NN_ACTIVATION_TANH;
    NN_ASSERT_OK(nn_model_add_dense_ex(b, &o));
    size_t na = 0, nb = 0;
    float *wa = nn_test_weights(a, &na), *wb = nn_test_weights(b, &nb);
    assert_int_equal(na, 15);
    assert_int_equal(nb, 15);
    assert_memory_equal(wa, wb, na * sizeof(float));
    size_t units = 0;
    nn_activation act = NN_ACTIVATION_LINEAR;
    NN_ASSERT_OK(nn_model_layer_info(b, 0, &units, &act));
    assert_int_equal(units, 3);
    assert_int_equal(act, NN_ACTIVATION_TANH);
    free(wa);
    free(wb);
    nn_model_free(a);
    nn_model_free(b);
}

static void add_dense_ex_rejects_bad_options(void **state) {
    (void)state;
    nn_model *model = nn_test_model(4, 1, 0, NULL);
    nn_dense_options o;

    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, NULL), NN_ERROR_NULL_POINTER, "options");

    nn_dense_options_init(&o, 3);
    o.kernel_initializer = (nn_initializer)99;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "initializer",
                    "99");
    nn_dense_options_init(&o, 3);
    o.bias_initializer = (nn_initializer)10;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "initializer",
                    "10");
    nn_dense_options_init(&o, 3);
    o.activation = (nn_activation)12;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "activation",
                    "12");
    nn_dense_options_init(&o, 0);
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_SHAPE_MISMATCH, "unit");

    nn_dense_options_init(&o, 3);
    o.struct_size = 0;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "struct_size");
    o.struct_size = sizeof o + 64;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "struct_size");
    o.struct_size = 3;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "struct_size");

    size_t v = 9;
    NN_ASSERT_OK(nn_model_layer_count(model, &v));
    assert_int_equal(v, 0);
    nn_model_free(model);
}

/* The 0.2 fields of nn_dense_options: activation parameter, constant
 * initializer values and kernel regularization, each checked by range. */
static void add_dense_ex_rejects_bad_new_fields(void **state) {
    (void)state;
    nn_model *model = nn_test_model(4, 1, 0, NULL);
    nn_dense_options o;

    nn_dense_options_init(&o, 3);
    o.kernel_l2 = -0.01;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "l2", "-0.01");
    nn_dense_options_init(&o, 3);
    o.kernel_l2 = INFINITY;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "l2");
    nn_dense_options_init(&o, 3);
    o.kernel_l1 = -1;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "l1");
    nn_dense_options_init(&o, 3);
    o.kernel_l1 = NAN;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "l1");

    /* leaky_relu's slope must be >= 0, elu's alpha > 0; activations without a
     * parameter refuse one. */
    nn_dense_options_init(&o, 3);
    o.activation = NN_ACTIVATION_LEAKY_RELU;
    o.activation_parameter = -0.5;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "leaky_relu",
                    "slope", "-0.5");
    o.activation_parameter = INFINITY;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "leaky_relu");
    nn_dense_options_init(&o, 3);
    o.activation = NN_ACTIVATION_ELU;
    o.activation_parameter = 0;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "elu", "alpha");
    nn_dense_options_init(&o, 3);
    o.activation = NN_ACTIVATION_RELU;
    o.activation_parameter = 0.1;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "relu",
                    "no parameter");

    /* A constant initializer's value must be finite. */
    nn_dense_options_init(&o, 3);
    o.kernel_initializer = NN_INIT_CONSTANT;
    o.kernel_initializer_value = INFINITY;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "constant");
    nn_dense_options_init(&o, 3);
    o.bias_initializer = NN_INIT_CONSTANT;
    o.bias_initializer_value = NAN;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "constant");

    size_t v = 9;
    NN_ASSERT_OK(nn_model_layer_count(model, &v));
    assert_int_equal(v, 0);

    /* In range: accepted, and the activation is reported. */
    nn_dense_options_init(&o, 3);
    o.activation = NN_ACTIVATION_LEAKY_RELU;
    o.activation_parameter = 0.0;
    o.kernel_l1 = 0.5;
    o.kernel_l2 = 1e-3;
    NN_ASSERT_OK(nn_model_add_dense_ex(model, &o));
    nn_dense_options_init(&o, 2);
    o.activation = NN_ACTIVATION_ELU;
    o.activation_parameter = 2.5;
    NN_ASSERT_OK(nn_model_add_dense_ex(model, &o));
    nn_activation act = NN_ACTIVATION_LINEAR;
    NN_ASSERT_OK(nn_model_layer_info(model, 0, NULL, &act));
    assert_int_equal(act, NN_ACTIVATION_LEAKY_RELU);
    NN_ASSERT_OK(nn_model_layer_info(model, 1, NULL, &act));
    assert_int_equal(act, NN_ACTIVATION_ELU);
    /* Regularization adds no parameter. */
    NN_ASSERT_OK(nn_model_parameter_count(model, &v));
    assert_int_equal(v, 4 * 3 + 3 + 3 * 2 + 2);
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Initializers                                                             */
/* ------------------------------------------------------------------------ */

typedef struct stats {
    double min, max, mean, std;
} stats;

static stats describe(const float *v, size_t n) {
    stats s = {INFINITY, -INFINITY, 0, 0};
    for (size_t i = 0; i < n; i++) {
        if (v[i] < s.min) s.min = v[i];
        if (v[i] > s.max) s.max = v[i];
        s.mean += v[i];
    }
    s.mean /= (double)n;
    for (size_t i = 0; i < n; i++) s.std += (v[i] - s.mean) * (v[i] - s.mean);
    s.std = sqrt(s.std / (double)n);
    return s;
}

/* Fills a [fan_in, fan_out] kernel with `init` (bias: `bias_init`) and
 * returns kernel and bias (malloc'd, kernel first). */
static float *init_layer(size_t fan_in, size_t fan_out, nn_initializer init,
                         nn_initializer bias_init, uint64_t seed) {
    nn_model *model = nn_test_model(fan_in, seed, 0, NULL);
    nn_dense_options o;
    nn_dense_options_init(&o, fan_out);
    o.kernel_initializer = init;
    o.bias_initializer = bias_init;
    NN_ASSERT_OK(nn_model_add_dense_ex(model, &o));
    size_t n = 0;
    float *w = nn_test_weights(model, &n);
    assert_int_equal(n, fan_in * fan_out + fan_out);
    nn_model_free(model);
    return w;
}

enum { FAN_IN = 200, FAN_OUT = 100, KERNEL = FAN_IN * FAN_OUT };

static void check_uniform(nn_initializer init, double limit) {
    float *w = init_layer(FAN_IN, FAN_OUT, init, NN_INIT_DEFAULT, 5);
    stats s = describe(w, KERNEL);
    assert_true(s.max <= limit && s.min >= -limit);
    assert_true(s.max >= 0.99 * limit && s.min <= -0.99 * limit);
    NN_ASSERT_CLOSE(s.mean, 0.0, 0.0, 0.02 * limit);
    NN_ASSERT_CLOSE(s.std, limit / sqrt(3.0), 0.03, 0.0);
    /* Default bias: zeros. */
    for (size_t i = KERNEL; i < KERNEL + FAN_OUT; i++) assert_true(w[i] == 0.0f);
    free(w);
}

static void check_truncated_normal(nn_initializer init, double stddev) {
    float *w = init_layer(FAN_IN, FAN_OUT, init, NN_INIT_ZEROS, 6);
    stats s = describe(w, KERNEL);
    /* Keras: drawn from N(0, stddev / 0.8796) and redrawn beyond 2 of its
     * standard deviations, so that the result has standard deviation stddev. */
    double bound = 2.0 * stddev / 0.87962566103423978;
    assert_true(s.max <= bound * 1.0001 && s.min >= -bound * 1.0001);
    assert_true(s.max >= 0.95 * bound && s.min <= -0.95 * bound);
    NN_ASSERT_CLOSE(s.mean, 0.0, 0.0, 0.03 * stddev);
    NN_ASSERT_CLOSE(s.std, stddev, 0.03, 0.0);
    free(w);
}

static void initializer_glorot_uniform(void **state) {
    (void)state;
    check_uniform(NN_INIT_GLOROT_UNIFORM, sqrt(6.0 / (FAN_IN + FAN_OUT)));
}

static void initializer_he_uniform(void **state) {
    (void)state;
    check_uniform(NN_INIT_HE_UNIFORM, sqrt(6.0 / FAN_IN));
}

static void initializer_glorot_normal(void **state) {
    (void)state;
    check_truncated_normal(NN_INIT_GLOROT_NORMAL, sqrt(2.0 / (FAN_IN + FAN_OUT)));
}

static void initializer_he_normal(void **state) {
    (void)state;
    check_truncated_normal(NN_INIT_HE_NORMAL, sqrt(2.0 / FAN_IN));
}

static void initializer_lecun_uniform(void **state) {
    (void)state;
    check_uniform(NN_INIT_LECUN_UNIFORM, sqrt(3.0 / FAN_IN));
}

static void initializer_lecun_normal(void **state) {
    (void)state;
    check_truncated_normal(NN_INIT_LECUN_NORMAL, sqrt(1.0 / FAN_IN));
}

/* NN_INIT_CONSTANT fills with the options' *_initializer_value, kernel and
 * bias independently; the value may be negative or zero. */
static void initializer_constant_value(void **state) {
    (void)state;
    const double values[][2] = {{0.25, -1.5}, {-3.0, 0.0}, {0.0, 7.0}};
    for (size_t c = 0; c < 3; c++) {
        nn_model *model = nn_test_model(6, 1, 0, NULL);
        nn_dense_options o;
        nn_dense_options_init(&o, 5);
        o.kernel_initializer = NN_INIT_CONSTANT;
        o.kernel_initializer_value = values[c][0];
        o.bias_initializer = NN_INIT_CONSTANT;
        o.bias_initializer_value = values[c][1];
        NN_ASSERT_OK(nn_model_add_dense_ex(model, &o));
        size_t n = 0;
        float *w = nn_test_weights(model, &n);
        assert_int_equal(n, 35);
        for (size_t i = 0; i < 30; i++) assert_true(w[i] == (float)values[c][0]);
        for (size_t i = 30; i < 35; i++) assert_true(w[i] == (float)values[c][1]);
        free(w);
        nn_model_free(model);
    }
    /* The value is ignored by the other initializers. */
    nn_model *model = nn_test_model(6, 1, 0, NULL);
    nn_dense_options o;
    nn_dense_options_init(&o, 5);
    o.kernel_initializer = NN_INIT_ONES;
    o.kernel_initializer_value = 4.0;
    o.bias_initializer_value = 9.0;
    NN_ASSERT_OK(nn_model_add_dense_ex(model, &o));
    float *w = nn_test_weights(model, NULL);
    for (size_t i = 0; i < 30; i++) assert_true(w[i] == 1.0f);
    for (size_t i = 30; i < 35; i++) assert_true(w[i] == 0.0f);
    free(w);
    nn_model_free(model);
}

/* NN_INIT_DEFAULT is glorot_uniform for the kernel: the same draws. */
static void initializer_default_is_glorot_uniform(void **state) {
    (void)state;
    float *a = init_layer(30, 20, NN_INIT_DEFAULT, NN_INIT_DEFAULT, 77);
    float *b = init_layer(30, 20, NN_INIT_GLOROT_UNIFORM, NN_INIT_ZEROS, 77);
    assert_memory_equal(a, b, (30 * 20 + 20) * sizeof(float));
    free(a);
    free(b);
}

static void initializer_constants(void **state) {
    (void)state;
    float *w = init_layer(6, 5, NN_INIT_ZEROS, NN_INIT_ONES, 1);
    for (size_t i = 0; i < 30; i++) assert_true(w[i] == 0.0f);
    for (size_t i = 30; i < 35; i++) assert_true(w[i] == 1.0f);
    free(w);
    w = init_layer(6, 5, NN_INIT_ONES, NN_INIT_ZEROS, 1);
    for (size_t i = 0; i < 30; i++) assert_true(w[i] == 1.0f);
    for (size_t i = 30; i < 35; i++) assert_true(w[i] == 0.0f);
    free(w);
    /* A random bias initializer uses the layer's fans (fan_in = inputs). */
    w = init_layer(6, 5, NN_INIT_ZEROS, NN_INIT_HE_UNIFORM, 1);
    int nonzero = 0;
    for (size_t i = 30; i < 35; i++) {
        assert_true(fabsf(w[i]) <= sqrtf(6.0f / 6.0f));
        nonzero += w[i] != 0.0f;
    }
    assert_true(nonzero >= 4);
    free(w);
}

/* The seed decides the weights: same seed, same weights; another seed,
 * other weights. */
static void seed_determines_initial_weights(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{8, NN_ACTIVATION_RELU}, {3, NN_ACTIVATION_SOFTMAX}};
    nn_model *a = nn_test_model(5, 2024, 2, layers);
    nn_model *b = nn_test_model(5, 2024, 2, layers);
    nn_model *c = nn_test_model(5, 2025, 2, layers);
    size_t n = 0;
    float *wa = nn_test_weights(a, &n), *wb = nn_test_weights(b, NULL),
          *wc = nn_test_weights(c, NULL);
    assert_int_equal(n, 5 * 8 + 8 + 8 * 3 + 3);
    assert_memory_equal(wa, wb, n * sizeof(float));
    size_t same = 0;
    for (size_t i = 0; i < 5 * 8; i++) same += wa[i] == wc[i];
    assert_true(same < 4);
    free(wa);
    free(wb);
    free(wc);
    nn_model_free(a);
    nn_model_free(b);
    nn_model_free(c);
}

/* ------------------------------------------------------------------------ */
/* Loss                                                                     */
/* ------------------------------------------------------------------------ */

static void set_loss_accepts_every_loss(void **state) {
    (void)state;
    nn_model *model = nn_test_model(2, 1, 0, NULL);
    const nn_loss cross_entropies[] = {NN_LOSS_BINARY_CROSSENTROPY,
                                       NN_LOSS_CATEGORICAL_CROSSENTROPY,
                                       NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY};
    for (size_t i = 0; i < 3; i++) {
        NN_ASSERT_OK(nn_model_set_loss(model, cross_entropies[i], 0));
        NN_ASSERT_OK(nn_model_set_loss(model, cross_entropies[i], 1));
    }
    /* from_logits is for the cross-entropy losses only. */
    const nn_loss others[] = {NN_LOSS_MEAN_SQUARED_ERROR, NN_LOSS_MEAN_ABSOLUTE_ERROR,
                              NN_LOSS_HUBER};
    const char *const names[] = {"mean_squared_error", "mean_absolute_error", "huber"};
    for (size_t i = 0; i < 3; i++) {
        NN_ASSERT_OK(nn_model_set_loss(model, others[i], 0));
        NN_ASSERT_ERROR(nn_model_set_loss(model, others[i], 1), NN_ERROR_INVALID_ARGUMENT,
                        "from_logits", names[i]);
    }
    nn_model_free(model);
}

static void set_loss_rejects_bad_arguments(void **state) {
    (void)state;
    nn_model *model = nn_test_model(2, 1, 0, NULL);
    NN_ASSERT_ERROR(nn_model_set_loss(model, (nn_loss)0, 0), NN_ERROR_INVALID_ARGUMENT, "loss",
                    "0");
    NN_ASSERT_ERROR(nn_model_set_loss(model, (nn_loss)7, 0), NN_ERROR_INVALID_ARGUMENT, "loss",
                    "7");
    NN_ASSERT_ERROR(nn_model_set_loss(model, (nn_loss)99, 0), NN_ERROR_INVALID_ARGUMENT, "loss",
                    "99");
    NN_ASSERT_ERROR(nn_model_set_loss(model, NN_LOSS_BINARY_CROSSENTROPY, 2),
                    NN_ERROR_INVALID_ARGUMENT, "from_logits", "2");
    NN_ASSERT_ERROR(nn_model_set_loss(model, NN_LOSS_BINARY_CROSSENTROPY, -1),
                    NN_ERROR_INVALID_ARGUMENT, "from_logits");
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Optimizer options                                                        */
/* ------------------------------------------------------------------------ */

static void optimizer_defaults(void **state) {
    (void)state;
    nn_optimizer_options o;
    memset(&o, 0xA5, sizeof o);
    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_SGD));
    assert_int_equal(o.struct_size, sizeof(nn_optimizer_options));
    assert_int_equal(o.kind, NN_OPTIMIZER_SGD);
    assert_true(o.learning_rate == 0.01);
    assert_true(o.momentum == 0.0);
    assert_int_equal(o.nesterov, 0);
    assert_true(o.weight_decay == 0.0);

    memset(&o, 0xA5, sizeof o);
    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_ADAM));
    assert_int_equal(o.struct_size, sizeof(nn_optimizer_options));
    assert_int_equal(o.kind, NN_OPTIMIZER_ADAM);
    assert_true(o.learning_rate == 0.001);
    assert_true(o.beta1 == 0.9);
    assert_true(o.beta2 == 0.999);
    assert_true(o.epsilon == 1e-8);
    assert_true(o.weight_decay == 0.0);
    assert_int_equal(o.amsgrad, 0);
}

/* The documented defaults of every optimizer (nn.h, nn_optimizer_options). */
static void optimizer_defaults_new_kinds(void **state) {
    (void)state;
    const nn_optimizer kinds[] = {NN_OPTIMIZER_SGD,     NN_OPTIMIZER_ADAM,
                                  NN_OPTIMIZER_ADAMW,   NN_OPTIMIZER_RMSPROP,
                                  NN_OPTIMIZER_ADAGRAD, NN_OPTIMIZER_RPROP};
    for (size_t i = 0; i < 6; i++) {
        nn_optimizer_options o;
        memset(&o, 0xA5, sizeof o);
        NN_ASSERT_OK(nn_optimizer_options_init(&o, kinds[i]));
        assert_int_equal(o.struct_size, sizeof(nn_optimizer_options));
        assert_int_equal(o.kind, kinds[i]);
        /* Clipping is off for every optimizer. */
        assert_true(o.clip_value == 0.0);
        assert_true(o.clip_norm == 0.0);
        assert_true(o.global_clip_norm == 0.0);
    }
    nn_optimizer_options o;

    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_SGD));
    assert_true(o.dampening == 0.0);

    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_ADAMW));
    assert_true(o.learning_rate == 0.001);
    assert_true(o.beta1 == 0.9);
    assert_true(o.beta2 == 0.999);
    assert_true(o.epsilon == 1e-8);
    assert_true(o.weight_decay == 0.01); /* decoupled, PyTorch's default */
    assert_int_equal(o.amsgrad, 0);

    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_RMSPROP));
    assert_true(o.learning_rate == 0.01);
    assert_true(o.alpha == 0.99);
    assert_true(o.epsilon == 1e-8);
    assert_true(o.momentum == 0.0);
    assert_int_equal(o.centered, 0);
    assert_true(o.weight_decay == 0.0);

    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_ADAGRAD));
    assert_true(o.learning_rate == 0.01);
    assert_true(o.epsilon == 1e-10);
    assert_true(o.lr_decay == 0.0);
    assert_true(o.initial_accumulator_value == 0.0);
    assert_true(o.weight_decay == 0.0);

    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_RPROP));
    assert_true(o.learning_rate == 0.01);
    assert_true(o.eta_minus == 0.5);
    assert_true(o.eta_plus == 1.2);
    assert_true(o.step_size_min == 1e-6);
    assert_true(o.step_size_max == 50.0);
}

static void optimizer_init_rejects_bad_arguments(void **state) {
    (void)state;
    NN_ASSERT_ERROR(nn_optimizer_options_init(NULL, NN_OPTIMIZER_SGD), NN_ERROR_NULL_POINTER,
                    "options");
    nn_optimizer_options o, before;
    memset(&o, 0x3C, sizeof o);
    memcpy(&before, &o, sizeof o);
    NN_ASSERT_ERROR(nn_optimizer_options_init(&o, (nn_optimizer)0), NN_ERROR_INVALID_ARGUMENT,
                    "optimizer", "0");
    NN_ASSERT_ERROR(nn_optimizer_options_init(&o, (nn_optimizer)8), NN_ERROR_INVALID_ARGUMENT,
                    "optimizer", "8");
    NN_ASSERT_ERROR(nn_optimizer_options_init(&o, (nn_optimizer)99), NN_ERROR_INVALID_ARGUMENT,
                    "optimizer", "99");
    /* An out-parameter is written only on success. */
    assert_memory_equal(&o, &before, sizeof o);
}

/* Sets options built from the defaults of `kind` with one field changed by
 * `edit`, and expects the error to name `field` (one of several spellings
 * separated by '|', e.g. the C field "beta1" or Keras's "beta_1"). */
typedef void (*edit_fn)(nn_optimizer_options *);

static void expect_rejected(nn_optimizer kind, edit_fn edit, const char *field) {
    nn_model *model = nn_test_model(2, 1, 0, NULL);
    nn_optimizer_options o;
    NN_ASSERT_OK(nn_optimizer_options_init(&o, kind));
    edit(&o);
    nn_status s = nn_model_set_optimizer(model, &o);
    char message[512];
    strncpy(message, nn_last_error(), sizeof message - 1);
    message[sizeof message - 1] = '\0';
    if (s != NN_ERROR_INVALID_ARGUMENT)
        fail_msg("%s: expected invalid argument, got %s (\"%s\")", field, nn_status_string(s),
                 message);
    int named = 0;
    char spellings[64];
    strncpy(spellings, field, sizeof spellings - 1);
    spellings[sizeof spellings - 1] = '\0';
    for (char *save = NULL, *tok = strtok_r(spellings, "|", &save); tok != NULL;
         tok = strtok_r(NULL, "|", &save))
        named = named || nn_test_contains(message, tok);
    if (!named) fail_msg("message \"%s\" does not name %s", message, field);
    nn_model_free(model);
}

static void lr_zero(nn_optimizer_options *o) { o->learning_rate = 0; }
static void lr_negative(nn_optimizer_options *o) { o->learning_rate = -0.1; }
static void lr_nan(nn_optimizer_options *o) { o->learning_rate = NAN; }
static void lr_inf(nn_optimizer_options *o) { o->learning_rate = INFINITY; }
static void momentum_negative(nn_optimizer_options *o) { o->momentum = -0.5; }
static void momentum_nan(nn_optimizer_options *o) { o->momentum = NAN; }
static void nesterov_two(nn_optimizer_options *o) { o->momentum = 0.9; o->nesterov = 2; }
static void nesterov_without_momentum(nn_optimizer_options *o) { o->nesterov = 1; }
static void beta1_one(nn_optimizer_options *o) { o->beta1 = 1.0; }
static void beta1_negative(nn_optimizer_options *o) { o->beta1 = -0.1; }
static void beta2_one(nn_optimizer_options *o) { o->beta2 = 1.0; }
static void beta2_nan(nn_optimizer_options *o) { o->beta2 = NAN; }
static void epsilon_zero(nn_optimizer_options *o) { o->epsilon = 0; }
static void epsilon_negative(nn_optimizer_options *o) { o->epsilon = -1e-8; }
static void decay_negative(nn_optimizer_options *o) { o->weight_decay = -1e-4; }
static void decay_inf(nn_optimizer_options *o) { o->weight_decay = INFINITY; }
static void kind_unknown(nn_optimizer_options *o) { o->kind = (nn_optimizer)9; }
static void size_zero(nn_optimizer_options *o) { o->struct_size = 0; }
static void size_large(nn_optimizer_options *o) { o->struct_size = sizeof *o + 8; }
static void dampening_negative(nn_optimizer_options *o) { o->dampening = -0.1; }
static void nesterov_with_dampening(nn_optimizer_options *o) {
    o->momentum = 0.9;
    o->nesterov = 1;
    o->dampening = 0.5;
}
static void amsgrad_two(nn_optimizer_options *o) { o->amsgrad = 2; }
static void alpha_one(nn_optimizer_options *o) { o->alpha = 1.0; }
static void alpha_negative(nn_optimizer_options *o) { o->alpha = -0.5; }
static void centered_minus_one(nn_optimizer_options *o) { o->centered = -1; }
static void lr_decay_negative(nn_optimizer_options *o) { o->lr_decay = -1e-3; }
static void accumulator_negative(nn_optimizer_options *o) { o->initial_accumulator_value = -1; }
static void eta_minus_one(nn_optimizer_options *o) { o->eta_minus = 1.0; }
static void eta_minus_zero(nn_optimizer_options *o) { o->eta_minus = 0.0; }
static void eta_plus_one(nn_optimizer_options *o) { o->eta_plus = 1.0; }
static void step_min_zero(nn_optimizer_options *o) { o->step_size_min = 0.0; }
static void step_max_below_min(nn_optimizer_options *o) {
    o->step_size_min = 0.5;
    o->step_size_max = 0.1;
}
static void clip_value_negative(nn_optimizer_options *o) { o->clip_value = -1; }
static void clip_value_nan(nn_optimizer_options *o) { o->clip_value = NAN; }
static void clip_norm_negative(nn_optimizer_options *o) { o->clip_norm = -1; }
static void global_clip_negative(nn_optimizer_options *o) { o->global_clip_norm = -1; }
static void global_clip_inf(nn_optimizer_options *o) { o->global_clip_norm = INFINITY; }
static void rprop_decay(nn_optimizer_options *o) { o->weight_decay = 0.01; }
static void two_clips(nn_optimizer_options *o) {
    o->clip_value = 0.5;
    o->global_clip_norm = 1.0;
}
static void three_clips(nn_optimizer_options *o) {
    o->clip_value = 0.5;
    o->clip_norm = 1.0;
    o->global_clip_norm = 1.0;
}

static void set_optimizer_rejects_bad_options(void **state) {
    (void)state;
    expect_rejected(NN_OPTIMIZER_SGD, lr_zero, "learning_rate");
    expect_rejected(NN_OPTIMIZER_SGD, lr_negative, "learning_rate");
    expect_rejected(NN_OPTIMIZER_ADAM, lr_nan, "learning_rate");
    expect_rejected(NN_OPTIMIZER_ADAM, lr_inf, "learning_rate");
    expect_rejected(NN_OPTIMIZER_SGD, momentum_negative, "momentum");
    expect_rejected(NN_OPTIMIZER_SGD, momentum_nan, "momentum");
    expect_rejected(NN_OPTIMIZER_SGD, nesterov_two, "nesterov");
    expect_rejected(NN_OPTIMIZER_SGD, nesterov_without_momentum, "nesterov");
    expect_rejected(NN_OPTIMIZER_ADAM, beta1_one, "beta1|beta_1");
    expect_rejected(NN_OPTIMIZER_ADAM, beta1_negative, "beta1|beta_1");
    expect_rejected(NN_OPTIMIZER_ADAM, beta2_one, "beta2|beta_2");
    expect_rejected(NN_OPTIMIZER_ADAM, beta2_nan, "beta2|beta_2");
    expect_rejected(NN_OPTIMIZER_ADAM, epsilon_zero, "epsilon");
    expect_rejected(NN_OPTIMIZER_ADAM, epsilon_negative, "epsilon");
    expect_rejected(NN_OPTIMIZER_SGD, decay_negative, "weight_decay");
    expect_rejected(NN_OPTIMIZER_ADAM, decay_inf, "weight_decay");
    expect_rejected(NN_OPTIMIZER_SGD, kind_unknown, "9");
    expect_rejected(NN_OPTIMIZER_SGD, size_zero, "struct_size");
    expect_rejected(NN_OPTIMIZER_ADAM, size_large, "struct_size");

    /* The 0.2 optimizers and fields. */
    expect_rejected(NN_OPTIMIZER_SGD, dampening_negative, "dampening");
    expect_rejected(NN_OPTIMIZER_SGD, nesterov_with_dampening, "nesterov");
    expect_rejected(NN_OPTIMIZER_ADAM, amsgrad_two, "amsgrad");
    expect_rejected(NN_OPTIMIZER_ADAMW, amsgrad_two, "amsgrad");
    expect_rejected(NN_OPTIMIZER_ADAMW, beta1_one, "beta1|beta_1");
    expect_rejected(NN_OPTIMIZER_ADAMW, epsilon_zero, "epsilon");
    expect_rejected(NN_OPTIMIZER_ADAMW, decay_negative, "weight_decay");
    expect_rejected(NN_OPTIMIZER_RMSPROP, alpha_one, "alpha");
    expect_rejected(NN_OPTIMIZER_RMSPROP, alpha_negative, "alpha");
    expect_rejected(NN_OPTIMIZER_RMSPROP, momentum_negative, "momentum");
    expect_rejected(NN_OPTIMIZER_RMSPROP, epsilon_zero, "epsilon");
    expect_rejected(NN_OPTIMIZER_RMSPROP, centered_minus_one, "centered");
    expect_rejected(NN_OPTIMIZER_RMSPROP, lr_zero, "learning_rate");
    expect_rejected(NN_OPTIMIZER_ADAGRAD, lr_decay_negative, "lr_decay");
    expect_rejected(NN_OPTIMIZER_ADAGRAD, accumulator_negative, "initial_accumulator_value");
    expect_rejected(NN_OPTIMIZER_ADAGRAD, epsilon_negative, "epsilon");
    expect_rejected(NN_OPTIMIZER_RPROP, eta_minus_one, "eta_minus");
    expect_rejected(NN_OPTIMIZER_RPROP, eta_minus_zero, "eta_minus");
    expect_rejected(NN_OPTIMIZER_RPROP, eta_plus_one, "eta_plus");
    expect_rejected(NN_OPTIMIZER_RPROP, step_min_zero, "step_size_min");
    expect_rejected(NN_OPTIMIZER_RPROP, step_max_below_min, "step_size_max");
    expect_rejected(NN_OPTIMIZER_RPROP, lr_negative, "learning_rate");
    expect_rejected(NN_OPTIMIZER_RPROP, rprop_decay, "weight_decay"); /* "must be 0" */
    /* Clipping, for every optimizer; 0 disables it, anything else must be
     * a finite number > 0. The message may use the C field's name or
     * Keras's (clipvalue, clipnorm, global_clipnorm). */
    expect_rejected(NN_OPTIMIZER_SGD, clip_value_negative, "clip_value|clipvalue");
    expect_rejected(NN_OPTIMIZER_ADAM, clip_value_nan, "clip_value|clipvalue");
    expect_rejected(NN_OPTIMIZER_RMSPROP, clip_norm_negative, "clip_norm|clipnorm");
    expect_rejected(NN_OPTIMIZER_SGD, global_clip_negative, "global_clip_norm|global_clipnorm");
    expect_rejected(NN_OPTIMIZER_ADAGRAD, global_clip_inf, "global_clip_norm|global_clipnorm");
    /* At most one of the three, as in Keras. */
    expect_rejected(NN_OPTIMIZER_SGD, two_clips, "only one");
    expect_rejected(NN_OPTIMIZER_ADAM, three_clips, "only one");

    nn_model *model = nn_test_model(2, 1, 0, NULL);
    NN_ASSERT_ERROR(nn_model_set_optimizer(model, NULL), NN_ERROR_NULL_POINTER, "options");
    nn_model_free(model);
}

static void set_optimizer_accepts_valid_options(void **state) {
    (void)state;
    nn_model *model = nn_test_model(2, 1, 0, NULL);
    nn_optimizer_options o;
    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_SGD));
    o.momentum = 0.9;
    o.nesterov = 1;
    o.weight_decay = 1e-4;
    o.learning_rate = 1e-6;
    NN_ASSERT_OK(nn_model_set_optimizer(model, &o));
    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_ADAM));
    o.beta1 = 0.0;
    o.beta2 = 0.5;
    o.epsilon = 1e-3;
    o.amsgrad = 1;
    NN_ASSERT_OK(nn_model_set_optimizer(model, &o));
    /* Every kind with its defaults, and with its own options changed. */
    const nn_optimizer kinds[] = {NN_OPTIMIZER_ADAMW, NN_OPTIMIZER_RMSPROP, NN_OPTIMIZER_ADAGRAD,
                                  NN_OPTIMIZER_RPROP};
    for (size_t i = 0; i < 4; i++) {
        NN_ASSERT_OK(nn_optimizer_options_init(&o, kinds[i]));
        NN_ASSERT_OK(nn_model_set_optimizer(model, &o));
        double lr = 0;
        NN_ASSERT_OK(nn_model_learning_rate(model, &lr));
        assert_true(lr == o.learning_rate);
    }
    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_RMSPROP));
    o.momentum = 0.9;
    o.centered = 1;
    o.alpha = 0.0;
    NN_ASSERT_OK(nn_model_set_optimizer(model, &o));
    /* One clipping option at a time. */
    o.clip_value = 0.5;
    NN_ASSERT_OK(nn_model_set_optimizer(model, &o));
    o.clip_value = 0;
    o.clip_norm = 1.0;
    NN_ASSERT_OK(nn_model_set_optimizer(model, &o));
    o.clip_norm = 0;
    o.global_clip_norm = 2.0;
    NN_ASSERT_OK(nn_model_set_optimizer(model, &o));
    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_ADAGRAD));
    o.lr_decay = 0.1;
    o.initial_accumulator_value = 0.5;
    NN_ASSERT_OK(nn_model_set_optimizer(model, &o));
    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_RPROP));
    o.eta_minus = 0.1;
    o.eta_plus = 3.0;
    o.step_size_min = 1e-3;
    o.step_size_max = 1e-3; /* max == min is allowed */
    NN_ASSERT_OK(nn_model_set_optimizer(model, &o));
    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_SGD));
    o.momentum = 0.5;
    o.dampening = 0.5;
    NN_ASSERT_OK(nn_model_set_optimizer(model, &o));
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Metrics                                                                  */
/* ------------------------------------------------------------------------ */

static void metrics_names_and_counts(void **state) {
    (void)state;
    nn_model *model = nn_test_model(2, 1, 0, NULL);
    size_t count = 0;
    const char *name = NULL;
    NN_ASSERT_OK(nn_model_metric_count(model, &count));
    assert_int_equal(count, 1);
    NN_ASSERT_OK(nn_model_metric_name(model, 0, &name));
    assert_string_equal(name, "loss");
    NN_ASSERT_ERROR(nn_model_metric_name(model, 1, &name), NN_ERROR_INVALID_ARGUMENT, "1");

    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_ACCURACY));
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_ACCURACY)); /* no effect */
    NN_ASSERT_OK(nn_model_metric_count(model, &count));
    assert_int_equal(count, 2);
    const char *loss = NULL, *accuracy = NULL;
    NN_ASSERT_OK(nn_model_metric_name(model, 0, &loss));
    NN_ASSERT_OK(nn_model_metric_name(model, 1, &accuracy));
    assert_string_equal(loss, "loss");
    assert_string_equal(accuracy, "accuracy");
    name = "sentinel";
    NN_ASSERT_ERROR(nn_model_metric_name(model, 2, &name), NN_ERROR_INVALID_ARGUMENT, "2");
    NN_ASSERT_ERROR(nn_model_metric_name(model, SIZE_MAX, &name), NN_ERROR_INVALID_ARGUMENT,
                    "index");
    assert_string_equal(name, "sentinel");

    NN_ASSERT_ERROR(nn_model_add_metric(model, (nn_metric)0), NN_ERROR_INVALID_ARGUMENT,
                    "metric", "0");
    NN_ASSERT_ERROR(nn_model_add_metric(model, (nn_metric)11), NN_ERROR_INVALID_ARGUMENT,
                    "metric", "11");
    NN_ASSERT_ERROR(nn_model_add_metric(model, (nn_metric)99), NN_ERROR_INVALID_ARGUMENT,
                    "metric", "99");
    NN_ASSERT_OK(nn_model_metric_count(model, &count));
    assert_int_equal(count, 2);

    /* The names live as long as the model, through other calls. */
    NN_ASSERT_OK(nn_model_add_dense(model, 3, NN_ACTIVATION_SOFTMAX));
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0));
    NN_ASSERT_OK(nn_model_metric_name(model, 1, &name));
    assert_string_equal(loss, "loss");
    assert_string_equal(accuracy, "accuracy");
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Summary                                                                  */
/* ------------------------------------------------------------------------ */

static char *full_summary(const nn_model *model, size_t *length) {
    size_t n = 0;
    NN_ASSERT_OK(nn_model_summary(model, NULL, 0, &n));
    assert_true(n > 0);
    char *text = malloc(n + 1);
    assert_non_null(text);
    memset(text, 'Q', n + 1);
    size_t again = 0;
    NN_ASSERT_OK(nn_model_summary(model, text, n + 1, &again));
    assert_int_equal(again, n);
    assert_int_equal(strlen(text), n);
    if (length) *length = n;
    return text;
}

static void summary_describes_model(void **state) {
    (void)state;
    /* 3 -> Dense(5, relu) -> Dense(2, softmax): 20 + 12 = 32 parameters. */
    const nn_test_layer layers[] = {{5, NN_ACTIVATION_RELU}, {2, NN_ACTIVATION_SOFTMAX}};
    nn_model *model = nn_test_model(3, 1, 2, layers);
    size_t n = 0;
    char *text = full_summary(model, &n);
    assert_true(nn_test_contains(text, "dense"));
    assert_true(strstr(text, "20") != NULL);
    assert_true(strstr(text, "12") != NULL);
    assert_true(strstr(text, "32") != NULL);
    assert_true(nn_test_contains(text, "param"));
    /* Output shapes (Keras writes "(None, 5)"). */
    assert_true(strstr(text, "5)") != NULL);
    assert_true(strstr(text, "2)") != NULL);

    /* A different model has a different summary. */
    NN_ASSERT_OK(nn_model_add_dense(model, 4, NN_ACTIVATION_LINEAR)); /* +12 = 44 */
    size_t n2 = 0;
    char *text2 = full_summary(model, &n2);
    assert_true(n2 > n);
    assert_true(strstr(text2, "44") != NULL);
    free(text);
    free(text2);
    nn_model_free(model);
}

static void summary_truncates(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{5, NN_ACTIVATION_RELU}, {2, NN_ACTIVATION_SOFTMAX}};
    nn_model *model = nn_test_model(3, 1, 2, layers);
    size_t n = 0;
    char *full = full_summary(model, &n);
    assert_true(n > 12);

    char buffer[16];
    memset(buffer, 'Q', sizeof buffer);
    size_t length = 0;
    NN_ASSERT_OK(nn_model_summary(model, buffer, 10, &length));
    assert_int_equal(length, n);          /* the full length, not what fit */
    assert_int_equal(strlen(buffer), 9);  /* capacity - 1 bytes and the NUL */
    assert_memory_equal(buffer, full, 9);
    assert_int_equal(buffer[10], 'Q');    /* nothing written past capacity */

    memset(buffer, 'Q', sizeof buffer);
    NN_ASSERT_OK(nn_model_summary(model, buffer, 1, NULL));
    assert_int_equal(buffer[0], '\0');
    assert_int_equal(buffer[1], 'Q');

    /* capacity 0: buffer untouched. */
    memset(buffer, 'Q', sizeof buffer);
    length = 0;
    NN_ASSERT_OK(nn_model_summary(model, buffer, 0, &length));
    assert_int_equal(length, n);
    assert_int_equal(buffer[0], 'Q');

    /* Exactly enough room. */
    char *exact = malloc(n + 1);
    assert_non_null(exact);
    NN_ASSERT_OK(nn_model_summary(model, exact, n + 1, NULL));
    assert_string_equal(exact, full);
    /* One byte short: the last character is dropped. */
    NN_ASSERT_OK(nn_model_summary(model, exact, n, NULL));
    assert_int_equal(strlen(exact), n - 1);
    assert_memory_equal(exact, full, n - 1);

    NN_ASSERT_ERROR(nn_model_summary(model, NULL, 5, &length), NN_ERROR_NULL_POINTER,
                    "buffer");
    free(exact);
    free(full);
    nn_model_free(model);
}

/* A huge capacity is still a capacity > 0: the whole text and its NUL. */
static void summary_huge_capacity(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{5, NN_ACTIVATION_RELU}};
    nn_model *model = nn_test_model(3, 1, 1, layers);
    size_t n = 0, length = 0;
    char *full = full_summary(model, &n);
    char *text = malloc(n + 1);
    assert_non_null(text);
    memset(text, 'Q', n + 1);
    NN_ASSERT_OK(nn_model_summary(model, text, SIZE_MAX, &length));
    assert_int_equal(length, n);
    assert_int_equal(text[n], '\0');
    assert_string_equal(text, full);
    free(text);
    free(full);
    nn_model_free(model);
}

static void summary_of_empty_model(void **state) {
    (void)state;
    nn_model *model = nn_test_model(4, 1, 0, NULL);
    size_t n = 0;
    char *text = full_summary(model, &n);
    assert_true(strstr(text, "0") != NULL); /* Total params: 0 */
    free(text);
    nn_model_free(model);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(create_empty_model),
    cmocka_unit_test(create_rejects_bad_arguments),
    cmocka_unit_test(create_and_add_huge_sizes),
    cmocka_unit_test(layers_shapes_and_counts),
    cmocka_unit_test(inspection_rejects_null_out),
    cmocka_unit_test(add_dense_rejects_bad_arguments),
    cmocka_unit_test(dense_options_defaults),
    cmocka_unit_test(add_dense_ex_like_add_dense),
    cmocka_unit_test(add_dense_ex_rejects_bad_options),
    cmocka_unit_test(add_dense_ex_rejects_bad_new_fields),
    cmocka_unit_test(initializer_glorot_uniform),
    cmocka_unit_test(initializer_he_uniform),
    cmocka_unit_test(initializer_glorot_normal),
    cmocka_unit_test(initializer_he_normal),
    cmocka_unit_test(initializer_lecun_uniform),
    cmocka_unit_test(initializer_lecun_normal),
    cmocka_unit_test(initializer_constant_value),
    cmocka_unit_test(initializer_default_is_glorot_uniform),
    cmocka_unit_test(initializer_constants),
    cmocka_unit_test(seed_determines_initial_weights),
    cmocka_unit_test(set_loss_accepts_every_loss),
    cmocka_unit_test(set_loss_rejects_bad_arguments),
    cmocka_unit_test(optimizer_defaults),
    cmocka_unit_test(optimizer_defaults_new_kinds),
    cmocka_unit_test(optimizer_init_rejects_bad_arguments),
    cmocka_unit_test(set_optimizer_rejects_bad_options),
    cmocka_unit_test(set_optimizer_accepts_valid_options),
    cmocka_unit_test(metrics_names_and_counts),
    cmocka_unit_test(summary_describes_model),
    cmocka_unit_test(summary_truncates),
    cmocka_unit_test(summary_huge_capacity),
    cmocka_unit_test(summary_of_empty_model),
};

NN_TEST_MAIN("model", tests)
