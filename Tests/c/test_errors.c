/*
 * Version, status strings and the per-thread last-error message.
 */
#include "nn_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* nn_version() is the header's version, as "MAJOR.MINOR.PATCH". */
static void version_matches_header(void **state) {
    (void)state;
    const char *v = nn_version();
    assert_non_null(v);
    assert_string_equal(v, NN_VERSION_STRING);
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", NN_VERSION_MAJOR, NN_VERSION_MINOR,
             NN_VERSION_PATCH);
    assert_string_equal(NN_VERSION_STRING, expected);
    /* Static: the same pointer every time. */
    assert_ptr_equal(nn_version(), v);
}

/* Every status has its own short description; values outside the enum are
 * "unknown status". */
static void status_strings(void **state) {
    (void)state;
    const nn_status all[] = {
        NN_OK,
        NN_ERROR_NULL_POINTER,
        NN_ERROR_INVALID_ARGUMENT,
        NN_ERROR_SHAPE_MISMATCH,
        NN_ERROR_INVALID_HANDLE,
        NN_ERROR_INVALID_STATE,
        NN_ERROR_NON_FINITE,
        NN_ERROR_OUT_OF_MEMORY,
        NN_ERROR_INTERNAL,
        NN_ERROR_IO,
        NN_ERROR_INVALID_FILE,
        NN_ERROR_BUSY,
        NN_ERROR_COMMUNICATION,
    };
    const size_t n = sizeof all / sizeof all[0];
    const char *text[sizeof all / sizeof all[0]];
    for (size_t i = 0; i < n; i++) {
        text[i] = nn_status_string(all[i]);
        assert_non_null(text[i]);
        assert_true(strlen(text[i]) > 0);
        assert_string_not_equal(text[i], "unknown status");
        for (size_t j = 0; j < i; j++) assert_string_not_equal(text[i], text[j]);
    }
    assert_string_equal(nn_status_string(NN_ERROR_INVALID_ARGUMENT), "invalid argument");
    assert_true(nn_test_contains(nn_status_string(NN_ERROR_NULL_POINTER), "null"));
    assert_true(nn_test_contains(nn_status_string(NN_ERROR_SHAPE_MISMATCH), "shape"));
    assert_true(nn_test_contains(nn_status_string(NN_ERROR_INVALID_HANDLE), "handle"));
    assert_true(nn_test_contains(nn_status_string(NN_ERROR_INVALID_STATE), "state"));
    assert_true(nn_test_contains(nn_status_string(NN_ERROR_NON_FINITE), "finite"));
    assert_true(nn_test_contains(nn_status_string(NN_ERROR_OUT_OF_MEMORY), "memory"));
    assert_true(nn_test_contains(nn_status_string(NN_ERROR_INTERNAL), "internal"));
    assert_true(nn_test_contains(nn_status_string(NN_ERROR_IO), "output"));
    assert_true(nn_test_contains(nn_status_string(NN_ERROR_INVALID_FILE), "file"));
    assert_true(nn_test_contains(nn_status_string(NN_ERROR_BUSY), "busy"));
    assert_true(nn_test_contains(nn_status_string(NN_ERROR_COMMUNICATION), "communication"));

    const int unknown[] = {13, 14, 100, 255, 65536, -1, -100, 0x7fffffff};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = nn_status_string((nn_status)unknown[i]);
        assert_non_null(s);
        assert_string_equal(s, "unknown status");
    }
}

/* The message of a failure stays until the next failure: a successful call
 * in between does not clear it ("the most recent failed call"). */
static void last_error_survives_success(void **state) {
    (void)state;
    nn_model *model = NULL;
    NN_ASSERT_ERROR(nn_model_create(0, 1, &model), NN_ERROR_SHAPE_MISMATCH, "input_dim");
    assert_null(model);

    size_t dim = 0;
    NN_ASSERT_OK(nn_model_create(5, 1, &model));
    NN_ASSERT_OK(nn_model_input_dim(model, &dim));
    assert_int_equal(dim, 5);
    assert_true(nn_test_contains(nn_last_error(), "input_dim"));

    /* A new failure replaces the message. */
    NN_ASSERT_ERROR(nn_model_add_dense(model, 0, NN_ACTIVATION_LINEAR),
                    NN_ERROR_SHAPE_MISMATCH, "units");
    assert_false(nn_test_contains(nn_last_error(), "input_dim"));
    nn_model_free(model);
}

