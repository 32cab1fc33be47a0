/*
 * Layers beside Dense: nn_model_add_dropout, nn_model_add_batch_normalization,
 * nn_model_add_activation; the activations added in 0.2 (leaky_relu, elu,
 * gelu, softplus, step) through a Dense layer and through an activation
 * layer; kernel regularization (kernel_l1, kernel_l2) in the loss and in
 * the gradient; and the inspection calls that know these layers
 * (nn_model_layer_kind, nn_model_weight_info, layer_info, the summary).
 */
#include "nn_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* f(z) in double, with nn.h's formulas; `parameter` is leaky_relu's slope or
 * elu's alpha. */
static double activate(nn_activation act, double parameter, double z) {
    switch (act) {
    case NN_ACTIVATION_LINEAR: return z;
    case NN_ACTIVATION_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case NN_ACTIVATION_TANH: return tanh(z);
    case NN_ACTIVATION_RELU: return z > 0 ? z : 0;
    case NN_ACTIVATION_LEAKY_RELU: return z > 0 ? z : parameter * z;
    case NN_ACTIVATION_ELU: return z > 0 ? z : parameter * (exp(z) - 1.0);
    case NN_ACTIVATION_GELU: return 0.5 * z * (1.0 + erf(z / sqrt(2.0)));
    case NN_ACTIVATION_SOFTPLUS: return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
    case NN_ACTIVATION_STEP: return z > 0 ? 1.0 : 0.0;
    default: fail_msg("no reference for activation %d", (int)act); return NAN;
    }
}

/* Pre-activations that cover both signs, zero and the tails. */
enum { Z = 10 };
static const float zs[Z] = {-6.0f, -2.5f, -1.0f, -0.3f, 0.0f, 0.2f, 0.7f, 1.0f, 3.0f, 8.0f};

/* A model of 1 input whose Dense(Z) layer outputs zs for x = 1 (kernel zs,
 * bias 0), optionally with `act` as the Dense layer's activation. */
static nn_model *z_model(nn_activation dense_act, double parameter) {
    nn_model *model = nn_test_model(1, 1, 0, NULL);
    nn_dense_options o;
    nn_dense_options_init(&o, Z);
    o.activation = dense_act;
    o.activation_parameter = parameter;
    o.bias_initializer = NN_INIT_ZEROS;
    NN_ASSERT_OK(nn_model_add_dense_ex(model, &o));
    nn_test_set_weight(model, 0, zs, Z);
    return model;
}

static void check_outputs(nn_model *model, nn_activation act, double parameter,
                          const char *what) {
    const float x = 1.0f;
    float *out = nn_test_predict(model, &x, 1, 1);
    for (size_t i = 0; i < Z; i++) {
        double want = activate(act, parameter, zs[i]);
        if (!(fabs(out[i] - want) <= 1e-6 + 2e-6 * fabs(want)))
            fail_msg("%s: f(%g) = %.9g, expected %.9g", what, (double)zs[i], (double)out[i], want);
    }
    free(out);
}

static size_t layer_count(const nn_model *model) {
    size_t n = 0;
    NN_ASSERT_OK(nn_model_layer_count(model, &n));
    return n;
}

static size_t parameter_count(const nn_model *model) {
    size_t n = 0;
    NN_ASSERT_OK(nn_model_parameter_count(model, &n));
    return n;
}

static size_t weight_count(const nn_model *model) {
    size_t n = 0;
    NN_ASSERT_OK(nn_model_weight_count(model, &n));
    return n;
}

