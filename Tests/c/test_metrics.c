/*
 * Metrics: every nn_metric with its name (nn_model_metric_name), its value
 * in nn_model_evaluate against a count made here from the model's set
 * weights, nn_model_add_metric_ex with parameters (thresholds, k),
 * nn_model_clear_metrics, the checks made when evaluation starts, and
 * nn_model_confusion_matrix against a hand count.
 */
#include "nn_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 40, IN = 3 };

static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/* z = x W + b [N, units] in double, from the weights the model holds. */
static void logits(const nn_model *model, const float *x, size_t units, double *z) {
    float *w = nn_test_weights(model, NULL);
    for (size_t r = 0; r < N; r++)
        for (size_t u = 0; u < units; u++) {
            double s = w[IN * units + u];
            for (size_t i = 0; i < IN; i++) s += x[r * IN + i] * w[i * units + u];
            z[r * units + u] = s;
        }
    free(w);
}

static void softmax_rows(const double *z, size_t units, double *p) {
    for (size_t r = 0; r < N; r++) {
        double max = z[r * units], sum = 0;
        for (size_t u = 1; u < units; u++) max = z[r * units + u] > max ? z[r * units + u] : max;
        for (size_t u = 0; u < units; u++) sum += exp(z[r * units + u] - max);
        for (size_t u = 0; u < units; u++) p[r * units + u] = exp(z[r * units + u] - max) / sum;
    }
}

static size_t argmax(const double *v, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* A one-layer model of `units` outputs with weights drawn from `seed` (a
 * spread wide enough for confident and unsure predictions). */
static nn_model *one_layer(size_t units, nn_activation act, uint64_t seed) {
    const nn_test_layer layers[] = {{units, act}};
    nn_model *model = nn_test_model(IN, seed, 1, layers);
    float w[IN * 8 + 8];
    nn_test_rng rng = {seed};
    nn_test_fill(&rng, w, IN * units + units, -1.5f, 1.5f);
    nn_test_set_weight(model, 0, w, IN * units);
    nn_test_set_weight(model, 1, w + IN * units, units);
    return model;
}

static void inputs(float *x, uint64_t seed) {
    nn_test_rng rng = {seed};
    nn_test_fill(&rng, x, N * IN, -2, 2);
}

/* The values of evaluate: loss first, then one per metric. */
static void evaluate(nn_model *model, const float *x, const float *y, size_t y_cols,
                     double *values, size_t count) {
    size_t n = 0;
    NN_ASSERT_OK(nn_model_metric_count(model, &n));
    assert_int_equal(n, count);
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, IN, y_cols, values, count));
}

/* The only metric of a model after clear_metrics + add_metric_ex. */
static double only_metric(nn_model *model, nn_metric metric, double parameter, const float *x,
                          const float *y, size_t y_cols) {
    NN_ASSERT_OK(nn_model_clear_metrics(model));
    NN_ASSERT_OK(nn_model_add_metric_ex(model, metric, parameter));
    double values[2];
    evaluate(model, x, y, y_cols, values, 2);
    return values[1];
}

/* ------------------------------------------------------------------------ */
/* Names and bookkeeping                                                    */
/* ------------------------------------------------------------------------ */

static void metric_names(void **state) {
    (void)state;
    const char *const names[11] = {NULL,
                                   "accuracy",
                                   "binary_accuracy",
                                   "categorical_accuracy",
                                   "sparse_categorical_accuracy",
                                   "precision",
                                   "recall",
                                   "f1_score",
                                   "f1_macro",
                                   "top_k_accuracy",
                                   "mean_absolute_error"};
    nn_model *model = nn_test_model(2, 1, 0, NULL);
    for (int m = 1; m <= 10; m++) NN_ASSERT_OK(nn_model_add_metric(model, (nn_metric)m));
    size_t count = 0;
    NN_ASSERT_OK(nn_model_metric_count(model, &count));
    assert_int_equal(count, 11);
    for (size_t i = 0; i < 11; i++) {
        const char *name = NULL;
        NN_ASSERT_OK(nn_model_metric_name(model, i, &name));
        assert_string_equal(name, i == 0 ? "loss" : names[i]);
    }
    /* With a parameter, the name is the same. */
    NN_ASSERT_OK(nn_model_clear_metrics(model));
    NN_ASSERT_OK(nn_model_add_metric_ex(model, NN_METRIC_TOP_K_ACCURACY, 3));
    NN_ASSERT_OK(nn_model_add_metric_ex(model, NN_METRIC_PRECISION, 0.7));
    const char *name = NULL;
    NN_ASSERT_OK(nn_model_metric_name(model, 1, &name));
    assert_string_equal(name, "top_k_accuracy");
    NN_ASSERT_OK(nn_model_metric_name(model, 2, &name));
    assert_string_equal(name, "precision");
    nn_model_free(model);
}