/* Thread bodies for the per-thread tests. */
typedef struct thread_result {
    char before[256];   /* nn_last_error() before any failure on the thread */
    char after[256];    /* nn_last_error() after this thread's own failure */
    nn_status status;   /* the status of that failure */
} thread_result;

static void *fail_on_thread(void *arg) {
    thread_result *r = arg;
    snprintf(r->before, sizeof r->before, "%s", nn_last_error());
    r->status = nn_optimizer_options_init(NULL, NN_OPTIMIZER_SGD);
    snprintf(r->after, sizeof r->after, "%s", nn_last_error());
    return NULL;
}

/* A thread on which nothing failed sees "", and failures on one thread do
 * not change another thread's message. */
static void last_error_is_per_thread(void **state) {
    (void)state;
    /* Fail on the main thread first. */
    nn_model *model = NULL;
    NN_ASSERT_ERROR(nn_model_create(0, 1, &model), NN_ERROR_SHAPE_MISMATCH, "input_dim");

    thread_result r;
    memset(&r, 0x55, sizeof r);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, fail_on_thread, &r), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);

    assert_string_equal(r.before, "");
    assert_int_equal(r.status, NN_ERROR_NULL_POINTER);
    assert_true(nn_test_contains(r.after, "options"));
    /* The main thread still has its own message. */
    assert_true(nn_test_contains(nn_last_error(), "input_dim"));
    assert_false(nn_test_contains(nn_last_error(), "options"));
}

/* Many threads failing at once: each reads back its own message. */
typedef struct worker {
    size_t id;
    int ok;
} worker;

static void *fail_repeatedly(void *arg) {
    worker *w = arg;
    w->ok = 1;
    for (int i = 0; i < 200; i++) {
        nn_model *model = NULL;
        /* Each worker makes the library complain about its own column count. */
        nn_status s = nn_model_create(3 + w->id, (uint64_t)i, &model);
        if (s != NN_OK) { w->ok = 0; return NULL; }
        float x[64] = {0};
        float out[64];
        s = nn_model_add_dense(model, 2, NN_ACTIVATION_LINEAR);
        if (s == NN_OK) s = nn_model_predict(model, x, 1, 2 + w->id, out, 64);
        char expected[32];
        snprintf(expected, sizeof expected, "%zu", 3 + w->id);
        const char *message = nn_last_error();
        if (s != NN_ERROR_SHAPE_MISMATCH || strstr(message, expected) == NULL) w->ok = 0;
        nn_model_free(model);
        if (!w->ok) return NULL;
    }
    return NULL;
}

static void last_error_under_concurrency(void **state) {
    (void)state;
    enum { THREADS = 4 };
    pthread_t threads[THREADS];
    worker workers[THREADS];
    for (size_t i = 0; i < THREADS; i++) {
        workers[i].id = i * 10; /* input widths 3, 13, 23, 33 */
        workers[i].ok = 0;
        assert_int_equal(pthread_create(&threads[i], NULL, fail_repeatedly, &workers[i]), 0);
    }
    for (size_t i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_true(workers[i].ok);
    }
}

/* nn_last_error() is never NULL. */
/* nn_enum_name: every value nn.h declares has libnn's name (the names of
 * model files and of the Python binding), values libnn does not know are
 * NULL, and the strings are static. This ties nn.h's numbers to the core's
 * registries (Activation.code, OptimizerOptions.Kind.code, the layer
 * registry): a value written differently on the two sides fails here. */