/* A model trained for one epoch, so that layers can no longer be added. */
static nn_model *trained_model(void) {
    const nn_test_layer layers[] = {{2, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(2, 1, 1, layers);
    nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, 0.01);
    const float x[4] = {1, 2, 3, 4}, y[4] = {0, 1, 1, 0};
    NN_ASSERT_OK(nn_model_fit(model, x, y, 2, 2, 2, NULL));
    return model;
}

/* ------------------------------------------------------------------------ */
/* Activations added in 0.2                                                 */
/* ------------------------------------------------------------------------ */

/* Each activation as the activation of a Dense layer, with its default
 * parameter and with one given in nn_dense_options.activation_parameter. */
static void dense_new_activations(void **state) {
    (void)state;
    const struct {
        nn_activation act;
        double given;      /* parameter passed (NaN: the default) */
        double effective;  /* the parameter the formula uses */
    } cases[] = {
        {NN_ACTIVATION_LEAKY_RELU, NAN, 0.2},  /* Keras's default slope */
        {NN_ACTIVATION_LEAKY_RELU, 0.01, 0.01},
        {NN_ACTIVATION_LEAKY_RELU, 0.0, 0.0},
        {NN_ACTIVATION_ELU, NAN, 1.0},
        {NN_ACTIVATION_ELU, 0.3, 0.3},
        {NN_ACTIVATION_GELU, NAN, 0},
        {NN_ACTIVATION_SOFTPLUS, NAN, 0},
        {NN_ACTIVATION_STEP, NAN, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        nn_model *model = z_model(cases[c].act, cases[c].given);
        nn_activation act = NN_ACTIVATION_LINEAR;
        NN_ASSERT_OK(nn_model_layer_info(model, 0, NULL, &act));
        assert_int_equal(act, cases[c].act);
        char what[64];
        snprintf(what, sizeof what, "dense activation %d (parameter %g)", (int)cases[c].act,
                 cases[c].given);
        check_outputs(model, cases[c].act, cases[c].effective, what);
        nn_model_free(model);
    }
}

/* The same activations as a layer of their own: the same outputs as inside
 * the Dense layer. */
static void activation_layer_outputs(void **state) {
    (void)state;
    const struct {
        nn_activation act;
        double given, effective;
    } cases[] = {
        {NN_ACTIVATION_LINEAR, NAN, 0},       {NN_ACTIVATION_SIGMOID, NAN, 0},
        {NN_ACTIVATION_TANH, NAN, 0},         {NN_ACTIVATION_RELU, NAN, 0},
        {NN_ACTIVATION_LEAKY_RELU, NAN, 0.2}, {NN_ACTIVATION_LEAKY_RELU, 0.5, 0.5},
        {NN_ACTIVATION_ELU, NAN, 1.0},        {NN_ACTIVATION_ELU, 2.0, 2.0},
        {NN_ACTIVATION_GELU, NAN, 0},         {NN_ACTIVATION_SOFTPLUS, NAN, 0},
        {NN_ACTIVATION_STEP, NAN, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        nn_model *model = z_model(NN_ACTIVATION_LINEAR, NAN);
        NN_ASSERT_OK(nn_model_add_activation(model, cases[c].act, cases[c].given));
        assert_int_equal(layer_count(model), 2);
        assert_int_equal(parameter_count(model), 2 * Z); /* the layer adds no weights */
        assert_int_equal(weight_count(model), 2);
        size_t units = 0;
        nn_activation act = (nn_activation)77;
        nn_layer_kind kind = (nn_layer_kind)0;
        NN_ASSERT_OK(nn_model_layer_info(model, 1, &units, &act));
        NN_ASSERT_OK(nn_model_layer_kind(model, 1, &kind));
        assert_int_equal(units, Z);
        assert_int_equal(act, cases[c].act);
        assert_int_equal(kind, NN_LAYER_ACTIVATION);
        char what[64];
        snprintf(what, sizeof what, "activation layer %d (parameter %g)", (int)cases[c].act,
                 cases[c].given);
        check_outputs(model, cases[c].act, cases[c].effective, what);
        nn_model_free(model);
    }
}

/* Softmax as a layer of its own normalizes each row. */
static void activation_layer_softmax(void **state) {
    (void)state;
    nn_model *model = z_model(NN_ACTIVATION_LINEAR, NAN);
    NN_ASSERT_OK(nn_model_add_activation(model, NN_ACTIVATION_SOFTMAX, NAN));
    const float x = 1.0f;
    float *out = nn_test_predict(model, &x, 1, 1);
    double max = zs[0], sum = 0, total = 0;
    for (size_t i = 1; i < Z; i++) max = zs[i] > max ? zs[i] : max;
    for (size_t i = 0; i < Z; i++) sum += exp(zs[i] - max);
    for (size_t i = 0; i < Z; i++) {
        NN_ASSERT_CLOSE(out[i], exp(zs[i] - max) / sum, 1e-5, 1e-7);
        total += out[i];
    }
    NN_ASSERT_CLOSE(total, 1.0, 0, 1e-5);
    free(out);
    nn_model_free(model);
}

static void add_activation_rejects_bad_arguments(void **state) {
    (void)state;
    nn_model *model = nn_test_model(3, 1, 0, NULL);
    NN_ASSERT_ERROR(nn_model_add_activation(model, (nn_activation)99, NAN),
                    NN_ERROR_INVALID_ARGUMENT, "activation", "99");
    NN_ASSERT_ERROR(nn_model_add_activation(model, (nn_activation)11, NAN),
                    NN_ERROR_INVALID_ARGUMENT, "activation", "11");
    NN_ASSERT_ERROR(nn_model_add_activation(model, (nn_activation)-1, NAN),
                    NN_ERROR_INVALID_ARGUMENT, "activation");
    NN_ASSERT_ERROR(nn_model_add_activation(model, NN_ACTIVATION_LEAKY_RELU, -0.1),
                    NN_ERROR_INVALID_ARGUMENT, "leaky_relu", "slope");
    NN_ASSERT_ERROR(nn_model_add_activation(model, NN_ACTIVATION_LEAKY_RELU, INFINITY),
                    NN_ERROR_INVALID_ARGUMENT, "leaky_relu");
    NN_ASSERT_ERROR(nn_model_add_activation(model, NN_ACTIVATION_ELU, 0.0),
                    NN_ERROR_INVALID_ARGUMENT, "elu", "alpha");
    NN_ASSERT_ERROR(nn_model_add_activation(model, NN_ACTIVATION_ELU, -1.0),
                    NN_ERROR_INVALID_ARGUMENT, "elu", "alpha");
    NN_ASSERT_ERROR(nn_model_add_activation(model, NN_ACTIVATION_TANH, 0.5),
                    NN_ERROR_INVALID_ARGUMENT, "tanh", "no parameter");
    NN_ASSERT_ERROR(nn_model_add_activation(model, NN_ACTIVATION_GELU, 1.0),
                    NN_ERROR_INVALID_ARGUMENT, "gelu", "no parameter");
    assert_int_equal(layer_count(model), 0);
    nn_model_free(model);

    model = trained_model();
    NN_ASSERT_ERROR(nn_model_add_activation(model, NN_ACTIVATION_RELU, NAN),
                    NN_ERROR_INVALID_STATE, "trained");
    assert_int_equal(layer_count(model), 1);
    nn_model_free(model);
}

/* The step activation is for inference: predict and evaluate use it, fit
 * refuses to train through it, in a Dense layer or on its own, with a
 * message that names it. */
static void step_is_refused_by_fit(void **state) {
    (void)state;
    const float x[4] = {-1, 2, 0.5f, -0.5f}, y[4] = {0, 1, 1, 0};
    nn_model *dense = nn_test_model(1, 1, 0, NULL);
    NN_ASSERT_OK(nn_model_add_dense(dense, 1, NN_ACTIVATION_STEP));
    nn_model *layer = nn_test_model(1, 1, 0, NULL);
    NN_ASSERT_OK(nn_model_add_dense(layer, 1, NN_ACTIVATION_LINEAR));
    NN_ASSERT_OK(nn_model_add_activation(layer, NN_ACTIVATION_STEP, NAN));
    nn_model *models[2] = {dense, layer};
    for (int m = 0; m < 2; m++) {
        nn_model *model = models[m];
        const float w = 2.0f, b = -0.5f;
        nn_test_set_weight(model, 0, &w, 1);
        nn_test_set_weight(model, 1, &b, 1);
        nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, 0.1);
        nn_fit_options o = nn_test_fit_options(2, 4, 0);
        NN_ASSERT_ERROR(nn_model_fit(model, x, y, 4, 1, 1, &o), NN_ERROR_INVALID_STATE, "step");
        /* Nothing was trained: layers may still be added. */
        float kernel = 0;
        NN_ASSERT_OK(nn_model_get_weight(model, 0, &kernel, 1));
        assert_true(kernel == w);
        /* Inference works: 2x - 0.5 > 0 for x = 2 and 0.5 only. */
        float *out = nn_test_predict(model, x, 4, 1);
        assert_true(out[0] == 0.0f && out[1] == 1.0f && out[2] == 1.0f && out[3] == 0.0f);
        free(out);
        double loss = -1;
        NN_ASSERT_OK(nn_model_evaluate(model, x, y, 4, 1, 1, &loss, 1));
        NN_ASSERT_CLOSE(loss, 0.0, 0, 1e-12);
        NN_ASSERT_OK(nn_model_add_dense(model, 1, NN_ACTIVATION_LINEAR));
    }
    nn_model_free(dense);
    nn_model_free(layer);
}

/* Training through each differentiable new activation lowers the loss
 * (their gradients point downhill). */
static void new_activations_train(void **state) {
    (void)state;
    enum { N = 64 };
    float x[N * 2], y[N];
    nn_test_rng rng = {17};
    nn_test_fill(&rng, x, N * 2, -1.5f, 1.5f);
    for (size_t i = 0; i < N; i++) y[i] = sinf(x[2 * i]) + 0.5f * x[2 * i + 1] * x[2 * i + 1];
    const nn_activation acts[] = {NN_ACTIVATION_LEAKY_RELU, NN_ACTIVATION_ELU,
                                  NN_ACTIVATION_GELU, NN_ACTIVATION_SOFTPLUS};
    for (size_t a = 0; a < 4; a++) {
        const nn_test_layer layers[] = {{16, acts[a]}, {1, NN_ACTIVATION_LINEAR}};
        nn_model *model = nn_test_model(2, 5, 2, layers);
        nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_ADAM, 0.02);
        double before = 0, after = 0;
        NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, 2, 1, &before, 1));
        nn_fit_options o = nn_test_fit_options(60, 16, 1);
        NN_ASSERT_OK(nn_model_fit(model, x, y, N, 2, 1, &o));
        NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, 2, 1, &after, 1));
        if (!(after < 0.5 * before))
            fail_msg("activation %d: loss %g -> %g after 60 epochs", (int)acts[a], before, after);
        nn_model_free(model);
    }
}