static void clear_metrics(void **state) {
    (void)state;
    nn_model *model = one_layer(1, NN_ACTIVATION_SIGMOID, 1);
    NN_ASSERT_OK(nn_model_clear_metrics(model)); /* nothing to clear: fine */
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_ACCURACY));
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_RECALL));
    size_t count = 0;
    NN_ASSERT_OK(nn_model_metric_count(model, &count));
    assert_int_equal(count, 3);
    NN_ASSERT_OK(nn_model_clear_metrics(model));
    NN_ASSERT_OK(nn_model_metric_count(model, &count));
    assert_int_equal(count, 1);
    const char *name = "sentinel";
    NN_ASSERT_ERROR(nn_model_metric_name(model, 1, &name), NN_ERROR_INVALID_ARGUMENT, "1");
    /* Evaluate now reports the loss alone, and fit logs it alone. */
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_BINARY_CROSSENTROPY, 0));
    float x[N * IN], y[N];
    inputs(x, 2);
    for (size_t r = 0; r < N; r++) y[r] = (float)(r % 2);
    double v[1];
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, IN, 1, v, 1));
    nn_optimizer_options sgd;
    NN_ASSERT_OK(nn_optimizer_options_init(&sgd, NN_OPTIMIZER_SGD));
    NN_ASSERT_OK(nn_model_set_optimizer(model, &sgd));
    nn_test_history h;
    nn_test_history_init(&h);
    nn_fit_options o = nn_test_fit_options(1, N, 0);
    nn_test_record_into(&o, &h);
    NN_ASSERT_OK(nn_model_fit(model, x, y, N, IN, 1, &o));
    assert_int_equal(h.n_logs, 1);
    /* Metrics can be added again afterwards, also to a trained model. */
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_PRECISION));
    NN_ASSERT_OK(nn_model_metric_count(model, &count));
    assert_int_equal(count, 2);
    NN_ASSERT_OK(nn_model_metric_name(model, 1, &name));
    assert_string_equal(name, "precision");
    nn_model_free(model);
}

/* The same metric with the same parameter twice has no effect; NaN stands
 * for the default parameter. */
static void add_metric_ex_duplicates_and_defaults(void **state) {
    (void)state;
    nn_model *model = one_layer(1, NN_ACTIVATION_SIGMOID, 3);
    NN_ASSERT_OK(nn_model_add_metric_ex(model, NN_METRIC_BINARY_ACCURACY, 0.3));
    NN_ASSERT_OK(nn_model_add_metric_ex(model, NN_METRIC_BINARY_ACCURACY, 0.3));
    size_t count = 0;
    NN_ASSERT_OK(nn_model_metric_count(model, &count));
    assert_int_equal(count, 2);

    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_BINARY_CROSSENTROPY, 0));
    float x[N * IN], y[N];
    inputs(x, 4);
    for (size_t r = 0; r < N; r++) y[r] = (float)((r / 3) % 2);
    double a = only_metric(model, NN_METRIC_BINARY_ACCURACY, NAN, x, y, 1);
    NN_ASSERT_OK(nn_model_clear_metrics(model));
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_BINARY_ACCURACY));
    double b[2];
    evaluate(model, x, y, 1, b, 2);
    assert_true(a == b[1]);
    double c = only_metric(model, NN_METRIC_BINARY_ACCURACY, 0.5, x, y, 1);
    assert_true(a == c);
    nn_model_free(model);
}

