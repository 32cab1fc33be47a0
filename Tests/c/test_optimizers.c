/*
 * Optimizer steps against a double-precision reference of PyTorch's update
 * rules (torch.optim.SGD with momentum, Nesterov and weight decay;
 * torch.optim.Adam with weight decay as an L2 term), on a one-layer model
 * whose gradients are worked out by hand:
 *
 *   z = x W + b            W [IN, OUT], b [OUT]
 *   MSE, linear:           dL/dz = 2 (z - y) / (rows * OUT)
 *   BCE, sigmoid:          dL/dz = (sigmoid(z) - y) / (rows * OUT)
 *   sparse CE, softmax:    dL/dz = (softmax(z) - onehot(y)) / rows
 *   dW = x^T dz,  db = sum over rows of dz
 *
 * Training runs without shuffling, so the batches are consecutive rows.
 */
#include "nn_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N = 7, IN = 3, OUT = 3, P = IN * OUT + OUT };

typedef enum { MSE, BCE, SPARSE_CE } loss_kind;

typedef struct reference {
    double theta[P];      /* W row-major, then b */
    double m[P], v[P];    /* momentum buffer / Adam moments */
    int steps;
    nn_optimizer_options opt;
    loss_kind loss;
} reference;

/* Gradient of the batch-mean loss over rows [start, start + rows). */
static void reference_gradient(const reference *r, const float *x, const float *y, size_t start,
                               size_t rows, double *grad) {
    memset(grad, 0, P * sizeof *grad);
    for (size_t i = start; i < start + rows; i++) {
        double z[OUT], dz[OUT] = {0};
        for (size_t o = 0; o < OUT; o++) {
            z[o] = r->theta[IN * OUT + o];
            for (size_t k = 0; k < IN; k++) z[o] += x[i * IN + k] * r->theta[k * OUT + o];
        }
        switch (r->loss) {
        case MSE:
            for (size_t o = 0; o < OUT; o++)
                dz[o] = 2.0 * (z[o] - y[i * OUT + o]) / (double)(rows * OUT);
            break;
        case BCE:
            for (size_t o = 0; o < OUT; o++)
                dz[o] = (1.0 / (1.0 + exp(-z[o])) - y[i * OUT + o]) / (double)(rows * OUT);
            break;
        case SPARSE_CE: {
            double max = z[0], sum = 0;
            for (size_t o = 1; o < OUT; o++) max = z[o] > max ? z[o] : max;
            for (size_t o = 0; o < OUT; o++) sum += exp(z[o] - max);
            for (size_t o = 0; o < OUT; o++)
                dz[o] = (exp(z[o] - max) / sum - ((size_t)y[i] == o ? 1.0 : 0.0)) / (double)rows;
            break;
        }
        }
        for (size_t o = 0; o < OUT; o++) {
            for (size_t k = 0; k < IN; k++) grad[k * OUT + o] += x[i * IN + k] * dz[o];
            grad[IN * OUT + o] += dz[o];
        }
    }
}

/* One optimizer step with gradient g (PyTorch's formulas). */
static void reference_step(reference *r, const double *g_in) {
    const nn_optimizer_options *o = &r->opt;
    r->steps++;
    for (size_t i = 0; i < P; i++) {
        double g = g_in[i] + o->weight_decay * r->theta[i];
        if (o->kind == NN_OPTIMIZER_SGD) {
            if (o->momentum != 0) {
                r->m[i] = r->steps == 1 ? g : o->momentum * r->m[i] + g;
                g = o->nesterov ? g + o->momentum * r->m[i] : r->m[i];
            }
            r->theta[i] -= o->learning_rate * g;
        } else {
            r->m[i] = o->beta1 * r->m[i] + (1 - o->beta1) * g;
            r->v[i] = o->beta2 * r->v[i] + (1 - o->beta2) * g * g;
            double mhat = r->m[i] / (1 - pow(o->beta1, r->steps));
            double vhat = r->v[i] / (1 - pow(o->beta2, r->steps));
            r->theta[i] -= o->learning_rate * mhat / (sqrt(vhat) + o->epsilon);
        }
    }
}

static void reference_epoch(reference *r, const float *x, const float *y, size_t batch) {
    for (size_t start = 0; start < N; start += batch) {
        size_t rows = start + batch <= N ? batch : N - start;
        double g[P];
        reference_gradient(r, x, y, start, rows, g);
        reference_step(r, g);
    }
}