/* ------------------------------------------------------------------------ */
/* Dropout                                                                  */
/* ------------------------------------------------------------------------ */

static void add_dropout_shapes(void **state) {
    (void)state;
    nn_model *model = nn_test_model(5, 1, 0, NULL);
    NN_ASSERT_OK(nn_model_add_dropout(model, 0.0));   /* on the inputs, rate 0 allowed */
    NN_ASSERT_OK(nn_model_add_dense(model, 3, NN_ACTIVATION_RELU));
    NN_ASSERT_OK(nn_model_add_dropout(model, 0.5));
    NN_ASSERT_OK(nn_model_add_dropout(model, 0.999)); /* just below 1 */
    assert_int_equal(layer_count(model), 4);
    assert_int_equal(parameter_count(model), 5 * 3 + 3);
    assert_int_equal(weight_count(model), 2);
    size_t v = 0;
    NN_ASSERT_OK(nn_model_output_dim(model, &v));
    assert_int_equal(v, 3);
    const nn_layer_kind kinds[4] = {NN_LAYER_DROPOUT, NN_LAYER_DENSE, NN_LAYER_DROPOUT,
                                    NN_LAYER_DROPOUT};
    const size_t units[4] = {5, 3, 3, 3};
    for (size_t i = 0; i < 4; i++) {
        nn_layer_kind kind = (nn_layer_kind)0;
        size_t u = 0;
        nn_activation act = (nn_activation)77;
        NN_ASSERT_OK(nn_model_layer_kind(model, i, &kind));
        NN_ASSERT_OK(nn_model_layer_info(model, i, &u, &act));
        assert_int_equal(kind, kinds[i]);
        assert_int_equal(u, units[i]);
        assert_int_equal(act, i == 1 ? NN_ACTIVATION_RELU : NN_ACTIVATION_LINEAR);
    }
    nn_model_free(model);
}

static void add_dropout_rejects_bad_rates(void **state) {
    (void)state;
    nn_model *model = nn_test_model(4, 1, 0, NULL);
    NN_ASSERT_ERROR(nn_model_add_dropout(model, 1.0), NN_ERROR_INVALID_ARGUMENT, "rate", "1");
    NN_ASSERT_ERROR(nn_model_add_dropout(model, 1.5), NN_ERROR_INVALID_ARGUMENT, "rate", "1.5");
    NN_ASSERT_ERROR(nn_model_add_dropout(model, -0.1), NN_ERROR_INVALID_ARGUMENT, "rate",
                    "-0.1");
    NN_ASSERT_ERROR(nn_model_add_dropout(model, NAN), NN_ERROR_INVALID_ARGUMENT, "rate", "nan");
    NN_ASSERT_ERROR(nn_model_add_dropout(model, INFINITY), NN_ERROR_INVALID_ARGUMENT, "rate");
    assert_int_equal(layer_count(model), 0);
    nn_model_free(model);

    model = trained_model();
    NN_ASSERT_ERROR(nn_model_add_dropout(model, 0.5), NN_ERROR_INVALID_STATE, "trained");
    assert_int_equal(layer_count(model), 1);
    nn_model_free(model);
}

/* In predict and evaluate a dropout layer passes its inputs through: the
 * outputs equal those of the same model without it. */