static void add_metric_ex_rejects_bad_parameters(void **state) {
    (void)state;
    nn_model *model = nn_test_model(2, 1, 0, NULL);
    /* k of top-k: a whole number >= 1. */
    NN_ASSERT_ERROR(nn_model_add_metric_ex(model, NN_METRIC_TOP_K_ACCURACY, 0),
                    NN_ERROR_INVALID_ARGUMENT, "k", "0");
    NN_ASSERT_ERROR(nn_model_add_metric_ex(model, NN_METRIC_TOP_K_ACCURACY, 2.5),
                    NN_ERROR_INVALID_ARGUMENT, "k", "2.5");
    NN_ASSERT_ERROR(nn_model_add_metric_ex(model, NN_METRIC_TOP_K_ACCURACY, -3),
                    NN_ERROR_INVALID_ARGUMENT, "k");
    NN_ASSERT_ERROR(nn_model_add_metric_ex(model, NN_METRIC_TOP_K_ACCURACY, INFINITY),
                    NN_ERROR_INVALID_ARGUMENT, "k");
    /* Thresholds: in (0, 1). */
    const nn_metric thresholded[] = {NN_METRIC_BINARY_ACCURACY, NN_METRIC_PRECISION,
                                     NN_METRIC_RECALL, NN_METRIC_F1_SCORE};
    const double bad[] = {1.5, 0.0, 1.0, -0.2, INFINITY};
    for (size_t m = 0; m < 4; m++)
        for (size_t b = 0; b < 5; b++)
            NN_ASSERT_ERROR(nn_model_add_metric_ex(model, thresholded[m], bad[b]),
                            NN_ERROR_INVALID_ARGUMENT, "threshold");
    NN_ASSERT_ERROR(nn_model_add_metric_ex(model, NN_METRIC_PRECISION, 1.5),
                    NN_ERROR_INVALID_ARGUMENT, "precision", "threshold", "1.5");
    /* A parameter given to a metric that takes none. */
    const nn_metric none[] = {NN_METRIC_CATEGORICAL_ACCURACY,
                              NN_METRIC_SPARSE_CATEGORICAL_ACCURACY,
                              NN_METRIC_MEAN_ABSOLUTE_ERROR, NN_METRIC_ACCURACY};
    const char *const names[] = {"categorical_accuracy", "sparse_categorical_accuracy",
                                 "mean_absolute_error", "accuracy"};
    for (size_t m = 0; m < 4; m++)
        NN_ASSERT_ERROR(nn_model_add_metric_ex(model, none[m], 0.3), NN_ERROR_INVALID_ARGUMENT,
                        names[m], "no parameter");
    /* Unknown metrics. */
    NN_ASSERT_ERROR(nn_model_add_metric_ex(model, (nn_metric)99, NAN), NN_ERROR_INVALID_ARGUMENT,
                    "metric", "99");
    NN_ASSERT_ERROR(nn_model_add_metric_ex(model, (nn_metric)0, 0.5), NN_ERROR_INVALID_ARGUMENT,
                    "metric", "0");
    size_t count = 0;
    NN_ASSERT_OK(nn_model_metric_count(model, &count));
    assert_int_equal(count, 1);
    /* In range: accepted. */
    NN_ASSERT_OK(nn_model_add_metric_ex(model, NN_METRIC_TOP_K_ACCURACY, 1));
    NN_ASSERT_OK(nn_model_add_metric_ex(model, NN_METRIC_RECALL, 0.999));
    NN_ASSERT_OK(nn_model_add_metric_ex(model, NN_METRIC_F1_SCORE, 0.001));
    NN_ASSERT_OK(nn_model_metric_count(model, &count));
    assert_int_equal(count, 4);
    nn_model_free(model);
}

/* Whether a metric fits the loss and the outputs is checked when evaluate
 * (or fit) starts: NN_ERROR_INVALID_STATE with a message that names it. */
static void metrics_checked_against_model(void **state) {
    (void)state;
    float x[N * IN], labels[N], y1[N];
    inputs(x, 5);
    for (size_t r = 0; r < N; r++) {
        labels[r] = (float)(r % 4);
        y1[r] = (float)(r % 2);
    }
    double v[2];
    nn_model *model = one_layer(4, NN_ACTIVATION_SOFTMAX, 6);
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0));
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_PRECISION));
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, labels, N, IN, 1, v, 2), NN_ERROR_INVALID_STATE,
                    "precision", "f1_macro");
    NN_ASSERT_OK(nn_model_clear_metrics(model));
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_TOP_K_ACCURACY)); /* k = 5 > 4 outputs */
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, labels, N, IN, 1, v, 2), NN_ERROR_INVALID_STATE,
                    "top_k_accuracy", "5");
    NN_ASSERT_OK(nn_model_clear_metrics(model));
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_BINARY_ACCURACY));
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, labels, N, IN, 1, v, 2), NN_ERROR_INVALID_STATE,
                    "binary_accuracy");
    nn_model_free(model);

    model = one_layer(1, NN_ACTIVATION_SIGMOID, 7);
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_MEAN_SQUARED_ERROR, 0));
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_CATEGORICAL_ACCURACY));
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, y1, N, IN, 1, v, 2), NN_ERROR_INVALID_STATE,
                    "categorical_accuracy", "2 outputs");
    NN_ASSERT_OK(nn_model_clear_metrics(model));
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_SPARSE_CATEGORICAL_ACCURACY));
    NN_ASSERT_ERROR(nn_model_evaluate(model, x, y1, N, IN, 1, v, 2), NN_ERROR_INVALID_STATE,
                    "sparse_categorical_accuracy");
    /* fit checks the same way, before training. */
    nn_optimizer_options sgd;
    NN_ASSERT_OK(nn_optimizer_options_init(&sgd, NN_OPTIMIZER_SGD));
    NN_ASSERT_OK(nn_model_set_optimizer(model, &sgd));
    NN_ASSERT_ERROR(nn_model_fit(model, x, y1, N, IN, 1, NULL), NN_ERROR_INVALID_STATE,
                    "sparse_categorical_accuracy");
    NN_ASSERT_OK(nn_model_add_dense(model, 1, NN_ACTIVATION_LINEAR)); /* still untrained */
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Values                                                                   */
/* ------------------------------------------------------------------------ */

