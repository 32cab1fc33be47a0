/*
 * Losses added in 0.2 and their options: nn_loss_options_init,
 * nn_model_set_loss_ex, mean absolute error and Huber (with its delta)
 * against double-precision references, in evaluate and in the gradient of
 * one SGD step; bad options.
 */
#include "nn_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N = 10, IN = 3, OUT = 2 };

/* A linear IN -> OUT model with fixed weights, and data whose errors
 * p - y cover small and large magnitudes of both signs. */
static const float kernel[IN * OUT] = {0.5f, -1.0f, 1.5f, 0.25f, -0.75f, 2.0f};
static const float bias[OUT] = {0.1f, -0.2f};

static nn_model *linear_model(void) {
    const nn_test_layer layers[] = {{OUT, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(IN, 1, 1, layers);
    nn_test_set_weight(model, 0, kernel, IN * OUT);
    nn_test_set_weight(model, 1, bias, OUT);
    return model;
}

static void data(float *x, float *y) {
    nn_test_rng rng = {21};
    nn_test_fill(&rng, x, N * IN, -1.0f, 1.0f);
    nn_test_fill(&rng, y, N * OUT, -3.0f, 3.0f);
}

/* p = x W + b in double. */
static void predictions(const float *x, double *p) {
    for (size_t r = 0; r < N; r++)
        for (size_t o = 0; o < OUT; o++) {
            double z = bias[o];
            for (size_t i = 0; i < IN; i++) z += x[r * IN + i] * kernel[i * OUT + o];
            p[r * OUT + o] = z;
        }
}

static double huber(double d, double delta) {
    double a = fabs(d);
    return a <= delta ? 0.5 * d * d : delta * (a - 0.5 * delta);
}

static double huber_grad(double d, double delta) {
    return d > delta ? delta : d < -delta ? -delta : d;
}

static void set_loss(nn_model *model, nn_loss loss, double delta) {
    nn_loss_options o;
    nn_loss_options_init(&o, loss);
    if (!isnan(delta)) o.huber_delta = delta;
    NN_ASSERT_OK(nn_model_set_loss_ex(model, &o));
}

/* ------------------------------------------------------------------------ */

static void loss_options_defaults(void **state) {
    (void)state;
    const nn_loss losses[] = {NN_LOSS_MEAN_SQUARED_ERROR, NN_LOSS_BINARY_CROSSENTROPY,
                              NN_LOSS_CATEGORICAL_CROSSENTROPY,
                              NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                              NN_LOSS_MEAN_ABSOLUTE_ERROR, NN_LOSS_HUBER};
    for (size_t i = 0; i < 6; i++) {
        nn_loss_options o;
        memset(&o, 0xA5, sizeof o);
        nn_loss_options_init(&o, losses[i]);
        assert_int_equal(o.struct_size, sizeof(nn_loss_options));
        assert_int_equal(o.loss, losses[i]);
        assert_int_equal(o.from_logits, 0);
        assert_true(o.huber_delta == 1.0);
    }
    nn_loss_options_init(NULL, NN_LOSS_HUBER); /* does nothing */
}

/* MAE = mean over outputs of |y - p|. */
static void mean_absolute_error_value(void **state) {
    (void)state;
    float x[N * IN], y[N * OUT];
    double p[N * OUT];
    data(x, y);
    predictions(x, p);
    double want = 0;
    for (size_t i = 0; i < N * OUT; i++) want += fabs(y[i] - p[i]);
    want /= N * OUT;
    nn_model *model = linear_model();
    set_loss(model, NN_LOSS_MEAN_ABSOLUTE_ERROR, NAN);
    double got = 0;
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, IN, OUT, &got, 1));
    NN_ASSERT_CLOSE(got, want, 1e-5, 1e-7);
    /* nn_model_set_loss gives the same loss. */
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_MEAN_ABSOLUTE_ERROR, 0));
    double again = 0;
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, IN, OUT, &again, 1));
    assert_true(again == got);
    nn_model_free(model);
}

/* Huber: d^2/2 for |d| <= delta, delta (|d| - delta/2) beyond; delta 1 by
 * default (nn_model_set_loss and the options' default). */