static void dropout_is_identity_in_inference(void **state) {
    (void)state;
    enum { N = 20, IN = 4 };
    const nn_test_layer layers[] = {{6, NN_ACTIVATION_TANH}, {3, NN_ACTIVATION_SOFTMAX}};
    nn_model *plain = nn_test_model(IN, 42, 2, layers);
    nn_model *dropped = nn_test_model(IN, 42, 0, NULL);
    NN_ASSERT_OK(nn_model_add_dropout(dropped, 0.3));
    NN_ASSERT_OK(nn_model_add_dense(dropped, 6, NN_ACTIVATION_TANH));
    NN_ASSERT_OK(nn_model_add_dropout(dropped, 0.9));
    NN_ASSERT_OK(nn_model_add_dense(dropped, 3, NN_ACTIVATION_SOFTMAX));
    /* The same weights in both. */
    for (size_t i = 0; i < 4; i++) {
        float w[IN * 6];
        size_t n = nn_test_weight_size(plain, i);
        NN_ASSERT_OK(nn_model_get_weight(plain, i, w, n));
        nn_test_set_weight(dropped, i, w, n);
    }
    float x[N * IN], y[N];
    nn_test_rng rng = {3};
    nn_test_fill(&rng, x, N * IN, -2, 2);
    for (size_t i = 0; i < N; i++) y[i] = (float)(i % 3);
    float *a = nn_test_predict(plain, x, N, IN);
    float *b = nn_test_predict(dropped, x, N, IN);
    assert_memory_equal(a, b, N * 3 * sizeof(float));
    /* Predicting twice gives the same outputs: no mask is drawn. */
    float *c = nn_test_predict(dropped, x, N, IN);
    assert_memory_equal(b, c, N * 3 * sizeof(float));
    NN_ASSERT_OK(nn_model_set_loss(plain, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0));
    NN_ASSERT_OK(nn_model_set_loss(dropped, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0));
    double la = 0, lb = 0;
    NN_ASSERT_OK(nn_model_evaluate(plain, x, y, N, IN, 1, &la, 1));
    NN_ASSERT_OK(nn_model_evaluate(dropped, x, y, N, IN, 1, &lb, 1));
    assert_true(la == lb);
    free(a);
    free(b);
    free(c);
    nn_model_free(plain);
    nn_model_free(dropped);
}

/* In training, dropout zeroes inputs with probability rate and scales the
 * others by 1 / (1 - rate). Model: x = 1 (all columns) -> Dense(identity)
 * -> Dropout(rate); target 0. On the one batch of an epoch, the training
 * outputs are mask / (1 - rate), so the logged MSE loss is
 * kept / (1 - rate)^2 and the logged mean_absolute_error metric (same
 * forward pass) kept / (1 - rate), kept being the fraction not dropped:
 * loss / mae = 1 / (1 - rate) exactly, and mae ~ 1. */
static void dropout_scales_kept_inputs_in_training(void **state) {
    (void)state;
    enum { N = 500, W = 8 };
    const double rates[] = {0.25, 0.5, 0.8};
    float *x = malloc(N * W * sizeof *x), *y = calloc(N * W, sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    for (size_t i = 0; i < N * W; i++) x[i] = 1.0f;
    float identity[W * W];
    for (size_t i = 0; i < W * W; i++) identity[i] = i % (W + 1) == 0 ? 1.0f : 0.0f;
    for (size_t r = 0; r < 3; r++) {
        nn_model *model = nn_test_model(W, 100 + r, 0, NULL);
        NN_ASSERT_OK(nn_model_add_dense(model, W, NN_ACTIVATION_LINEAR));
        NN_ASSERT_OK(nn_model_add_dropout(model, rates[r]));
        nn_test_set_weight(model, 0, identity, W * W);
        nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, 1e-6);
        NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_MEAN_ABSOLUTE_ERROR));
        nn_test_history h;
        nn_test_history_init(&h);
        nn_fit_options o = nn_test_fit_options(1, N, 0);
        nn_test_record_into(&o, &h);
        NN_ASSERT_OK(nn_model_fit(model, x, y, N, W, W, &o));
        double loss = nn_test_log(&h, 0, "loss");
        double mae = nn_test_log(&h, 0, "mean_absolute_error");
        double kept = mae * (1.0 - rates[r]);
        /* 4000 Bernoulli draws: the kept fraction is within 5 standard
         * deviations of 1 - rate. */
        double sd = sqrt(rates[r] * (1 - rates[r]) / (N * W));
        if (!(fabs(kept - (1 - rates[r])) <= 5 * sd))
            fail_msg("rate %g: kept fraction %g, expected about %g", rates[r], kept,
                     1 - rates[r]);
        NN_ASSERT_CLOSE(loss / mae, 1.0 / (1.0 - rates[r]), 1e-5, 0);
        /* And inference ignores dropout: evaluate's loss is that of x itself. */
        double values[2];
        NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, W, W, values, 2));
        NN_ASSERT_CLOSE(values[0], 1.0, 1e-4, 0);
        NN_ASSERT_CLOSE(values[1], 1.0, 1e-4, 0);
        nn_model_free(model);
    }
    free(x);
    free(y);
}

/* Dropout of rate 0 changes nothing in training either; a positive rate
 * changes the trajectory; the masks come from the model's generator, so
 * the same seed gives the same training. */
static void dropout_training_and_seeds(void **state) {
    (void)state;
    enum { N = 32, IN = 3 };
    float x[N * IN], y[N];
    nn_test_rng rng = {8};
    nn_test_fill(&rng, x, N * IN, -1, 1);
    for (size_t i = 0; i < N; i++) y[i] = x[3 * i] - 2 * x[3 * i + 1] + x[3 * i + 2];
    nn_model *m[4];
    const double rates[4] = {-1, 0.0, 0.5, 0.5}; /* -1: no dropout layer */
    for (int i = 0; i < 4; i++) {
        m[i] = nn_test_model(IN, 77, 0, NULL);
        NN_ASSERT_OK(nn_model_add_dense(m[i], 8, NN_ACTIVATION_TANH));
        if (rates[i] >= 0) NN_ASSERT_OK(nn_model_add_dropout(m[i], rates[i]));
        NN_ASSERT_OK(nn_model_add_dense(m[i], 1, NN_ACTIVATION_LINEAR));
        nn_test_compile(m[i], NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, 0.05);
        nn_fit_options o = nn_test_fit_options(3, 8, 0);
        NN_ASSERT_OK(nn_model_fit(m[i], x, y, N, IN, 1, &o));
    }
    size_t n0 = 0, n1 = 0;
    float *w0 = nn_test_weights(m[0], &n0), *w1 = nn_test_weights(m[1], &n1);
    float *w2 = nn_test_weights(m[2], NULL), *w3 = nn_test_weights(m[3], NULL);
    assert_int_equal(n0, n1);
    assert_memory_equal(w0, w1, n0 * sizeof(float));
    assert_memory_not_equal(w0, w2, n0 * sizeof(float));
    assert_memory_equal(w2, w3, n0 * sizeof(float));
    free(w0);
    free(w1);
    free(w2);
    free(w3);
    for (int i = 0; i < 4; i++) nn_model_free(m[i]);
}