/* One sigmoid output, binary targets: binary accuracy, precision, recall,
 * F1 at several thresholds, the resolved "accuracy" and the mean absolute
 * error, from a count made here. */
static void binary_metrics(void **state) {
    (void)state;
    float x[N * IN], y[N];
    inputs(x, 8);
    nn_model *model = one_layer(1, NN_ACTIVATION_SIGMOID, 9);
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_BINARY_CROSSENTROPY, 0));
    double z[N], p[N];
    logits(model, x, 1, z);
    for (size_t r = 0; r < N; r++) {
        p[r] = sigmoid(z[r]);
        /* Targets that agree with the model on most rows only. */
        y[r] = (float)((p[r] > 0.5) ^ (r % 5 == 0));
    }
    const double thresholds[] = {0.5, 0.25, 0.8};
    for (size_t t = 0; t < 3; t++) {
        double th = thresholds[t];
        double tp = 0, fp = 0, fn = 0, tn = 0;
        for (size_t r = 0; r < N; r++) {
            int pred = p[r] > th, truth = y[r] > 0.5f;
            tp += pred && truth;
            fp += pred && !truth;
            fn += !pred && truth;
            tn += !pred && !truth;
        }
        assert_true(tp > 0 && fp + fn > 0); /* the metrics are not trivial */
        double precision = tp / (tp + fp), recall = tp / (tp + fn);
        double f1 = 2 * precision * recall / (precision + recall);
        NN_ASSERT_CLOSE(only_metric(model, NN_METRIC_BINARY_ACCURACY, th, x, y, 1),
                        (tp + tn) / N, 0, 1e-12);
        NN_ASSERT_CLOSE(only_metric(model, NN_METRIC_PRECISION, th, x, y, 1), precision, 1e-12,
                        1e-12);
        NN_ASSERT_CLOSE(only_metric(model, NN_METRIC_RECALL, th, x, y, 1), recall, 1e-12, 1e-12);
        NN_ASSERT_CLOSE(only_metric(model, NN_METRIC_F1_SCORE, th, x, y, 1), f1, 1e-9, 1e-12);
    }
    /* All at once, in the order added, after the loss. */
    NN_ASSERT_OK(nn_model_clear_metrics(model));
    const nn_metric all[] = {NN_METRIC_ACCURACY, NN_METRIC_PRECISION, NN_METRIC_RECALL,
                             NN_METRIC_MEAN_ABSOLUTE_ERROR};
    for (size_t m = 0; m < 4; m++) NN_ASSERT_OK(nn_model_add_metric(model, all[m]));
    double v[5];
    evaluate(model, x, y, 1, v, 5);
    double correct = 0, tp = 0, pp = 0, ap = 0, mae = 0;
    for (size_t r = 0; r < N; r++) {
        int pred = p[r] > 0.5, truth = y[r] > 0.5f;
        correct += pred == truth;
        tp += pred && truth;
        pp += pred;
        ap += truth;
        mae += fabs(y[r] - p[r]);
    }
    NN_ASSERT_CLOSE(v[1], correct / N, 0, 1e-12);
    NN_ASSERT_CLOSE(v[2], tp / pp, 1e-12, 1e-12);
    NN_ASSERT_CLOSE(v[3], tp / ap, 1e-12, 1e-12);
    NN_ASSERT_CLOSE(v[4], mae / N, 1e-5, 1e-7);
    nn_model_free(model);
}

/* The same binary metrics on logits (linear layer, from_logits = 1) judge
 * sigmoid(z): the same values as on the sigmoid layer. */
