/*
 * Optimizer steps against a double-precision reference of PyTorch's update
 * rules (torch.optim.SGD with momentum, dampening, Nesterov and weight
 * decay; torch.optim.Adam with weight decay as an L2 term and amsgrad;
 * torch.optim.AdamW with decoupled weight decay; torch.optim.RMSprop with
 * momentum and centering; torch.optim.Adagrad with lr_decay and an initial
 * accumulator; torch.optim.Rprop), with Keras's gradient clipping (one
 * of clipnorm per weight array, global_clipnorm or clipvalue, applied to
 * the gradient before the optimizer), on a one-layer model
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
    double m[P], v[P];    /* momentum buffer / Adam moments / RMSprop square average / Adagrad sum */
    double vmax[P];       /* amsgrad: the largest second moment so far */
    double avg[P];        /* RMSprop centered: the gradient average */
    double buf[P];        /* RMSprop momentum buffer */
    double prev[P];       /* Rprop: the previous (masked) gradient */
    double step[P];       /* Rprop: the per-weight step sizes */
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

/* Keras's clipping of the gradient g: each weight array (W, then b) to norm
 * clip_norm, or the whole gradient to global_clip_norm, or each element to
 * [-clip_value, clip_value]; 0 disables each (nn.h allows one at a time). */
static void reference_clip(const nn_optimizer_options *o, double *g) {
    const size_t start[2] = {0, IN * OUT}, count[2] = {IN * OUT, OUT};
    if (o->clip_norm > 0)
        for (int a = 0; a < 2; a++) {
            double n = 0;
            for (size_t i = start[a]; i < start[a] + count[a]; i++) n += g[i] * g[i];
            n = sqrt(n);
            if (n > o->clip_norm)
                for (size_t i = start[a]; i < start[a] + count[a]; i++) g[i] *= o->clip_norm / n;
        }
    if (o->global_clip_norm > 0) {
        double n = 0;
        for (size_t i = 0; i < P; i++) n += g[i] * g[i];
        n = sqrt(n);
        if (n > o->global_clip_norm)
            for (size_t i = 0; i < P; i++) g[i] *= o->global_clip_norm / n;
    }
    if (o->clip_value > 0)
        for (size_t i = 0; i < P; i++)
            g[i] = g[i] > o->clip_value ? o->clip_value : g[i] < -o->clip_value ? -o->clip_value : g[i];
}

static double sign(double v) { return (v > 0) - (v < 0); }

/* One optimizer step with gradient g (PyTorch's formulas, torch.optim,
 * single-tensor path). */