/* ------------------------------------------------------------------------ */
/* Batch normalization                                                      */
/* ------------------------------------------------------------------------ */

static void batch_normalization_weights(void **state) {
    (void)state;
    nn_model *model = nn_test_model(3, 1, 0, NULL);
    NN_ASSERT_OK(nn_model_add_dense(model, 4, NN_ACTIVATION_LINEAR));
    NN_ASSERT_OK(nn_model_add_batch_normalization(model, 0.1, 1e-5));
    NN_ASSERT_OK(nn_model_add_activation(model, NN_ACTIVATION_RELU, NAN));
    assert_int_equal(layer_count(model), 3);
    /* gamma and beta are trained; the running statistics are not counted. */
    assert_int_equal(parameter_count(model), 3 * 4 + 4 + 4 + 4);
    assert_int_equal(weight_count(model), 6);

    const char *const names[6] = {"kernel", "bias", "gamma", "beta", "moving_mean",
                                  "moving_variance"};
    const int trainable[6] = {1, 1, 1, 1, 0, 0};
    const float initial[4] = {1, 0, 0, 1}; /* gamma, beta, mean, variance */
    for (size_t i = 0; i < 6; i++) {
        const char *name = NULL;
        int flag = -1;
        NN_ASSERT_OK(nn_model_weight_info(model, i, &name, &flag));
        assert_non_null(name);
        assert_string_equal(name, names[i]);
        assert_int_equal(flag, trainable[i]);
        /* Either out-pointer may be NULL. */
        flag = -1;
        NN_ASSERT_OK(nn_model_weight_info(model, i, NULL, &flag));
        assert_int_equal(flag, trainable[i]);
        name = NULL;
        NN_ASSERT_OK(nn_model_weight_info(model, i, &name, NULL));
        assert_string_equal(name, names[i]);
        NN_ASSERT_OK(nn_model_weight_info(model, i, NULL, NULL));
        if (i >= 2) {
            size_t ndim = 0, dims[NN_MAX_DIMS] = {0};
            NN_ASSERT_OK(nn_model_weight_shape(model, i, &ndim, dims, NN_MAX_DIMS));
            assert_int_equal(ndim, 1);
            assert_int_equal(dims[0], 4);
            float v[4];
            NN_ASSERT_OK(nn_model_get_weight(model, i, v, 4));
            for (size_t j = 0; j < 4; j++) assert_true(v[j] == initial[i - 2]);
        }
    }
    nn_layer_kind kind = (nn_layer_kind)0;
    NN_ASSERT_OK(nn_model_layer_kind(model, 1, &kind));
    assert_int_equal(kind, NN_LAYER_BATCH_NORMALIZATION);
    size_t units = 0;
    nn_activation act = (nn_activation)77;
    NN_ASSERT_OK(nn_model_layer_info(model, 1, &units, &act));
    assert_int_equal(units, 4);
    assert_int_equal(act, NN_ACTIVATION_LINEAR);
    nn_model_free(model);
}

static void add_batch_normalization_rejects_bad_arguments(void **state) {
    (void)state;
    nn_model *model = nn_test_model(3, 1, 0, NULL);
    NN_ASSERT_ERROR(nn_model_add_batch_normalization(model, -1.0, 1e-5),
                    NN_ERROR_INVALID_ARGUMENT, "momentum", "-1");
    NN_ASSERT_ERROR(nn_model_add_batch_normalization(model, 1.5, 1e-5),
                    NN_ERROR_INVALID_ARGUMENT, "momentum", "1.5");
    NN_ASSERT_ERROR(nn_model_add_batch_normalization(model, NAN, 1e-5),
                    NN_ERROR_INVALID_ARGUMENT, "momentum");
    NN_ASSERT_ERROR(nn_model_add_batch_normalization(model, 0.1, 0.0),
                    NN_ERROR_INVALID_ARGUMENT, "epsilon", "0");
    NN_ASSERT_ERROR(nn_model_add_batch_normalization(model, 0.1, -1e-3),
                    NN_ERROR_INVALID_ARGUMENT, "epsilon");
    NN_ASSERT_ERROR(nn_model_add_batch_normalization(model, 0.1, INFINITY),
                    NN_ERROR_INVALID_ARGUMENT, "epsilon");
    NN_ASSERT_ERROR(nn_model_add_batch_normalization(model, 0.1, NAN),
                    NN_ERROR_INVALID_ARGUMENT, "epsilon");
    assert_int_equal(layer_count(model), 0);
    /* The ends of the momentum range are allowed. */
    NN_ASSERT_OK(nn_model_add_batch_normalization(model, 0.0, 1e-3));
    NN_ASSERT_OK(nn_model_add_batch_normalization(model, 1.0, 1e-3));
    assert_int_equal(layer_count(model), 2);
    nn_model_free(model);

    model = trained_model();
    NN_ASSERT_ERROR(nn_model_add_batch_normalization(model, 0.1, 1e-5), NN_ERROR_INVALID_STATE,
                    "trained");
    nn_model_free(model);
}