static void binary_metrics_from_logits(void **state) {
    (void)state;
    float x[N * IN], y[N];
    inputs(x, 10);
    nn_model *probs = one_layer(1, NN_ACTIVATION_SIGMOID, 11);
    nn_model *logit = one_layer(1, NN_ACTIVATION_LINEAR, 11);
    NN_ASSERT_OK(nn_model_set_loss(probs, NN_LOSS_BINARY_CROSSENTROPY, 0));
    NN_ASSERT_OK(nn_model_set_loss(logit, NN_LOSS_BINARY_CROSSENTROPY, 1));
    for (size_t r = 0; r < N; r++) y[r] = (float)(r % 3 == 0);
    const nn_metric metrics[] = {NN_METRIC_BINARY_ACCURACY, NN_METRIC_PRECISION,
                                 NN_METRIC_RECALL, NN_METRIC_F1_SCORE};
    const double thresholds[] = {0.5, 0.3, 0.7};
    for (size_t m = 0; m < 4; m++)
        for (size_t t = 0; t < 3; t++) {
            double a = only_metric(probs, metrics[m], thresholds[t], x, y, 1);
            double b = only_metric(logit, metrics[m], thresholds[t], x, y, 1);
            NN_ASSERT_CLOSE(b, a, 1e-12, 1e-12);
        }
    nn_model_free(probs);
    nn_model_free(logit);
}

/* Four classes, softmax, class-index targets: accuracy and
 * sparse_categorical_accuracy (argmax), top-k for k = 1, 2, 3, and the
 * macro F1 over the classes. */
static void multiclass_metrics(void **state) {
    (void)state;
    enum { C = 4 };
    float x[N * IN], y[N];
    inputs(x, 12);
    nn_model *model = one_layer(C, NN_ACTIVATION_SOFTMAX, 13);
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0));
    double z[N * C], p[N * C];
    logits(model, x, C, z);
    softmax_rows(z, C, p);
    for (size_t r = 0; r < N; r++) y[r] = (float)(r % C);

    size_t rank_of_label[N], predicted[N];
    double correct = 0;
    for (size_t r = 0; r < N; r++) {
        size_t label = (size_t)y[r], rank = 0;
        for (size_t c = 0; c < C; c++) rank += p[r * C + c] > p[r * C + label];
        rank_of_label[r] = rank; /* 0: the highest */
        predicted[r] = argmax(p + r * C, C);
        correct += predicted[r] == label;
    }
    NN_ASSERT_CLOSE(only_metric(model, NN_METRIC_ACCURACY, NAN, x, y, 1), correct / N, 0, 1e-12);
    NN_ASSERT_CLOSE(only_metric(model, NN_METRIC_SPARSE_CATEGORICAL_ACCURACY, NAN, x, y, 1),
                    correct / N, 0, 1e-12);
    for (size_t k = 1; k <= 3; k++) {
        double hits = 0;
        for (size_t r = 0; r < N; r++) hits += rank_of_label[r] < k;
        NN_ASSERT_CLOSE(only_metric(model, NN_METRIC_TOP_K_ACCURACY, (double)k, x, y, 1),
                        hits / N, 0, 1e-12);
        if (k == 1) NN_ASSERT_CLOSE(hits / N, correct / N, 0, 1e-12);
    }
    /* Macro F1: each class's 2 TP / (2 TP + FP + FN), averaged. */
    double f1 = 0;
    for (size_t c = 0; c < C; c++) {
        double tp = 0, fp = 0, fn = 0;
        for (size_t r = 0; r < N; r++) {
            tp += predicted[r] == c && (size_t)y[r] == c;
            fp += predicted[r] == c && (size_t)y[r] != c;
            fn += predicted[r] != c && (size_t)y[r] == c;
        }
        f1 += tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 0;
    }
    NN_ASSERT_CLOSE(only_metric(model, NN_METRIC_F1_MACRO, NAN, x, y, 1), f1 / C, 1e-9, 1e-12);
    nn_model_free(model);
}

/* One-hot targets with categorical cross-entropy: categorical accuracy,
 * top-2 accuracy and the mean absolute error of the probabilities. */