static void enum_names(void **state) {
    (void)state;
    static const struct { nn_enum e; int value; const char *name; } expected[] = {
        {NN_ENUM_ACTIVATION, NN_ACTIVATION_LINEAR, "linear"},
        {NN_ENUM_ACTIVATION, NN_ACTIVATION_SIGMOID, "sigmoid"},
        {NN_ENUM_ACTIVATION, NN_ACTIVATION_TANH, "tanh"},
        {NN_ENUM_ACTIVATION, NN_ACTIVATION_RELU, "relu"},
        {NN_ENUM_ACTIVATION, NN_ACTIVATION_SOFTMAX, "softmax"},
        {NN_ENUM_ACTIVATION, NN_ACTIVATION_LEAKY_RELU, "leaky_relu"},
        {NN_ENUM_ACTIVATION, NN_ACTIVATION_ELU, "elu"},
        {NN_ENUM_ACTIVATION, NN_ACTIVATION_GELU, "gelu"},
        {NN_ENUM_ACTIVATION, NN_ACTIVATION_SOFTPLUS, "softplus"},
        {NN_ENUM_ACTIVATION, NN_ACTIVATION_STEP, "step"},
        {NN_ENUM_ACTIVATION, NN_ACTIVATION_MISH, "mish"},
        {NN_ENUM_INITIALIZER, NN_INIT_DEFAULT, "default"},
        {NN_ENUM_INITIALIZER, NN_INIT_GLOROT_UNIFORM, "glorot_uniform"},
        {NN_ENUM_INITIALIZER, NN_INIT_CONSTANT, "constant"},
        {NN_ENUM_LOSS, NN_LOSS_MEAN_SQUARED_ERROR, "mean_squared_error"},
        {NN_ENUM_LOSS, NN_LOSS_HUBER, "huber"},
        {NN_ENUM_OPTIMIZER, NN_OPTIMIZER_SGD, "sgd"},
        {NN_ENUM_OPTIMIZER, NN_OPTIMIZER_ADAM, "adam"},
        {NN_ENUM_OPTIMIZER, NN_OPTIMIZER_ADAMW, "adamw"},
        {NN_ENUM_OPTIMIZER, NN_OPTIMIZER_RMSPROP, "rmsprop"},
        {NN_ENUM_OPTIMIZER, NN_OPTIMIZER_ADAGRAD, "adagrad"},
        {NN_ENUM_OPTIMIZER, NN_OPTIMIZER_RPROP, "rprop"},
        {NN_ENUM_OPTIMIZER, NN_OPTIMIZER_ADAMAX, "adamax"},
        {NN_ENUM_METRIC, NN_METRIC_ACCURACY, "accuracy"},
        {NN_ENUM_METRIC, NN_METRIC_MEAN_ABSOLUTE_ERROR, "mean_absolute_error"},
        {NN_ENUM_LAYER_KIND, NN_LAYER_DENSE, "dense"},
        {NN_ENUM_LAYER_KIND, NN_LAYER_DROPOUT, "dropout"},
        {NN_ENUM_LAYER_KIND, NN_LAYER_BATCH_NORMALIZATION, "batch_normalization"},
        {NN_ENUM_LAYER_KIND, NN_LAYER_ACTIVATION, "activation"},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        const char *name = nn_enum_name(expected[i].e, expected[i].value);
        assert_non_null(name);
        assert_string_equal(name, expected[i].name);
        assert_ptr_equal(nn_enum_name(expected[i].e, expected[i].value), name);
    }
    assert_null(nn_enum_name(NN_ENUM_OPTIMIZER, 0));
    assert_null(nn_enum_name(NN_ENUM_LOSS, 0));
    assert_null(nn_enum_name(NN_ENUM_LAYER_KIND, 99));
    assert_null(nn_enum_name(NN_ENUM_ACTIVATION, -1));
    assert_null(nn_enum_name(NN_ENUM_ACTIVATION, 1 << 20));
    assert_null(nn_enum_name((nn_enum)0, 1));
    assert_null(nn_enum_name((nn_enum)77, 1));
}

static void last_error_never_null(void **state) {
    (void)state;
    assert_non_null(nn_last_error());
    size_t out = 0;
    NN_ASSERT_ERROR(nn_model_input_dim(NULL, &out), NN_ERROR_NULL_POINTER, "model");
    assert_non_null(nn_last_error());
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(version_matches_header),
    cmocka_unit_test(status_strings),
    cmocka_unit_test(last_error_survives_success),
    cmocka_unit_test(last_error_is_per_thread),
    cmocka_unit_test(last_error_under_concurrency),
    cmocka_unit_test(last_error_never_null),
    cmocka_unit_test(enum_names),
};

NN_TEST_MAIN("errors", tests)