/* A moving_variance must be >= 0 (and finite, like every weight). */
static void batch_normalization_set_weight_checks(void **state) {
    (void)state;
    nn_model *model = nn_test_model(2, 1, 0, NULL);
    NN_ASSERT_OK(nn_model_add_batch_normalization(model, 0.1, 1e-5));
    const float bad[2] = {1.0f, -0.5f}, ok[2] = {0.0f, 2.0f};
    NN_ASSERT_ERROR(nn_model_set_weight(model, 3, bad, 2), NN_ERROR_INVALID_ARGUMENT,
                    "moving_variance");
    const float nan[2] = {NAN, 1.0f};
    NN_ASSERT_ERROR(nn_model_set_weight(model, 3, nan, 2), NN_ERROR_NON_FINITE, "weight 3");
    float v[2];
    NN_ASSERT_OK(nn_model_get_weight(model, 3, v, 2));
    assert_true(v[0] == 1.0f && v[1] == 1.0f); /* unchanged */
    /* A negative mean, gamma or beta is fine; a zero variance too. */
    NN_ASSERT_OK(nn_model_set_weight(model, 2, bad, 2));
    NN_ASSERT_OK(nn_model_set_weight(model, 0, bad, 2));
    NN_ASSERT_OK(nn_model_set_weight(model, 3, ok, 2));
    nn_model_free(model);
}

/* In predict, y = gamma (x - moving_mean) / sqrt(moving_variance + eps) + beta
 * with the statistics set by nn_model_set_weight. */
static void batch_normalization_predict_uses_running_stats(void **state) {
    (void)state;
    enum { N = 5, F = 3 };
    const double eps = 1e-3;
    nn_model *model = nn_test_model(F, 1, 0, NULL);
    NN_ASSERT_OK(nn_model_add_batch_normalization(model, 0.1, eps));
    const float gamma[F] = {2.0f, -0.5f, 1.0f}, beta[F] = {0.1f, 0.0f, -3.0f};
    const float mean[F] = {1.0f, -2.0f, 0.5f}, var[F] = {4.0f, 0.25f, 0.0f};
    nn_test_set_weight(model, 0, gamma, F);
    nn_test_set_weight(model, 1, beta, F);
    nn_test_set_weight(model, 2, mean, F);
    nn_test_set_weight(model, 3, var, F);
    float x[N * F];
    nn_test_rng rng = {9};
    nn_test_fill(&rng, x, N * F, -3, 3);
    float *out = nn_test_predict(model, x, N, F);
    for (size_t r = 0; r < N; r++)
        for (size_t f = 0; f < F; f++) {
            double want = gamma[f] * (x[r * F + f] - mean[f]) / sqrt(var[f] + eps) + beta[f];
            NN_ASSERT_CLOSE(out[r * F + f], want, 1e-5, 1e-5);
        }
    /* One row at a time gives the same outputs: no batch statistics. */
    for (size_t r = 0; r < N; r++) {
        float *one = nn_test_predict(model, x + r * F, 1, F);
        for (size_t f = 0; f < F; f++) NN_ASSERT_CLOSE(one[f], out[r * F + f], 1e-6, 1e-6);
        free(one);
    }
    free(out);
    nn_model_free(model);
}

/* Training normalizes with the batch statistics (biased variance) and
 * updates the running ones: r = (1 - momentum) r + momentum * batch value,
 * with the unbiased variance. Model: x -> BatchNorm, MSE against 0, one
 * full batch: the logged loss is mean_f var_f / (var_f + eps), and after
 * the epoch the running mean is momentum * mean_f and the running variance
 * (1 - momentum) + momentum * unbiased var_f. */
static void batch_normalization_training_statistics(void **state) {
    (void)state;
    enum { N = 16, F = 3 };
    const double momentum = 0.3, eps = 0.5;
    nn_model *model = nn_test_model(F, 1, 0, NULL);
    NN_ASSERT_OK(nn_model_add_batch_normalization(model, momentum, eps));
    nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, 0.01);
    float x[N * F], y[N * F];
    nn_test_rng rng = {10};
    for (size_t r = 0; r < N; r++)
        for (size_t f = 0; f < F; f++) {
            x[r * F + f] = (float)(f + 1) * nn_test_uniform(&rng, -1, 1) + (float)f - 1.0f;
            y[r * F + f] = 0.0f;
        }
    double mu[F], biased[F], unbiased[F], want_loss = 0;
    for (size_t f = 0; f < F; f++) {
        double s = 0, ss = 0;
        for (size_t r = 0; r < N; r++) s += x[r * F + f];
        mu[f] = s / N;
        for (size_t r = 0; r < N; r++) ss += (x[r * F + f] - mu[f]) * (x[r * F + f] - mu[f]);
        biased[f] = ss / N;
        unbiased[f] = ss / (N - 1);
        want_loss += biased[f] / (biased[f] + eps);
    }
    want_loss /= F;

    nn_test_history h;
    nn_test_history_init(&h);
    nn_fit_options o = nn_test_fit_options(1, N, 0);
    nn_test_record_into(&o, &h);
    NN_ASSERT_OK(nn_model_fit(model, x, y, N, F, F, &o));
    NN_ASSERT_CLOSE(nn_test_log(&h, 0, "loss"), want_loss, 1e-5, 1e-7);

    float mm[F], mv[F], gamma[F], beta[F];
    NN_ASSERT_OK(nn_model_get_weight(model, 0, gamma, F));
    NN_ASSERT_OK(nn_model_get_weight(model, 1, beta, F));
    NN_ASSERT_OK(nn_model_get_weight(model, 2, mm, F));
    NN_ASSERT_OK(nn_model_get_weight(model, 3, mv, F));
    for (size_t f = 0; f < F; f++) {
        NN_ASSERT_CLOSE(mm[f], momentum * mu[f], 1e-5, 1e-6);
        NN_ASSERT_CLOSE(mv[f], (1 - momentum) * 1.0 + momentum * unbiased[f], 1e-5, 1e-6);
        /* d loss / d gamma = 2/(N F) sum xhat^2 gamma > 0: gamma went down. */
        assert_true(gamma[f] < 1.0f);
    }
    /* Inference now uses the updated running statistics. */
    float *out = nn_test_predict(model, x, N, F);
    for (size_t r = 0; r < N; r++)
        for (size_t f = 0; f < F; f++) {
            double want = gamma[f] * (x[r * F + f] - mm[f]) / sqrt(mv[f] + eps) + beta[f];
            NN_ASSERT_CLOSE(out[r * F + f], want, 1e-5, 1e-5);
        }
    free(out);
    nn_model_free(model);
}

/* A network with batch normalization and dropout learns (a smoke test of
 * their backward passes together with Dense). */