static void huber_value(void **state) {
    (void)state;
    float x[N * IN], y[N * OUT];
    double p[N * OUT];
    data(x, y);
    predictions(x, p);
    nn_model *model = linear_model();
    const double deltas[] = {1.0, 0.3, 2.0, 100.0};
    for (size_t k = 0; k < 4; k++) {
        double want = 0;
        size_t quadratic = 0;
        for (size_t i = 0; i < N * OUT; i++) {
            want += huber(p[i] - y[i], deltas[k]);
            quadratic += fabs(p[i] - y[i]) <= deltas[k];
        }
        want /= N * OUT;
        /* The data reaches both branches for the small deltas. */
        if (k < 2) assert_true(quadratic > 0 && quadratic < N * OUT);
        set_loss(model, NN_LOSS_HUBER, deltas[k]);
        double got = 0;
        NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, IN, OUT, &got, 1));
        NN_ASSERT_CLOSE(got, want, 1e-5, 1e-7);
        if (deltas[k] == 1.0) {
            NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_HUBER, 0));
            double plain = 0;
            NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, IN, OUT, &plain, 1));
            assert_true(plain == got);
        }
    }
    /* With a delta above every error, Huber is half the MSE. */
    double mse = 0, h = 0;
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_MEAN_SQUARED_ERROR, 0));
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, IN, OUT, &mse, 1));
    set_loss(model, NN_LOSS_HUBER, 100.0);
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, IN, OUT, &h, 1));
    NN_ASSERT_CLOSE(h, mse / 2, 1e-6, 0);
    nn_model_free(model);
}

/* One full-batch SGD step with MAE or Huber moves the weights by
 * -lr * x^T g, g = dL/dp: sign(p - y) / (N OUT) for MAE, clip(p - y,
 * -delta, delta) / (N OUT) for Huber. */
static void gradient_step(nn_loss loss, double delta) {
    const double lr = 0.5;
    float x[N * IN], y[N * OUT];
    double p[N * OUT];
    data(x, y);
    predictions(x, p);
    nn_model *model = linear_model();
    set_loss(model, loss, delta);
    nn_optimizer_options sgd;
    NN_ASSERT_OK(nn_optimizer_options_init(&sgd, NN_OPTIMIZER_SGD));
    sgd.learning_rate = lr;
    NN_ASSERT_OK(nn_model_set_optimizer(model, &sgd));
    nn_fit_options o = nn_test_fit_options(1, N, 0);
    NN_ASSERT_OK(nn_model_fit(model, x, y, N, IN, OUT, &o));

    double g[N * OUT];
    for (size_t i = 0; i < N * OUT; i++) {
        double d = p[i] - y[i];
        g[i] = (loss == NN_LOSS_HUBER ? huber_grad(d, delta) : (d > 0) - (d < 0)) / (N * OUT);
    }
    float w[IN * OUT], b[OUT];
    NN_ASSERT_OK(nn_model_get_weight(model, 0, w, IN * OUT));
    NN_ASSERT_OK(nn_model_get_weight(model, 1, b, OUT));
    for (size_t o2 = 0; o2 < OUT; o2++) {
        double db = 0;
        for (size_t r = 0; r < N; r++) db += g[r * OUT + o2];
        NN_ASSERT_CLOSE(b[o2], bias[o2] - lr * db, 1e-5, 1e-6);
        for (size_t i = 0; i < IN; i++) {
            double dw = 0;
            for (size_t r = 0; r < N; r++) dw += x[r * IN + i] * g[r * OUT + o2];
            NN_ASSERT_CLOSE(w[i * OUT + o2], kernel[i * OUT + o2] - lr * dw, 1e-5, 1e-6);
        }
    }
    nn_model_free(model);
}

static void mean_absolute_error_gradient(void **state) {
    (void)state;
    gradient_step(NN_LOSS_MEAN_ABSOLUTE_ERROR, NAN);
}

static void huber_gradient(void **state) {
    (void)state;
    gradient_step(NN_LOSS_HUBER, 1.0);
    gradient_step(NN_LOSS_HUBER, 0.4);
}

/* from_logits through the options struct is the same as through
 * nn_model_set_loss. */
static void set_loss_ex_from_logits(void **state) {
    (void)state;
    float x[N * IN], y[N * OUT];
    data(x, y);
    for (size_t i = 0; i < N * OUT; i++) y[i] = y[i] > 0 ? 1.0f : 0.0f;
    nn_model *model = linear_model();
    nn_loss_options o;
    nn_loss_options_init(&o, NN_LOSS_BINARY_CROSSENTROPY);
    o.from_logits = 1;
    NN_ASSERT_OK(nn_model_set_loss_ex(model, &o));
    double a = 0, b = 0;
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, IN, OUT, &a, 1));
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_BINARY_CROSSENTROPY, 1));
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, IN, OUT, &b, 1));
    assert_true(a == b);
    /* Reference: mean of softplus(z) - y z. */
    double p[N * OUT], want = 0;
    predictions(x, p);
    for (size_t i = 0; i < N * OUT; i++)
        want += (p[i] > 0 ? p[i] + log1p(exp(-p[i])) : log1p(exp(p[i]))) - y[i] * p[i];
    NN_ASSERT_CLOSE(a, want / (N * OUT), 1e-5, 1e-7);
    nn_model_free(model);
}

