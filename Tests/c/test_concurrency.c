/*
 * One model used by many threads at once (nn.h, "Threading"): inference
 * calls overlap each other and give the serial results bit for bit; calls
 * that change the model are refused with NN_ERROR_BUSY while other threads
 * use it, and other threads' calls are refused while it changes; a fit's
 * callbacks use the model freely; nn_model_free while others predict.
 *
 * The worker threads never call cmocka (its failures jump out of the
 * current test, which only the main thread may do): they record what they
 * saw, and the main thread asserts after joining them. `make sanitize`
 * (scripts/sanitize.sh, its tsan stage) also builds and runs this suite
 * with ThreadSanitizer, against a libnn built with -sanitize=thread.
 */
#include "nn_test.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { THREADS = 8, PREDICTS = 1000, INPUTS = 12, OUTPUTS = 3, MAX_ROWS = 300 };

/* The row counts the predicting threads cycle through: one row (the fused
 * row kernels), a few (the small-product path), and more rows than one
 * inference chunk (256) every so often (the blocked GEMM, which may hand
 * parts to the thread pool). */
static size_t rows_for(size_t call) { return call % 97 == 96 ? MAX_ROWS : call % 3 == 0 ? 1 : 5 + call % 4; }

/* 12 -> 32 relu -> BatchNorm -> 16 tanh -> 3 softmax: a model off the
 * dense-only path (BatchNorm), or (batch_norm = 0) the dense-only path. */
static nn_model *make_model(int batch_norm) {
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(INPUTS, 7, &model));
    NN_ASSERT_OK(nn_model_add_dense(model, 32, NN_ACTIVATION_RELU));
    if (batch_norm) NN_ASSERT_OK(nn_model_add_batch_normalization(model, 0.1, 1e-3));
    NN_ASSERT_OK(nn_model_add_dense(model, 16, NN_ACTIVATION_TANH));
    NN_ASSERT_OK(nn_model_add_dense(model, OUTPUTS, NN_ACTIVATION_SOFTMAX));
    nn_test_compile(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_ADAM, 0.01);
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_ACCURACY));
    return model;
}

static float inputs[MAX_ROWS * INPUTS], targets[MAX_ROWS * OUTPUTS];

static void make_data(void) {
    nn_test_rng rng = {42};
    nn_test_fill(&rng, inputs, MAX_ROWS * INPUTS, -2, 2);
    nn_test_one_hot(&rng, targets, MAX_ROWS, OUTPUTS);
}

/* Call number `call`'s rows start here. */
static size_t start_for(size_t call) { return call * 7 % (MAX_ROWS - rows_for(call) + 1); }

/* What one predicting thread is given and what it saw. */
typedef struct predictor {
    nn_model *model;
    size_t first;              /* its calls are first, first + 1, ... */
    float *const *expected;    /* each call's output from the serial run */
    size_t calls, mismatches, failures;
    nn_status failure;
    char message[256];
} predictor;

static void *predict_loop(void *arg) {
    predictor *p = arg;
    static _Thread_local float out[MAX_ROWS * OUTPUTS];
    for (size_t i = 0; i < PREDICTS; i++) {
        size_t call = p->first + i, rows = rows_for(call), start = start_for(call);
        nn_status s = nn_model_predict(p->model, inputs + start * INPUTS, rows, INPUTS, out, rows * OUTPUTS);
        p->calls++;
        if (s != NN_OK) {
            if (p->failures++ == 0) {
                p->failure = s;
                snprintf(p->message, sizeof p->message, "%s", nn_last_error());
            }
            continue;
        }
        if (memcmp(out, p->expected[call], rows * OUTPUTS * sizeof(float)) != 0) p->mismatches++;
    }
    return NULL;
}

/* 8 threads x 1000 predicts of 1 to 300 rows on one model: every output
 * equals, bit for bit, the output of the same call made serially first. */