static void categorical_metrics(void **state) {
    (void)state;
    enum { C = 3 };
    float x[N * IN], y[N * C];
    inputs(x, 14);
    nn_model *model = one_layer(C, NN_ACTIVATION_SOFTMAX, 15);
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0));
    double z[N * C], p[N * C];
    logits(model, x, C, z);
    softmax_rows(z, C, p);
    memset(y, 0, sizeof y);
    for (size_t r = 0; r < N; r++) y[r * C + (r * 7) % C] = 1.0f;
    double correct = 0, top2 = 0, mae = 0;
    for (size_t r = 0; r < N; r++) {
        size_t label = (r * 7) % C, rank = 0;
        for (size_t c = 0; c < C; c++) {
            rank += p[r * C + c] > p[r * C + label];
            mae += fabs(y[r * C + c] - p[r * C + c]);
        }
        correct += argmax(p + r * C, C) == label;
        top2 += rank < 2;
    }
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_CATEGORICAL_ACCURACY));
    NN_ASSERT_OK(nn_model_add_metric_ex(model, NN_METRIC_TOP_K_ACCURACY, 2));
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_MEAN_ABSOLUTE_ERROR));
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_ACCURACY));
    double v[5];
    evaluate(model, x, y, C, v, 5);
    NN_ASSERT_CLOSE(v[1], correct / N, 0, 1e-12);
    NN_ASSERT_CLOSE(v[2], top2 / N, 0, 1e-12);
    NN_ASSERT_CLOSE(v[3], mae / (N * C), 1e-5, 1e-7);
    NN_ASSERT_CLOSE(v[4], correct / N, 0, 1e-12); /* "accuracy" is categorical here */
    nn_model_free(model);
}

/* fit logs the metrics of the training pass and val_ + each metric; the
 * validation values equal evaluate's on the final weights. */
static void metrics_in_fit_logs(void **state) {
    (void)state;
    float x[N * IN], y[N];
    inputs(x, 16);
    for (size_t r = 0; r < N; r++) y[r] = (float)(x[r * IN] + x[r * IN + 1] > 0);
    nn_model *model = one_layer(1, NN_ACTIVATION_SIGMOID, 17);
    nn_test_compile(model, NN_LOSS_BINARY_CROSSENTROPY, 0, NN_OPTIMIZER_ADAM, 0.05);
    NN_ASSERT_OK(nn_model_add_metric_ex(model, NN_METRIC_PRECISION, 0.4));
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_F1_SCORE));
    nn_test_history h;
    nn_test_history_init(&h);
    nn_fit_options o = nn_test_fit_options(5, 8, 1);
    o.validation_x = x;
    o.validation_y = y;
    o.validation_rows = N;
    nn_test_record_into(&o, &h);
    NN_ASSERT_OK(nn_model_fit(model, x, y, N, IN, 1, &o));
    assert_int_equal(h.epochs, 5);
    assert_int_equal(h.n_logs, 6);
    const char *const names[6] = {"loss", "precision", "f1_score", "val_loss", "val_precision",
                                  "val_f1_score"};
    for (size_t i = 0; i < 6; i++) assert_string_equal(h.names[i], names[i]);
    double v[3];
    NN_ASSERT_OK(nn_model_evaluate(model, x, y, N, IN, 1, v, 3));
    NN_ASSERT_CLOSE(nn_test_log(&h, 4, "val_loss"), v[0], 1e-6, 1e-9);
    NN_ASSERT_CLOSE(nn_test_log(&h, 4, "val_precision"), v[1], 0, 1e-12);
    NN_ASSERT_CLOSE(nn_test_log(&h, 4, "val_f1_score"), v[2], 0, 1e-12);
    for (size_t e = 0; e < 5; e++) {
        double p = nn_test_log(&h, e, "precision"), f = nn_test_log(&h, e, "f1_score");
        assert_true(p >= 0 && p <= 1 && f >= 0 && f <= 1);
    }
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Confusion matrix                                                         */
/* ------------------------------------------------------------------------ */