static void data(loss_kind loss, float *x, float *y) {
    nn_test_rng rng = {31};
    nn_test_fill(&rng, x, N * IN, -1.0f, 1.0f);
    for (size_t i = 0; i < N; i++) {
        if (loss == SPARSE_CE) {
            y[i] = (float)(i % OUT);
        } else {
            for (size_t o = 0; o < OUT; o++)
                y[i * OUT + o] = loss == BCE ? (float)((i + o) % 2) : nn_test_uniform(&rng, -1, 1);
        }
    }
}

static void compare(const nn_model *model, const reference *r, const char *what, int epoch) {
    size_t n = 0;
    float *w = nn_test_weights(model, &n);
    assert_int_equal(n, P);
    for (size_t i = 0; i < P; i++) {
        double tol = 2e-5 * fabs(r->theta[i]) + 2e-6;
        if (!(fabs(w[i] - r->theta[i]) <= tol))
            fail_msg("%s, epoch %d: parameter %zu is %.9g, the reference says %.9g", what, epoch,
                     i, (double)w[i], r->theta[i]);
    }
    free(w);
}

/* Trains `opt` for `epochs` separate one-epoch fit calls (the optimizer
 * state carries over between calls) and compares after each. */
static void run_case(const char *what, loss_kind loss, const nn_optimizer_options *opt,
                     size_t batch, int epochs) {
    static const nn_activation acts[] = {NN_ACTIVATION_LINEAR, NN_ACTIVATION_SIGMOID,
                                         NN_ACTIVATION_SOFTMAX};
    static const nn_loss losses[] = {NN_LOSS_MEAN_SQUARED_ERROR, NN_LOSS_BINARY_CROSSENTROPY,
                                     NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY};
    float x[N * IN], y[N * OUT];
    data(loss, x, y);
    const nn_test_layer layers[] = {{OUT, acts[loss]}};
    nn_model *model = nn_test_model(IN, 2718, 1, layers);
    NN_ASSERT_OK(nn_model_set_loss(model, losses[loss], 0));
    NN_ASSERT_OK(nn_model_set_optimizer(model, opt));

    reference r;
    memset(&r, 0, sizeof r);
    r.opt = *opt;
    r.loss = loss;
    float *w = nn_test_weights(model, NULL);
    for (size_t i = 0; i < P; i++) r.theta[i] = w[i];
    free(w);

    nn_fit_options o;
    nn_fit_options_init(&o);
    o.epochs = 1;
    o.batch_size = batch;
    o.shuffle = 0;
    size_t y_cols = loss == SPARSE_CE ? 1 : OUT;
    for (int e = 1; e <= epochs; e++) {
        NN_ASSERT_OK(nn_model_fit(model, x, y, N, IN, y_cols, &o));
        reference_epoch(&r, x, y, batch);
        compare(model, &r, what, e);
    }
    nn_model_free(model);
}

static nn_optimizer_options sgd(double lr, double momentum, int nesterov, double decay) {
    nn_optimizer_options o;
    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_SGD));
    o.learning_rate = lr;
    o.momentum = momentum;
    o.nesterov = nesterov;
    o.weight_decay = decay;
    return o;
}

static nn_optimizer_options adam(double lr, double b1, double b2, double eps, double decay) {
    nn_optimizer_options o;
    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_ADAM));
    o.learning_rate = lr;
    o.beta1 = b1;
    o.beta2 = b2;
    o.epsilon = eps;
    o.weight_decay = decay;
    return o;
}

static void sgd_plain(void **state) {
    (void)state;
    nn_optimizer_options o = sgd(0.1, 0, 0, 0);
    run_case("sgd, full batch, mse", MSE, &o, N, 4);
    run_case("sgd, batches of 3, mse", MSE, &o, 3, 3);
    run_case("sgd, batches of 2, bce", BCE, &o, 2, 3);
    run_case("sgd, batches of 4, sparse ce", SPARSE_CE, &o, 4, 3);
}

static void sgd_momentum(void **state) {
    (void)state;
    nn_optimizer_options o = sgd(0.05, 0.9, 0, 0);
    run_case("sgd momentum, full batch", MSE, &o, N, 5);
    run_case("sgd momentum, batches of 3", SPARSE_CE, &o, 3, 3);
}

static void sgd_nesterov(void **state) {
    (void)state;
    nn_optimizer_options o = sgd(0.05, 0.8, 1, 0);
    run_case("sgd nesterov, full batch", MSE, &o, N, 5);
    run_case("sgd nesterov, batches of 2", BCE, &o, 2, 3);
}

static void sgd_weight_decay(void **state) {
    (void)state;
    nn_optimizer_options o = sgd(0.1, 0, 0, 0.05);
    run_case("sgd weight decay", MSE, &o, N, 4);
    o = sgd(0.1, 0.5, 0, 0.02);
    run_case("sgd momentum + weight decay", SPARSE_CE, &o, 3, 3);
}