static void run_predictors(int batch_norm) {
    make_data();
    nn_model *model = make_model(batch_norm);
    /* Some training first, so that BatchNorm's statistics are not 0 and 1. */
    nn_fit_options o = nn_test_fit_options(2, 32, 0);
    NN_ASSERT_OK(nn_model_fit(model, inputs, targets, MAX_ROWS, INPUTS, OUTPUTS, &o));
    float **expected = malloc(THREADS * PREDICTS * sizeof *expected);
    assert_non_null(expected);
    for (size_t call = 0; call < THREADS * PREDICTS; call++)
        expected[call] = nn_test_predict(model, inputs + start_for(call) * INPUTS, rows_for(call), INPUTS);
    predictor p[THREADS];
    pthread_t threads[THREADS];
    for (size_t t = 0; t < THREADS; t++) {
        p[t] = (predictor){.model = model, .first = t * PREDICTS, .expected = expected};
        assert_int_equal(pthread_create(&threads[t], NULL, predict_loop, &p[t]), 0);
    }
    for (size_t t = 0; t < THREADS; t++) assert_int_equal(pthread_join(threads[t], NULL), 0);
    for (size_t t = 0; t < THREADS; t++) {
        if (p[t].failures) fail_msg("thread %zu: %zu predicts failed, the first with %d: %s", t, p[t].failures,
                                    (int)p[t].failure, p[t].message);
        assert_int_equal(p[t].calls, PREDICTS);
        assert_int_equal(p[t].mismatches, 0);
    }
    for (size_t call = 0; call < THREADS * PREDICTS; call++) free(expected[call]);
    free(expected);
    nn_model_free(model);
}

static void concurrent_predicts_equal_the_serial_ones(void **state) {
    (void)state;
    run_predictors(1);
}

static void concurrent_predicts_on_the_dense_path_equal_the_serial_ones(void **state) {
    (void)state;
    run_predictors(0);
}

/* evaluate and the confusion matrix on 4 threads at once, interleaved with
 * predicts: the serial values exactly. */
typedef struct evaluator {
    nn_model *model;
    double expected[2];
    size_t counts[OUTPUTS * OUTPUTS];
    size_t bad;
} evaluator;

static void *evaluate_loop(void *arg) {
    evaluator *e = arg;
    double values[2];
    size_t counts[OUTPUTS * OUTPUTS], classes = 0;
    static _Thread_local float out[MAX_ROWS * OUTPUTS];
    for (int i = 0; i < 100; i++) {
        if (nn_model_evaluate(e->model, inputs, targets, MAX_ROWS, INPUTS, OUTPUTS, values, 2) != NN_OK ||
            memcmp(values, e->expected, sizeof values) != 0)
            e->bad++;
        if (nn_model_confusion_matrix(e->model, inputs, targets, MAX_ROWS, INPUTS, OUTPUTS, counts,
                                      OUTPUTS * OUTPUTS, &classes) != NN_OK ||
            classes != OUTPUTS || memcmp(counts, e->counts, sizeof counts) != 0)
            e->bad++;
        if (nn_model_predict(e->model, inputs, 3, INPUTS, out, 3 * OUTPUTS) != NN_OK) e->bad++;
    }
    return NULL;
}

static void concurrent_evaluations_equal_the_serial_ones(void **state) {
    (void)state;
    make_data();
    nn_model *model = make_model(1);
    evaluator e[4];
    pthread_t threads[4];
    NN_ASSERT_OK(nn_model_evaluate(model, inputs, targets, MAX_ROWS, INPUTS, OUTPUTS, e[0].expected, 2));
    size_t classes = 0;
    NN_ASSERT_OK(nn_model_confusion_matrix(model, inputs, targets, MAX_ROWS, INPUTS, OUTPUTS, e[0].counts,
                                           OUTPUTS * OUTPUTS, &classes));
    for (int t = 0; t < 4; t++) {
        e[t] = e[0];
        e[t].model = model;
        e[t].bad = 0;
        assert_int_equal(pthread_create(&threads[t], NULL, evaluate_loop, &e[t]), 0);
    }
    for (int t = 0; t < 4; t++) assert_int_equal(pthread_join(threads[t], NULL), 0);
    for (int t = 0; t < 4; t++) assert_int_equal(e[t].bad, 0);
    nn_model_free(model);
}

/* A fit in progress: another thread's calls, reads included, are refused
 * with NN_ERROR_BUSY; the fit's own callback (on the fit's thread) may
 * predict, read and set weights. */
typedef struct outsider {
    nn_model *model;
    nn_status predict, output_dim, set_weight, fit;
    char predict_message[256], set_message[256];
} outsider;