/* One output: 2 classes, threshold 0.5 on probabilities, 0 on logits. */
static void confusion_matrix_binary(void **state) {
    (void)state;
    float x[N * IN], y[N];
    inputs(x, 18);
    nn_model *model = one_layer(1, NN_ACTIVATION_SIGMOID, 19);
    nn_model *logit = one_layer(1, NN_ACTIVATION_LINEAR, 19);
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_BINARY_CROSSENTROPY, 0));
    NN_ASSERT_OK(nn_model_set_loss(logit, NN_LOSS_BINARY_CROSSENTROPY, 1));
    double z[N];
    logits(model, x, 1, z);
    size_t want[4] = {0};
    for (size_t r = 0; r < N; r++) {
        y[r] = (float)(r % 3 != 0);
        want[(size_t)y[r] * 2 + (z[r] > 0)]++;
    }
    assert_true(want[1] + want[2] > 0 && want[0] + want[3] > 0);
    nn_model *models[2] = {model, logit};
    for (int m = 0; m < 2; m++) {
        size_t counts[6], classes = 0;
        for (int i = 0; i < 6; i++) counts[i] = 999;
        NN_ASSERT_OK(nn_model_confusion_matrix(models[m], x, y, N, IN, 1, counts, 6, &classes));
        assert_int_equal(classes, 2);
        for (int i = 0; i < 4; i++) assert_int_equal(counts[i], want[i]);
        assert_int_equal(counts[4], 999); /* nothing written past classes^2 */
        assert_int_equal(counts[5], 999);
        /* Consistent with binary_accuracy: the diagonal over the total. */
        double acc = only_metric(models[m], NN_METRIC_BINARY_ACCURACY, NAN, x, y, 1);
        NN_ASSERT_CLOSE(acc, (double)(counts[0] + counts[3]) / N, 0, 1e-12);
    }
    nn_model_free(model);
    nn_model_free(logit);
}

/* Several classes: rows are the true class, columns the argmax. */
static void confusion_matrix_multiclass(void **state) {
    (void)state;
    enum { C = 4 };
    float x[N * IN], labels[N], onehot[N * C];
    inputs(x, 20);
    nn_model *sparse = one_layer(C, NN_ACTIVATION_SOFTMAX, 21);
    nn_model *dense = one_layer(C, NN_ACTIVATION_SOFTMAX, 21);
    NN_ASSERT_OK(nn_model_set_loss(sparse, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0));
    NN_ASSERT_OK(nn_model_set_loss(dense, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0));
    double z[N * C];
    logits(sparse, x, C, z);
    size_t want[C * C] = {0};
    memset(onehot, 0, sizeof onehot);
    for (size_t r = 0; r < N; r++) {
        size_t t = (r * 3) % C;
        labels[r] = (float)t;
        onehot[r * C + t] = 1.0f;
        want[t * C + argmax(z + r * C, C)]++;
    }
    size_t counts[C * C], classes = 0, total = 0;
    NN_ASSERT_OK(nn_model_confusion_matrix(sparse, x, labels, N, IN, 1, counts, C * C, &classes));
    assert_int_equal(classes, C);
    for (size_t i = 0; i < C * C; i++) {
        assert_int_equal(counts[i], want[i]);
        total += counts[i];
    }
    assert_int_equal(total, N);
    memset(counts, 0, sizeof counts);
    NN_ASSERT_OK(nn_model_confusion_matrix(dense, x, onehot, N, IN, C, counts, C * C, &classes));
    assert_int_equal(classes, C);
    for (size_t i = 0; i < C * C; i++) assert_int_equal(counts[i], want[i]);
    /* Only the number of classes: counts NULL, capacity 0. */
    classes = 0;
    NN_ASSERT_OK(nn_model_confusion_matrix(sparse, x, labels, N, IN, 1, NULL, 0, &classes));
    assert_int_equal(classes, C);
    nn_model_free(sparse);
    nn_model_free(dense);
}

/* Binary cross-entropy on several outputs pools the 2x2 counts of every
 * output. */
static void confusion_matrix_multilabel(void **state) {
    (void)state;
    enum { C = 3 };
    float x[N * IN], y[N * C];
    inputs(x, 22);
    nn_model *model = one_layer(C, NN_ACTIVATION_SIGMOID, 23);
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_BINARY_CROSSENTROPY, 0));
    double z[N * C];
    logits(model, x, C, z);
    size_t want[4] = {0};
    for (size_t i = 0; i < N * C; i++) {
        y[i] = (float)((i * 5) % 3 == 0);
        want[(size_t)y[i] * 2 + (z[i] > 0)]++;
    }
    size_t counts[4], classes = 0;
    NN_ASSERT_OK(nn_model_confusion_matrix(model, x, y, N, IN, C, counts, 4, &classes));
    assert_int_equal(classes, 2);
    for (size_t i = 0; i < 4; i++) assert_int_equal(counts[i], want[i]);
    assert_int_equal(counts[0] + counts[1] + counts[2] + counts[3], N * C);
    nn_model_free(model);
}