static void reference_step(reference *r, const double *g_in) {
    const nn_optimizer_options *o = &r->opt;
    double clipped[P];
    memcpy(clipped, g_in, sizeof clipped);
    reference_clip(o, clipped);
    r->steps++;
    for (size_t i = 0; i < P; i++) {
        double g = clipped[i];
        if (o->kind != NN_OPTIMIZER_ADAMW && o->kind != NN_OPTIMIZER_RPROP)
            g += o->weight_decay * r->theta[i];
        switch (o->kind) {
        case NN_OPTIMIZER_SGD:
            if (o->momentum != 0) {
                r->m[i] = r->steps == 1 ? g : o->momentum * r->m[i] + (1 - o->dampening) * g;
                g = o->nesterov ? g + o->momentum * r->m[i] : r->m[i];
            }
            r->theta[i] -= o->learning_rate * g;
            break;
        case NN_OPTIMIZER_ADAM:
        case NN_OPTIMIZER_ADAMW: {
            if (o->kind == NN_OPTIMIZER_ADAMW)
                r->theta[i] *= 1 - o->learning_rate * o->weight_decay;
            r->m[i] = o->beta1 * r->m[i] + (1 - o->beta1) * g;
            r->v[i] = o->beta2 * r->v[i] + (1 - o->beta2) * g * g;
            double second = r->v[i];
            if (o->amsgrad) {
                r->vmax[i] = r->vmax[i] > r->v[i] ? r->vmax[i] : r->v[i];
                second = r->vmax[i];
            }
            double mhat = r->m[i] / (1 - pow(o->beta1, r->steps));
            double vhat = second / (1 - pow(o->beta2, r->steps));
            r->theta[i] -= o->learning_rate * mhat / (sqrt(vhat) + o->epsilon);
            break;
        }
        case NN_OPTIMIZER_RMSPROP: {
            r->v[i] = o->alpha * r->v[i] + (1 - o->alpha) * g * g;
            double avg;
            if (o->centered) {
                r->avg[i] = o->alpha * r->avg[i] + (1 - o->alpha) * g;
                avg = sqrt(r->v[i] - r->avg[i] * r->avg[i]) + o->epsilon;
            } else {
                avg = sqrt(r->v[i]) + o->epsilon;
            }
            if (o->momentum > 0) {
                r->buf[i] = o->momentum * r->buf[i] + g / avg;
                r->theta[i] -= o->learning_rate * r->buf[i];
            } else {
                r->theta[i] -= o->learning_rate * g / avg;
            }
            break;
        }
        case NN_OPTIMIZER_ADAGRAD: {
            if (r->steps == 1) r->v[i] = o->initial_accumulator_value;
            double clr = o->learning_rate / (1 + (r->steps - 1) * o->lr_decay);
            r->v[i] += g * g;
            r->theta[i] -= clr * g / (sqrt(r->v[i]) + o->epsilon);
            break;
        }
        case NN_OPTIMIZER_RPROP: {
            if (r->steps == 1) {
                r->step[i] = o->learning_rate;
                r->prev[i] = 0;
            }
            double s = sign(g * r->prev[i]);
            double factor = s > 0 ? o->eta_plus : s < 0 ? o->eta_minus : 1.0;
            r->step[i] *= factor;
            if (r->step[i] > o->step_size_max) r->step[i] = o->step_size_max;
            if (r->step[i] < o->step_size_min) r->step[i] = o->step_size_min;
            if (s < 0) g = 0;
            r->theta[i] -= sign(g) * r->step[i];
            r->prev[i] = g;
            break;
        }
        default: fail_msg("no reference for optimizer %d", (int)o->kind);
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

static nn_optimizer_options defaults(nn_optimizer kind, double lr) {
    nn_optimizer_options o;
    NN_ASSERT_OK(nn_optimizer_options_init(&o, kind));
    o.learning_rate = lr;
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

static void sgd_dampening(void **state) {
    (void)state;
    nn_optimizer_options o = sgd(0.05, 0.9, 0, 0.01);
    o.dampening = 0.3;
    run_case("sgd momentum + dampening", MSE, &o, N, 5);
    run_case("sgd momentum + dampening, batches of 2", BCE, &o, 2, 3);
}

static void adam_amsgrad(void **state) {
    (void)state;
    nn_optimizer_options o = adam(0.02, 0.9, 0.99, 1e-8, 0);
    o.amsgrad = 1;
    run_case("adam amsgrad, batches of 2", MSE, &o, 2, 4);
    run_case("adam amsgrad, sparse ce", SPARSE_CE, &o, 3, 3);
}

/* AdamW's defaults (weight decay 0.01, decoupled), a larger decay, amsgrad. */
static void adamw(void **state) {
    (void)state;
    nn_optimizer_options o = defaults(NN_OPTIMIZER_ADAMW, 0.01);
    run_case("adamw defaults, full batch", MSE, &o, N, 5);
    run_case("adamw defaults, batches of 3, bce", BCE, &o, 3, 3);
    o.weight_decay = 0.5;
    o.beta1 = 0.8;
    run_case("adamw decay 0.5", MSE, &o, 2, 4);
    o.amsgrad = 1;
    run_case("adamw amsgrad", SPARSE_CE, &o, 3, 3);
}

/* AdamW's decay is not Adam's L2 term: the same options give different
 * weights. */
static void adamw_differs_from_adam(void **state) {
    (void)state;
    float x[N * IN], y[N * OUT];
    data(MSE, x, y);
    nn_optimizer_options a = adam(0.05, 0.9, 0.999, 1e-8, 0.3);
    nn_optimizer_options w = defaults(NN_OPTIMIZER_ADAMW, 0.05);
    w.weight_decay = 0.3;
    const nn_test_layer layers[] = {{OUT, NN_ACTIVATION_LINEAR}};
    nn_model *ma = nn_test_model(IN, 8, 1, layers), *mw = nn_test_model(IN, 8, 1, layers);
    NN_ASSERT_OK(nn_model_set_loss(ma, NN_LOSS_MEAN_SQUARED_ERROR, 0));
    NN_ASSERT_OK(nn_model_set_loss(mw, NN_LOSS_MEAN_SQUARED_ERROR, 0));
    NN_ASSERT_OK(nn_model_set_optimizer(ma, &a));
    NN_ASSERT_OK(nn_model_set_optimizer(mw, &w));
    nn_fit_options f = nn_test_fit_options(3, N, 0);
    NN_ASSERT_OK(nn_model_fit(ma, x, y, N, IN, OUT, &f));
    NN_ASSERT_OK(nn_model_fit(mw, x, y, N, IN, OUT, &f));
    float *wa = nn_test_weights(ma, NULL), *ww = nn_test_weights(mw, NULL);
    double diff = 0;
    for (size_t i = 0; i < P; i++) diff += fabs(wa[i] - ww[i]);
    assert_true(diff > 1e-3);
    free(wa);
    free(ww);
    nn_model_free(ma);
    nn_model_free(mw);
}

static void rmsprop(void **state) {
    (void)state;
    nn_optimizer_options o = defaults(NN_OPTIMIZER_RMSPROP, 0.005);
    run_case("rmsprop defaults, full batch", MSE, &o, N, 5);
    run_case("rmsprop defaults, batches of 2, bce", BCE, &o, 2, 3);
    o.momentum = 0.9;
    run_case("rmsprop momentum", MSE, &o, 3, 4);
    o.centered = 1;
    o.alpha = 0.9;
    run_case("rmsprop momentum + centered", SPARSE_CE, &o, 3, 3);
    o.momentum = 0;
    o.weight_decay = 0.1;
    o.epsilon = 1e-3;
    run_case("rmsprop centered + weight decay", MSE, &o, N, 4);
}

static void adagrad(void **state) {
    (void)state;
    nn_optimizer_options o = defaults(NN_OPTIMIZER_ADAGRAD, 0.1);
    run_case("adagrad defaults, full batch", MSE, &o, N, 5);
    run_case("adagrad defaults, batches of 3, sparse ce", SPARSE_CE, &o, 3, 3);
    o.lr_decay = 0.2;
    o.initial_accumulator_value = 0.5;
    o.weight_decay = 0.05;
    run_case("adagrad lr_decay + accumulator + weight decay", MSE, &o, 2, 4);
}

static void rprop(void **state) {
    (void)state;
    nn_optimizer_options o = defaults(NN_OPTIMIZER_RPROP, 0.01);
    run_case("rprop defaults, full batch", MSE, &o, N, 6);
    run_case("rprop defaults, full batch, bce", BCE, &o, N, 6);
    o.eta_minus = 0.3;
    o.eta_plus = 2.0;
    o.step_size_min = 0.004;
    o.step_size_max = 0.03; /* reached: the steps double from 0.01 */
    o.learning_rate = 0.01;
    run_case("rprop custom factors and bounds", MSE, &o, N, 6);
    run_case("rprop custom, sparse ce", SPARSE_CE, &o, N, 4);
}


/* Clipping with the options of nn_optimizer_options, for several
 * optimizers, against the reference. */
static void clipping(void **state) {
    (void)state;
    nn_optimizer_options o = sgd(0.5, 0, 0, 0);
    o.clip_value = 0.05;
    run_case("sgd clip_value", MSE, &o, N, 3);
    o.clip_value = 0;
    o.clip_norm = 0.1;
    run_case("sgd clip_norm", MSE, &o, 3, 3);
    o.clip_norm = 0;
    o.global_clip_norm = 0.1;
    run_case("sgd global_clip_norm", BCE, &o, N, 3);
    o = adam(0.01, 0.9, 0.999, 1e-8, 0);
    o.clip_norm = 0.05;
    run_case("adam clip_norm", SPARSE_CE, &o, 3, 3);
    o.clip_norm = 0;
    o.global_clip_norm = 0.05;
    run_case("adam global_clip_norm", BCE, &o, 2, 3);
    o = defaults(NN_OPTIMIZER_RMSPROP, 0.01);
    o.clip_value = 0.01;
    run_case("rmsprop clip_value", MSE, &o, N, 3);
}

/* With SGD, lr 1 and one full batch, clip_value bounds the change of each
 * weight by clip_value, and some weights reach the bound; global_clip_norm
 * bounds the norm of the whole change. */
static void clip_bounds_sgd_step(void **state) {
    (void)state;
    float x[N * IN], y[N * OUT];
    data(MSE, x, y);
    for (size_t i = 0; i < N * OUT; i++) y[i] *= 10.0f; /* large gradients */
    const double c = 0.01;
    for (int mode = 0; mode < 2; mode++) {
        const nn_test_layer layers[] = {{OUT, NN_ACTIVATION_LINEAR}};
        nn_model *model = nn_test_model(IN, 6, 1, layers);
        nn_optimizer_options o = sgd(1.0, 0, 0, 0);
        if (mode == 0) o.clip_value = c;
        else o.global_clip_norm = c;
        NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_MEAN_SQUARED_ERROR, 0));
        NN_ASSERT_OK(nn_model_set_optimizer(model, &o));
        float *before = nn_test_weights(model, NULL);
        nn_fit_options f = nn_test_fit_options(1, N, 0);
        NN_ASSERT_OK(nn_model_fit(model, x, y, N, IN, OUT, &f));
        float *after = nn_test_weights(model, NULL);
        double norm = 0;
        size_t at_bound = 0;
        for (size_t i = 0; i < P; i++) {
            double d = fabs((double)after[i] - before[i]);
            norm += d * d;
            if (mode == 0) {
                assert_true(d <= c * (1 + 1e-5));
                at_bound += d >= c * (1 - 1e-5);
            }
        }
        if (mode == 0) assert_true(at_bound >= P / 2);
        else NN_ASSERT_CLOSE(sqrt(norm), c, 1e-4, 0);
        free(before);
        free(after);
        nn_model_free(model);
    }
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
    const nn_optimizer_options cases[6] = {
        adam(0.01, 0.9, 0.999, 1e-8, 0),       sgd(0.05, 0.9, 0, 0),
        defaults(NN_OPTIMIZER_ADAMW, 0.01),    defaults(NN_OPTIMIZER_RMSPROP, 0.005),
        defaults(NN_OPTIMIZER_ADAGRAD, 0.05),  defaults(NN_OPTIMIZER_RPROP, 0.01)};
    const char *const names[6] = {"adam", "sgd", "adamw", "rmsprop", "adagrad", "rprop"};
    for (int c = 0; c < 6; c++) {
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
        double theta[P];
        memcpy(theta, r.theta, sizeof theta);
        memset(&r, 0, sizeof r);
        memcpy(r.theta, theta, sizeof theta);
        r.opt = cases[c];
        r.loss = MSE;
        f.epochs = 2;
        NN_ASSERT_OK(nn_model_fit(model, x, y, N, IN, OUT, &f));
        for (int e = 0; e < 2; e++) reference_epoch(&r, x, y, N);
        compare(model, &r, names[c], 5);
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
    cmocka_unit_test(sgd_dampening),
    cmocka_unit_test(adam_amsgrad),
    cmocka_unit_test(adamw),
    cmocka_unit_test(adamw_differs_from_adam),
    cmocka_unit_test(rmsprop),
    cmocka_unit_test(adagrad),
    cmocka_unit_test(rprop),
    cmocka_unit_test(clipping),
    cmocka_unit_test(clip_bounds_sgd_step),
    cmocka_unit_test(adam_first_step_is_learning_rate),
    cmocka_unit_test(set_optimizer_resets_state),
};

NN_TEST_MAIN("optimizers", tests)