static void *outsider_calls(void *arg) {
    outsider *o = arg;
    float out[OUTPUTS], bias[32] = {0};
    size_t width = 0;
    o->predict = nn_model_predict(o->model, inputs, 1, INPUTS, out, OUTPUTS);
    snprintf(o->predict_message, sizeof o->predict_message, "%s", nn_last_error());
    o->output_dim = nn_model_output_dim(o->model, &width);
    o->set_weight = nn_model_set_weight(o->model, 1, bias, 32);
    snprintf(o->set_message, sizeof o->set_message, "%s", nn_last_error());
    nn_fit_options f = nn_test_fit_options(1, 32, 0);
    o->fit = nn_model_fit(o->model, inputs, targets, MAX_ROWS, INPUTS, OUTPUTS, &f);
    return NULL;
}

typedef struct during_fit {
    nn_model *model;
    outsider other;
    nn_status own_predict, own_get, own_set;
    int called;
} during_fit;

static int at_epoch_end(void *user_data, size_t epoch, size_t n_logs, const char *const *names,
                        const double *values) {
    (void)epoch, (void)n_logs, (void)names, (void)values;
    during_fit *d = user_data;
    if (d->called++) return 0;
    pthread_t thread;
    d->other.model = d->model;
    if (pthread_create(&thread, NULL, outsider_calls, &d->other) != 0 || pthread_join(thread, NULL) != 0) return 1;
    float out[OUTPUTS], bias[32];
    d->own_predict = nn_model_predict(d->model, inputs, 1, INPUTS, out, OUTPUTS);
    d->own_get = nn_model_get_weight(d->model, 1, bias, 32);
    d->own_set = nn_model_set_weight(d->model, 1, bias, 32);
    return 0;
}

static void fit_refuses_other_threads_and_lets_its_callback_in(void **state) {
    (void)state;
    make_data();
    nn_model *model = make_model(0);
    during_fit d = {.model = model};
    nn_fit_options o = nn_test_fit_options(2, 32, 0);
    o.on_epoch_end = at_epoch_end;
    o.user_data = &d;
    NN_ASSERT_OK(nn_model_fit(model, inputs, targets, MAX_ROWS, INPUTS, OUTPUTS, &o));
    assert_int_equal(d.called, 2);
    assert_int_equal(d.other.predict, NN_ERROR_BUSY);
    assert_true(nn_test_contains(d.other.predict_message, "busy"));
    assert_true(nn_test_contains(d.other.predict_message, "another thread"));
    assert_int_equal(d.other.output_dim, NN_ERROR_BUSY);
    assert_int_equal(d.other.set_weight, NN_ERROR_BUSY);
    assert_true(nn_test_contains(d.other.set_message, "busy"));
    assert_int_equal(d.other.fit, NN_ERROR_BUSY);
    assert_int_equal(d.own_predict, NN_OK);
    assert_int_equal(d.own_get, NN_OK);
    assert_int_equal(d.own_set, NN_OK);
    /* The fit is over: everything is allowed again, from any thread. */
    float out[OUTPUTS];
    NN_ASSERT_OK(nn_model_predict(model, inputs, 1, INPUTS, out, OUTPUTS));
    nn_model_free(model);
}

/* One thread predicts without pause while the main thread swaps the first
 * kernel between two sets of values: each swap either happens between two
 * predicts or is refused with NN_ERROR_BUSY (a predict running), and each
 * predict either runs between two swaps or is refused (a swap running);
 * every prediction is the serial output of one set or of the other, never
 * of a mix (no torn read). */
typedef struct swapper {
    nn_model *model;
    const float *with_a, *with_b;
    atomic_int stop;
    atomic_size_t predicts;
    size_t busy, torn, failures;
} swapper;

enum { SWAP_ROWS = 64 };