static void confusion_matrix_rejects_bad_inputs(void **state) {
    (void)state;
    enum { C = 3 };
    float x[N * IN], y[N];
    inputs(x, 24);
    for (size_t r = 0; r < N; r++) y[r] = (float)(r % C);
    nn_model *model = one_layer(C, NN_ACTIVATION_SOFTMAX, 25);
    size_t counts[C * C], classes = 77;
    for (size_t i = 0; i < C * C; i++) counts[i] = 77;

    /* No loss, then a loss that is not a classification loss. */
    NN_ASSERT_ERROR(nn_model_confusion_matrix(model, x, y, N, IN, 1, counts, C * C, &classes),
                    NN_ERROR_INVALID_STATE, "loss");
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_MEAN_SQUARED_ERROR, 0));
    float yy[N * C];
    memset(yy, 0, sizeof yy);
    NN_ASSERT_ERROR(nn_model_confusion_matrix(model, x, yy, N, IN, C, counts, C * C, &classes),
                    NN_ERROR_INVALID_STATE, "classification", "mean_squared_error");
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0));

    NN_ASSERT_ERROR(nn_model_confusion_matrix(model, x, y, N, IN, 1, counts, C * C, NULL),
                    NN_ERROR_NULL_POINTER, "classes");
    NN_ASSERT_ERROR(nn_model_confusion_matrix(model, x, y, N, IN, 1, NULL, C * C, &classes),
                    NN_ERROR_NULL_POINTER, "counts");
    NN_ASSERT_ERROR(nn_model_confusion_matrix(model, x, y, N, IN, 1, counts, C * C - 1, &classes),
                    NN_ERROR_SHAPE_MISMATCH, "counts", "8");
    NN_ASSERT_ERROR(nn_model_confusion_matrix(model, NULL, y, N, IN, 1, counts, C * C, &classes),
                    NN_ERROR_NULL_POINTER, "x");
    NN_ASSERT_ERROR(nn_model_confusion_matrix(model, x, NULL, N, IN, 1, counts, C * C, &classes),
                    NN_ERROR_NULL_POINTER, "y");
    NN_ASSERT_ERROR(nn_model_confusion_matrix(model, x, y, N, IN - 1, 1, counts, C * C, &classes),
                    NN_ERROR_SHAPE_MISMATCH, "expected 3 input columns, got 2");
    NN_ASSERT_ERROR(nn_model_confusion_matrix(model, x, y, 0, IN, 1, counts, C * C, &classes),
                    NN_ERROR_SHAPE_MISMATCH, "0 rows");
    NN_ASSERT_SIZE_ERROR(
        nn_model_confusion_matrix(model, x, y, SIZE_MAX, IN, 1, counts, C * C, &classes), "x");
    y[7] = 3.0f; /* class index out of range */
    NN_ASSERT_ERROR(nn_model_confusion_matrix(model, x, y, N, IN, 1, counts, C * C, &classes),
                    NN_ERROR_INVALID_ARGUMENT, "3");
    y[7] = 1.0f;
    x[5] = NAN;
    NN_ASSERT_ERROR(nn_model_confusion_matrix(model, x, y, N, IN, 1, counts, C * C, &classes),
                    NN_ERROR_NON_FINITE, "row 1, column 2");
    x[5] = 0.0f;
    /* Out-parameters are written only on success. */
    assert_int_equal(classes, 77);
    for (size_t i = 0; i < C * C; i++) assert_int_equal(counts[i], 77);
    NN_ASSERT_OK(nn_model_confusion_matrix(model, x, y, N, IN, 1, counts, C * C, &classes));
    assert_int_equal(classes, C);
    nn_model_free(model);

    /* A model without layers. */
    model = nn_test_model(IN, 1, 0, NULL);
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_BINARY_CROSSENTROPY, 0));
    NN_ASSERT_ERROR(nn_model_confusion_matrix(model, x, y, N, IN, 1, counts, C * C, &classes),
                    NN_ERROR_INVALID_STATE, "layer");
    nn_model_free(model);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(metric_names),
    cmocka_unit_test(clear_metrics),
    cmocka_unit_test(add_metric_ex_duplicates_and_defaults),
    cmocka_unit_test(add_metric_ex_rejects_bad_parameters),
    cmocka_unit_test(metrics_checked_against_model),
    cmocka_unit_test(binary_metrics),
    cmocka_unit_test(binary_metrics_from_logits),
    cmocka_unit_test(multiclass_metrics),
    cmocka_unit_test(categorical_metrics),
    cmocka_unit_test(metrics_in_fit_logs),
    cmocka_unit_test(confusion_matrix_binary),
    cmocka_unit_test(confusion_matrix_multiclass),
    cmocka_unit_test(confusion_matrix_multilabel),
    cmocka_unit_test(confusion_matrix_rejects_bad_inputs),
};

NN_TEST_MAIN("metrics", tests)