static void batch_normalization_network_learns(void **state) {
    (void)state;
    enum { N = 90 };
    float x[N * 2], y[N];
    nn_test_rng rng = {11};
    for (size_t i = 0; i < N; i++) {
        size_t c = i % 3;
        x[2 * i] = 10.0f * (float)c + nn_test_uniform(&rng, -3, 3) + 50.0f; /* badly scaled */
        x[2 * i + 1] = (float)(2 - c) * 0.1f + nn_test_uniform(&rng, -0.05f, 0.05f);
        y[i] = (float)c;
    }
    nn_model *model = nn_test_model(2, 12, 0, NULL);
    NN_ASSERT_OK(nn_model_add_batch_normalization(model, 0.1, 1e-5));
    NN_ASSERT_OK(nn_model_add_dense(model, 16, NN_ACTIVATION_LINEAR));
    NN_ASSERT_OK(nn_model_add_batch_normalization(model, 0.1, 1e-5));
    NN_ASSERT_OK(nn_model_add_activation(model, NN_ACTIVATION_RELU, NAN));
    NN_ASSERT_OK(nn_model_add_dropout(model, 0.1));
    NN_ASSERT_OK(nn_model_add_dense(model, 3, NN_ACTIVATION_SOFTMAX));
    nn_test_compile(model, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_ADAM, 0.02);
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_ACCURACY));
    nn_fit_options o = nn_test_fit_options(40, 15, 1);
    NN_ASSERT_OK(nn_model_fit(model, x, y, N, 2, 1, &o));
    double values[2];
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, 2, 1, values, 2));
    if (!(values[1] >= 0.95)) fail_msg("accuracy %g after 40 epochs (loss %g)", values[1], values[0]);
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Kernel regularization                                                    */
/* ------------------------------------------------------------------------ */

/* evaluate's loss adds l1 * sum |W| + l2 * sum W^2 of every kernel (not of
 * the biases), as Keras adds regularization losses. */
static void regularization_in_evaluate(void **state) {
    (void)state;
    enum { N = 6, IN = 3, H = 2 };
    const double l1[2] = {0.01, 0.0}, l2[2] = {0.05, 0.2};
    nn_model *model = nn_test_model(IN, 4, 0, NULL);
    for (size_t i = 0; i < 2; i++) {
        nn_dense_options o;
        nn_dense_options_init(&o, i == 0 ? H : 1);
        o.activation = i == 0 ? NN_ACTIVATION_TANH : NN_ACTIVATION_LINEAR;
        o.kernel_l1 = l1[i];
        o.kernel_l2 = l2[i];
        NN_ASSERT_OK(nn_model_add_dense_ex(model, &o));
    }
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_MEAN_SQUARED_ERROR, 0));
    const float k0[IN * H] = {0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f}, b0[H] = {3.0f, -4.0f};
    const float k1[H] = {-2.0f, 0.5f}, b1 = 10.0f;
    nn_test_set_weight(model, 0, k0, IN * H);
    nn_test_set_weight(model, 1, b0, H);
    nn_test_set_weight(model, 2, k1, H);
    nn_test_set_weight(model, 3, &b1, 1);
    float x[N * IN], y[N];
    nn_test_rng rng = {12};
    nn_test_fill(&rng, x, N * IN, -1, 1);
    nn_test_fill(&rng, y, N, -1, 1);
    double data = 0;
    for (size_t r = 0; r < N; r++) {
        double p = b1;
        for (size_t j = 0; j < H; j++) {
            double z = b0[j];
            for (size_t i = 0; i < IN; i++) z += x[r * IN + i] * k0[i * H + j];
            p += tanh(z) * k1[j];
        }
        data += (p - y[r]) * (p - y[r]);
    }
    data /= N;
    double penalty = 0;
    for (size_t i = 0; i < IN * H; i++) penalty += l1[0] * fabs(k0[i]) + l2[0] * k0[i] * k0[i];
    for (size_t i = 0; i < H; i++) penalty += l2[1] * k1[i] * k1[i];
    double got = 0;
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, IN, 1, &got, 1));
    NN_ASSERT_CLOSE(got, data + penalty, 1e-5, 1e-6);
    /* The penalty is part of the training loss too: one full batch, the
     * logged loss is the loss before the step. */
    nn_optimizer_options sgd;
    NN_ASSERT_OK(nn_optimizer_options_init(&sgd, NN_OPTIMIZER_SGD));
    NN_ASSERT_OK(nn_model_set_optimizer(model, &sgd));
    nn_test_history h;
    nn_test_history_init(&h);
    nn_fit_options o = nn_test_fit_options(1, N, 0);
    nn_test_record_into(&o, &h);
    NN_ASSERT_OK(nn_model_fit(model, x, y, N, IN, 1, &o));
    NN_ASSERT_CLOSE(nn_test_log(&h, 0, "loss"), data + penalty, 1e-5, 1e-6);
    nn_model_free(model);
}

/* The penalty's gradient: with predictions equal to the targets the data
 * gradient is 0, so one SGD step (lr) moves each kernel weight by
 * -lr (l1 sign(w) + 2 l2 w) and leaves the bias alone. */
static void regularization_gradient(void **state) {
    (void)state;
    enum { N = 4, IN = 2 };
    const double lr = 0.1, l1 = 0.05, l2 = 0.25;
    nn_model *model = nn_test_model(IN, 1, 0, NULL);
    nn_dense_options o;
    nn_dense_options_init(&o, 1);
    o.kernel_l1 = l1;
    o.kernel_l2 = l2;
    NN_ASSERT_OK(nn_model_add_dense_ex(model, &o));
    nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, lr);
    const float w[IN] = {1.5f, -0.5f}, b = 0.25f;
    nn_test_set_weight(model, 0, w, IN);
    nn_test_set_weight(model, 1, &b, 1);
    const float x[N * IN] = {1, 0, 0, 1, 0.5f, 0.5f, -1, 2};
    float y[N];
    float *p = nn_test_predict(model, x, N, IN); /* targets = predictions */
    memcpy(y, p, sizeof y);
    free(p);
    nn_fit_options f = nn_test_fit_options(1, N, 0);
    NN_ASSERT_OK(nn_model_fit(model, x, y, N, IN, 1, &f));
    float after[IN], bias = 0;
    NN_ASSERT_OK(nn_model_get_weight(model, 0, after, IN));
    NN_ASSERT_OK(nn_model_get_weight(model, 1, &bias, 1));
    for (size_t i = 0; i < IN; i++) {
        double sign = w[i] > 0 ? 1.0 : -1.0;
        NN_ASSERT_CLOSE(after[i], w[i] - lr * (l1 * sign + 2 * l2 * w[i]), 1e-5, 1e-6);
    }
    NN_ASSERT_CLOSE(bias, b, 0, 1e-6);
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Inspection of layers and weights                                         */
/* ------------------------------------------------------------------------ */