static void set_loss_ex_rejects_bad_options(void **state) {
    (void)state;
    nn_model *model = linear_model();
    nn_loss_options o;
    NN_ASSERT_ERROR(nn_model_set_loss_ex(model, NULL), NN_ERROR_NULL_POINTER, "options");

    nn_loss_options_init(&o, NN_LOSS_HUBER);
    o.huber_delta = 0;
    NN_ASSERT_ERROR(nn_model_set_loss_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "delta", "0");
    o.huber_delta = -1.5;
    NN_ASSERT_ERROR(nn_model_set_loss_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "delta",
                    "-1.5");
    o.huber_delta = NAN;
    NN_ASSERT_ERROR(nn_model_set_loss_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "delta");
    o.huber_delta = INFINITY;
    NN_ASSERT_ERROR(nn_model_set_loss_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "delta");

    nn_loss_options_init(&o, (nn_loss)99);
    NN_ASSERT_ERROR(nn_model_set_loss_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "loss", "99");
    nn_loss_options_init(&o, (nn_loss)0);
    NN_ASSERT_ERROR(nn_model_set_loss_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "loss", "0");

    nn_loss_options_init(&o, NN_LOSS_BINARY_CROSSENTROPY);
    o.from_logits = 2;
    NN_ASSERT_ERROR(nn_model_set_loss_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "from_logits",
                    "2");
    nn_loss_options_init(&o, NN_LOSS_MEAN_ABSOLUTE_ERROR);
    o.from_logits = 1;
    NN_ASSERT_ERROR(nn_model_set_loss_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "from_logits",
                    "mean_absolute_error");
    nn_loss_options_init(&o, NN_LOSS_HUBER);
    o.from_logits = 1;
    NN_ASSERT_ERROR(nn_model_set_loss_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "from_logits",
                    "huber");

    nn_loss_options_init(&o, NN_LOSS_HUBER);
    o.struct_size = 0;
    NN_ASSERT_ERROR(nn_model_set_loss_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "struct_size");
    o.struct_size = sizeof o + 8;
    NN_ASSERT_ERROR(nn_model_set_loss_ex(model, &o), NN_ERROR_INVALID_ARGUMENT, "struct_size");

    /* The failed calls left the model without a loss. */
    float x[N * IN], y[N * OUT];
    data(x, y);
    double v = 0;
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, y, N, IN, OUT, &v, 1), NN_ERROR_INVALID_STATE,
                    "loss");
    nn_model_free(model);
}

/* MAE and Huber train a regression model (targets need not be in [0, 1]). */
static void new_losses_train(void **state) {
    (void)state;
    enum { M = 48 };
    float x[M * IN], y[M];
    nn_test_rng rng = {22};
    nn_test_fill(&rng, x, M * IN, -1, 1);
    for (size_t r = 0; r < M; r++) y[r] = 3 * x[r * IN] - x[r * IN + 1] + 2 * x[r * IN + 2] + 5;
    const nn_loss losses[] = {NN_LOSS_MEAN_ABSOLUTE_ERROR, NN_LOSS_HUBER};
    for (size_t k = 0; k < 2; k++) {
        const nn_test_layer layers[] = {{1, NN_ACTIVATION_LINEAR}};
        nn_model *model = nn_test_model(IN, 3, 1, layers);
        nn_test_compile(model, losses[k], 0, NN_OPTIMIZER_ADAM, 0.1);
        double before = 0, after = 0;
        NN_ASSERT_OK(nn_model_evaluate(model, x, y, M, IN, 1, &before, 1));
        nn_fit_options o = nn_test_fit_options(150, 8, 1);
        NN_ASSERT_OK(nn_model_fit(model, x, y, M, IN, 1, &o));
        NN_ASSERT_OK(nn_model_evaluate(model, x, y, M, IN, 1, &after, 1));
        if (!(after < 0.05 * before))
            fail_msg("loss %d: %g -> %g after 150 epochs", (int)losses[k], before, after);
        nn_model_free(model);
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(loss_options_defaults),
    cmocka_unit_test(mean_absolute_error_value),
    cmocka_unit_test(huber_value),
    cmocka_unit_test(mean_absolute_error_gradient),
    cmocka_unit_test(huber_gradient),
    cmocka_unit_test(set_loss_ex_from_logits),
    cmocka_unit_test(set_loss_ex_rejects_bad_options),
    cmocka_unit_test(new_losses_train),
};

NN_TEST_MAIN("losses", tests)