static void *predict_until_stopped(void *arg) {
    swapper *s = arg;
    static _Thread_local float out[SWAP_ROWS * OUTPUTS];
    while (!atomic_load(&s->stop)) {
        nn_status st = nn_model_predict(s->model, inputs, SWAP_ROWS, INPUTS, out, SWAP_ROWS * OUTPUTS);
        if (st != NN_OK) {
            if (st == NN_ERROR_BUSY) s->busy++;
            else s->failures++;
            continue;
        }
        atomic_fetch_add(&s->predicts, 1);
        size_t n = SWAP_ROWS * OUTPUTS * sizeof(float);
        if (memcmp(out, s->with_a, n) != 0 && memcmp(out, s->with_b, n) != 0) s->torn++;
    }
    return NULL;
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void weights_change_only_between_predicts(void **state) {
    (void)state;
    make_data();
    nn_model *model = make_model(1);
    size_t n = nn_test_weight_size(model, 0);
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    NN_ASSERT_OK(nn_model_get_weight(model, 0, a, n));
    for (size_t i = 0; i < n; i++) b[i] = -a[i];
    float *with_a = nn_test_predict(model, inputs, SWAP_ROWS, INPUTS);
    nn_test_set_weight(model, 0, b, n);
    float *with_b = nn_test_predict(model, inputs, SWAP_ROWS, INPUTS);
    assert_memory_not_equal(with_a, with_b, SWAP_ROWS * OUTPUTS * sizeof(float));

    swapper s = {.model = model, .with_a = with_a, .with_b = with_b};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, predict_until_stopped, &s), 0);
    size_t swapped = 0, busy = 0, other = 0;
    char message[256] = "";
    /* Until both outcomes have been seen many times (a few milliseconds
     * here; the deadline only bounds a machine that never runs the two
     * threads side by side). */
    for (double end = seconds() + 20; (swapped < 50 || busy < 50 || atomic_load(&s.predicts) < 50) && seconds() < end;) {
        nn_status st = nn_model_set_weight(model, 0, swapped % 2 ? b : a, n);
        if (st == NN_OK) {
            swapped++;
        } else if (st == NN_ERROR_BUSY) {
            if (busy++ == 0) snprintf(message, sizeof message, "%s", nn_last_error());
        } else {
            other++;
        }
    }
    atomic_store(&s.stop, 1);
    assert_int_equal(pthread_join(thread, NULL), 0);
    print_message("set_weight: %zu done, %zu refused (busy); predict: %zu done, %zu refused (busy)\n", swapped,
                  busy, atomic_load(&s.predicts), s.busy);
    assert_int_equal(other, 0);
    assert_int_equal(s.failures, 0);
    assert_true(atomic_load(&s.predicts) >= 50);
    assert_int_equal(s.torn, 0);
    assert_true(swapped >= 50);
    assert_true(busy >= 1);
    assert_true(nn_test_contains(message, "busy"));
    assert_true(nn_test_contains(message, "predict"));
    free(a), free(b), free(with_a), free(with_b);
    nn_model_free(model);
}

/* nn_model_free while another thread predicts: that thread's calls succeed
 * until the handle is gone, then fail with NN_ERROR_INVALID_HANDLE. */
typedef struct freed_under {
    nn_model *model;
    atomic_int started;
    size_t ok;
    nn_status last;
} freed_under;

static void *predict_until_freed(void *arg) {
    freed_under *f = arg;
    float out[8 * OUTPUTS];
    for (;;) {
        nn_status s = nn_model_predict(f->model, inputs, 8, INPUTS, out, 8 * OUTPUTS);
        if (s != NN_OK) {
            f->last = s;
            return NULL;
        }
        f->ok++;
        atomic_store(&f->started, 1);
    }
}

static void free_while_predicting(void **state) {
    (void)state;
    make_data();
    freed_under f = {.model = make_model(0)};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, predict_until_freed, &f), 0);
    while (!atomic_load(&f.started)) sched_yield();
    nn_model_free(f.model);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_true(f.ok >= 1);
    assert_int_equal(f.last, NN_ERROR_INVALID_HANDLE);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(concurrent_predicts_equal_the_serial_ones),
    cmocka_unit_test(concurrent_predicts_on_the_dense_path_equal_the_serial_ones),
    cmocka_unit_test(concurrent_evaluations_equal_the_serial_ones),
    cmocka_unit_test(fit_refuses_other_threads_and_lets_its_callback_in),
    cmocka_unit_test(weights_change_only_between_predicts),
    cmocka_unit_test(free_while_predicting),
};

NN_TEST_MAIN("concurrency", tests)