static void layer_kind_rejects_bad_arguments(void **state) {
    (void)state;
    nn_model *model = nn_test_model(3, 1, 0, NULL);
    nn_layer_kind kind = (nn_layer_kind)77;
    NN_ASSERT_ERROR(nn_model_layer_kind(model, 0, &kind), NN_ERROR_INVALID_ARGUMENT, "0");
    NN_ASSERT_OK(nn_model_add_dense(model, 2, NN_ACTIVATION_RELU));
    NN_ASSERT_OK(nn_model_layer_kind(model, 0, &kind));
    assert_int_equal(kind, NN_LAYER_DENSE);
    kind = (nn_layer_kind)77;
    NN_ASSERT_ERROR(nn_model_layer_kind(model, 1, &kind), NN_ERROR_INVALID_ARGUMENT, "1");
    NN_ASSERT_ERROR(nn_model_layer_kind(model, SIZE_MAX, &kind), NN_ERROR_INVALID_ARGUMENT,
                    "18446744073709551615");
    assert_int_equal(kind, 77); /* written only on success */
    NN_ASSERT_ERROR(nn_model_layer_kind(model, 0, NULL), NN_ERROR_NULL_POINTER, "out");
    nn_model_free(model);
}

static void weight_info_rejects_bad_arguments(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{2, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(3, 1, 1, layers);
    const char *name = "sentinel";
    int flag = 77;
    NN_ASSERT_OK(nn_model_weight_info(model, 1, &name, &flag));
    assert_string_equal(name, "bias");
    assert_int_equal(flag, 1);
    name = "sentinel";
    flag = 77;
    NN_ASSERT_ERROR(nn_model_weight_info(model, 2, &name, &flag), NN_ERROR_INVALID_ARGUMENT,
                    "2");
    NN_ASSERT_ERROR(nn_model_weight_info(model, SIZE_MAX, &name, &flag),
                    NN_ERROR_INVALID_ARGUMENT, "18446744073709551615");
    assert_string_equal(name, "sentinel");
    assert_int_equal(flag, 77);
    nn_model_free(model);
    /* A model without weights has no index 0. */
    model = nn_test_model(3, 1, 0, NULL);
    NN_ASSERT_OK(nn_model_add_dropout(model, 0.2));
    NN_ASSERT_ERROR(nn_model_weight_info(model, 0, &name, &flag), NN_ERROR_INVALID_ARGUMENT,
                    "0");
    nn_model_free(model);
}

/* The summary lists the new layers with Keras's names and counts the
 * running statistics as non-trainable parameters. */
static void summary_lists_new_layers(void **state) {
    (void)state;
    nn_model *model = nn_test_model(3, 1, 0, NULL);
    NN_ASSERT_OK(nn_model_add_dense(model, 4, NN_ACTIVATION_LINEAR));   /* 16 */
    NN_ASSERT_OK(nn_model_add_batch_normalization(model, 0.1, 1e-5));  /* 8 + 8 */
    NN_ASSERT_OK(nn_model_add_activation(model, NN_ACTIVATION_ELU, NAN));
    NN_ASSERT_OK(nn_model_add_dropout(model, 0.25));
    NN_ASSERT_OK(nn_model_add_dense(model, 2, NN_ACTIVATION_SOFTMAX));  /* 10 */
    size_t n = 0;
    NN_ASSERT_OK(nn_model_summary(model, NULL, 0, &n));
    char *text = malloc(n + 1);
    assert_non_null(text);
    NN_ASSERT_OK(nn_model_summary(model, text, n + 1, NULL));
    assert_true(nn_test_contains(text, "batch_normalization"));
    assert_true(nn_test_contains(text, "dropout"));
    assert_true(nn_test_contains(text, "activation"));
    assert_true(strstr(text, "42") != NULL); /* total */
    assert_true(strstr(text, "34") != NULL); /* trainable */
    assert_true(nn_test_contains(text, "non-trainable"));
    free(text);
    nn_model_free(model);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(dense_new_activations),
    cmocka_unit_test(activation_layer_outputs),
    cmocka_unit_test(activation_layer_softmax),
    cmocka_unit_test(add_activation_rejects_bad_arguments),
    cmocka_unit_test(step_is_refused_by_fit),
    cmocka_unit_test(new_activations_train),
    cmocka_unit_test(add_dropout_shapes),
    cmocka_unit_test(add_dropout_rejects_bad_rates),
    cmocka_unit_test(dropout_is_identity_in_inference),
    cmocka_unit_test(dropout_scales_kept_inputs_in_training),
    cmocka_unit_test(dropout_training_and_seeds),
    cmocka_unit_test(batch_normalization_weights),
    cmocka_unit_test(add_batch_normalization_rejects_bad_arguments),
    cmocka_unit_test(batch_normalization_set_weight_checks),
    cmocka_unit_test(batch_normalization_predict_uses_running_stats),
    cmocka_unit_test(batch_normalization_training_statistics),
    cmocka_unit_test(batch_normalization_network_learns),
    cmocka_unit_test(regularization_in_evaluate),
    cmocka_unit_test(regularization_gradient),
    cmocka_unit_test(layer_kind_rejects_bad_arguments),
    cmocka_unit_test(weight_info_rejects_bad_arguments),
    cmocka_unit_test(summary_lists_new_layers),
};

NN_TEST_MAIN("layers", tests)