static void adam_defaults(void **state) {
    (void)state;
    nn_optimizer_options o = adam(0.01, 0.9, 0.999, 1e-8, 0);
    run_case("adam, full batch, mse", MSE, &o, N, 5);
    run_case("adam, batches of 3, sparse ce", SPARSE_CE, &o, 3, 3);
    run_case("adam, batches of 2, bce", BCE, &o, 2, 3);
}

static void adam_custom(void **state) {
    (void)state;
    nn_optimizer_options o = adam(0.02, 0.8, 0.99, 1e-3, 0.05);
    run_case("adam, custom betas, epsilon and weight decay", MSE, &o, N, 5);
    o = adam(0.005, 0.0, 0.5, 1e-6, 0);
    run_case("adam, beta1 0", BCE, &o, 3, 3);
}

/* Adam's first step moves every parameter with a non-zero gradient by
 * almost exactly the learning rate, against the gradient's sign. */
static void adam_first_step_is_learning_rate(void **state) {
    (void)state;
    float x[N * IN], y[N * OUT];
    data(MSE, x, y);
    const nn_test_layer layers[] = {{OUT, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(IN, 5, 1, layers);
    nn_optimizer_options o = adam(0.125, 0.9, 0.999, 1e-8, 0);
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_MEAN_SQUARED_ERROR, 0));
    NN_ASSERT_OK(nn_model_set_optimizer(model, &o));
    size_t n = 0;
    float *before = nn_test_weights(model, &n);
    nn_fit_options f;
    nn_fit_options_init(&f);
    f.batch_size = N;
    f.shuffle = 0;
    NN_ASSERT_OK(nn_model_fit(model, x, y, N, IN, OUT, &f));
    float *after = nn_test_weights(model, NULL);
    for (size_t i = 0; i < n; i++) NN_ASSERT_CLOSE(fabsf(after[i] - before[i]), 0.125, 1e-4, 0);
    free(before);
    free(after);
    nn_model_free(model);
}

/* nn_model_set_optimizer resets the state: after it, a step is a first
 * step again (Adam's bias correction starts over, momentum restarts). */
static void set_optimizer_resets_state(void **state) {
    (void)state;
    const nn_optimizer_options cases[2] = {adam(0.01, 0.9, 0.999, 1e-8, 0),
                                           sgd(0.05, 0.9, 0, 0)};
    for (int c = 0; c < 2; c++) {
        float x[N * IN], y[N * OUT];
        data(MSE, x, y);
        const nn_test_layer layers[] = {{OUT, NN_ACTIVATION_LINEAR}};
        nn_model *model = nn_test_model(IN, 99, 1, layers);
        NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_MEAN_SQUARED_ERROR, 0));
        NN_ASSERT_OK(nn_model_set_optimizer(model, &cases[c]));
        reference r;
        memset(&r, 0, sizeof r);
        r.opt = cases[c];
        r.loss = MSE;
        float *w = nn_test_weights(model, NULL);
        for (size_t i = 0; i < P; i++) r.theta[i] = w[i];
        free(w);
        nn_fit_options f;
        nn_fit_options_init(&f);
        f.epochs = 3;
        f.batch_size = N;
        f.shuffle = 0;
        NN_ASSERT_OK(nn_model_fit(model, x, y, N, IN, OUT, &f));
        for (int e = 0; e < 3; e++) reference_epoch(&r, x, y, N);
        compare(model, &r, "before the reset", 3);

        NN_ASSERT_OK(nn_model_set_optimizer(model, &cases[c]));
        memset(r.m, 0, sizeof r.m);
        memset(r.v, 0, sizeof r.v);
        r.steps = 0;
        f.epochs = 2;
        NN_ASSERT_OK(nn_model_fit(model, x, y, N, IN, OUT, &f));
        for (int e = 0; e < 2; e++) reference_epoch(&r, x, y, N);
        compare(model, &r, c == 0 ? "adam after the reset" : "sgd after the reset", 5);
        nn_model_free(model);
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(sgd_plain),
    cmocka_unit_test(sgd_momentum),
    cmocka_unit_test(sgd_nesterov),
    cmocka_unit_test(sgd_weight_decay),
    cmocka_unit_test(adam_defaults),
    cmocka_unit_test(adam_custom),
    cmocka_unit_test(adam_first_step_is_learning_rate),
    cmocka_unit_test(set_optimizer_resets_state),
};

NN_TEST_MAIN("optimizers", tests)
