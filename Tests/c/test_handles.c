/*
 * Handles: every function that takes an nn_model rejects NULL
 * (NN_ERROR_NULL_POINTER) and a pointer that is not a live model
 * (NN_ERROR_INVALID_HANDLE): one that was never created and one that was
 * freed. nn_model_free ignores both. Out-parameters are left untouched on
 * failure.
 */
#include "nn_test.h"

#include <math.h>
#include <string.h>

/* The functions that take a model handle. */
enum {
    F_ADD_DENSE,
    F_ADD_DENSE_EX,
    F_SET_LOSS,
    F_SET_OPTIMIZER,
    F_ADD_METRIC,
    F_METRIC_COUNT,
    F_METRIC_NAME,
    F_INPUT_DIM,
    F_OUTPUT_DIM,
    F_LAYER_COUNT,
    F_LAYER_INFO,
    F_PARAMETER_COUNT,
    F_SUMMARY,
    F_WEIGHT_COUNT,
    F_WEIGHT_SHAPE,
    F_GET_WEIGHT,
    F_SET_WEIGHT,
    F_FIT,
    F_EVALUATE,
    F_PREDICT,
    F_ADD_DROPOUT,
    F_ADD_BATCH_NORMALIZATION,
    F_ADD_ACTIVATION,
    F_SET_LOSS_EX,
    F_ADD_METRIC_EX,
    F_CLEAR_METRICS,
    F_SET_LR_SCHEDULE,
    F_LEARNING_RATE,
    F_LAYER_KIND,
    F_WEIGHT_INFO,
    F_CONFUSION_MATRIX,
    F_CONFIG,
    F_FIT_LOGS,
    F_FIT_LOG,
    F_TRAIN_ON_BATCH,
    F_TEST_ON_BATCH,
    F_SET_DATA_PARALLEL,
    F_SET_LEARNING_RATE,
    F_OPTIMIZER_ITERATIONS,
    F_INPUT_GRADIENT,
    F_LOSS_INPUT_GRADIENT,
    F_COUNT
};

static const char *const names[F_COUNT] = {
    "nn_model_add_dense",     "nn_model_add_dense_ex",   "nn_model_set_loss",
    "nn_model_set_optimizer", "nn_model_add_metric",     "nn_model_metric_count",
    "nn_model_metric_name",   "nn_model_input_dim",      "nn_model_output_dim",
    "nn_model_layer_count",   "nn_model_layer_info",     "nn_model_parameter_count",
    "nn_model_summary",       "nn_model_weight_count",   "nn_model_weight_shape",
    "nn_model_get_weight",    "nn_model_set_weight",     "nn_model_fit",
    "nn_model_evaluate",      "nn_model_predict",        "nn_model_add_dropout",
    "nn_model_add_batch_normalization",                  "nn_model_add_activation",
    "nn_model_set_loss_ex",   "nn_model_add_metric_ex",  "nn_model_clear_metrics",
    "nn_model_set_lr_schedule",                          "nn_model_learning_rate",
    "nn_model_layer_kind",    "nn_model_weight_info",    "nn_model_confusion_matrix",
    "nn_model_config",        "nn_model_fit_logs",       "nn_model_fit_log",
    "nn_model_train_on_batch", "nn_model_test_on_batch", "nn_model_set_data_parallel",
    "nn_model_set_learning_rate",                        "nn_model_optimizer_iterations",
    "nn_model_input_gradient", "nn_model_loss_input_gradient",
};

/* Sentinels: what the out-parameters hold before the call. */
#define SENTINEL_SIZE ((size_t)0xDEADBEEF)
#define SENTINEL_FLOAT 12345.0f

typedef struct outs {
    size_t size;
    nn_activation activation;
    const char *name;
    size_t ndim;
    size_t dims[NN_MAX_DIMS];
    char text[64];
    float floats[8];
    double doubles[4];
    size_t counts[4];
    size_t classes;
    double rate;
    nn_layer_kind kind;
    int flag;
} outs;

static void reset_outs(outs *o) {
    o->size = SENTINEL_SIZE;
    o->activation = (nn_activation)77;
    o->name = "sentinel";
    o->ndim = SENTINEL_SIZE;
    for (int i = 0; i < NN_MAX_DIMS; i++) o->dims[i] = SENTINEL_SIZE;
    memset(o->text, 'Z', sizeof o->text);
    for (int i = 0; i < 8; i++) o->floats[i] = SENTINEL_FLOAT;
    for (int i = 0; i < 4; i++) o->doubles[i] = SENTINEL_FLOAT;
    for (int i = 0; i < 4; i++) o->counts[i] = SENTINEL_SIZE;
    o->classes = SENTINEL_SIZE;
    o->rate = SENTINEL_FLOAT;
    o->kind = (nn_layer_kind)77;
    o->flag = 77;
}

/* Asserts that no out-parameter was written. */
static void assert_outs_untouched(const outs *o, const char *function) {
    int ok = o->size == SENTINEL_SIZE && o->activation == (nn_activation)77 &&
             strcmp(o->name, "sentinel") == 0 && o->ndim == SENTINEL_SIZE;
    for (int i = 0; i < NN_MAX_DIMS; i++) ok = ok && o->dims[i] == SENTINEL_SIZE;
    for (size_t i = 0; i < sizeof o->text; i++) ok = ok && o->text[i] == 'Z';
    for (int i = 0; i < 8; i++) ok = ok && o->floats[i] == SENTINEL_FLOAT;
    for (int i = 0; i < 4; i++) ok = ok && o->doubles[i] == SENTINEL_FLOAT;
    for (int i = 0; i < 4; i++) ok = ok && o->counts[i] == SENTINEL_SIZE;
    ok = ok && o->classes == SENTINEL_SIZE && o->rate == SENTINEL_FLOAT &&
         o->kind == (nn_layer_kind)77 && o->flag == 77;
    if (!ok) fail_msg("%s wrote an out-parameter although it failed", function);
}

/* Calls function `which` on `model` with arguments that would be valid for
 * a live 3-input model with one Dense(2) layer, a loss (binary
 * cross-entropy on logits) and an optimizer. */
static nn_status call(int which, nn_model *model, outs *o) {
    static const float x[3] = {0.1f, 0.2f, 0.3f};
    static const float y[2] = {0.0f, 1.0f};
    static const float kernel[6] = {1, 2, 3, 4, 5, 6};
    nn_dense_options dense;
    nn_dense_options_init(&dense, 4);
    nn_optimizer_options opt;
    nn_status s = nn_optimizer_options_init(&opt, NN_OPTIMIZER_SGD);
    if (s != NN_OK) return s;
    nn_fit_options fit;
    nn_fit_options_init(&fit);
    fit.batch_size = 1;
    nn_loss_options loss;
    nn_loss_options_init(&loss, NN_LOSS_HUBER);
    nn_schedule_options schedule;
    s = nn_schedule_options_init(&schedule, NN_SCHEDULE_STEP);
    if (s != NN_OK) return s;

    switch (which) {
    case F_ADD_DENSE: return nn_model_add_dense(model, 4, NN_ACTIVATION_RELU);
    case F_ADD_DENSE_EX: return nn_model_add_dense_ex(model, &dense);
    case F_SET_LOSS: return nn_model_set_loss(model, NN_LOSS_MEAN_SQUARED_ERROR, 0);
    case F_SET_OPTIMIZER: return nn_model_set_optimizer(model, &opt);
    case F_ADD_METRIC: return nn_model_add_metric(model, NN_METRIC_ACCURACY);
    case F_METRIC_COUNT: return nn_model_metric_count(model, &o->size);
    case F_METRIC_NAME: return nn_model_metric_name(model, 0, &o->name);
    case F_INPUT_DIM: return nn_model_input_dim(model, &o->size);
    case F_OUTPUT_DIM: return nn_model_output_dim(model, &o->size);
    case F_LAYER_COUNT: return nn_model_layer_count(model, &o->size);
    case F_LAYER_INFO: return nn_model_layer_info(model, 0, &o->size, &o->activation);
    case F_PARAMETER_COUNT: return nn_model_parameter_count(model, &o->size);
    case F_SUMMARY: return nn_model_summary(model, o->text, sizeof o->text, &o->size);
    case F_WEIGHT_COUNT: return nn_model_weight_count(model, &o->size);
    case F_WEIGHT_SHAPE: return nn_model_weight_shape(model, 0, &o->ndim, o->dims, NN_MAX_DIMS);
    case F_GET_WEIGHT: return nn_model_get_weight(model, 0, o->floats, 6);
    case F_SET_WEIGHT: return nn_model_set_weight(model, 0, kernel, 6);
    case F_FIT: return nn_model_fit(model, x, y, 1, 3, 2, &fit);
    case F_EVALUATE: return nn_model_evaluate(model, x, y, 1, 3, 2, o->doubles, 4);
    case F_PREDICT: return nn_model_predict(model, x, 1, 3, o->floats, 8);
    case F_ADD_DROPOUT: return nn_model_add_dropout(model, 0.5);
    case F_ADD_BATCH_NORMALIZATION: return nn_model_add_batch_normalization(model, 0.1, 1e-5);
    case F_ADD_ACTIVATION: return nn_model_add_activation(model, NN_ACTIVATION_RELU, NAN);
    case F_SET_LOSS_EX: return nn_model_set_loss_ex(model, &loss);
    case F_ADD_METRIC_EX: return nn_model_add_metric_ex(model, NN_METRIC_BINARY_ACCURACY, 0.3);
    case F_CLEAR_METRICS: return nn_model_clear_metrics(model);
    case F_SET_LR_SCHEDULE: return nn_model_set_lr_schedule(model, &schedule);
    case F_LEARNING_RATE: return nn_model_learning_rate(model, &o->rate);
    case F_LAYER_KIND: return nn_model_layer_kind(model, 0, &o->kind);
    case F_WEIGHT_INFO: return nn_model_weight_info(model, 0, &o->name, &o->flag);
    case F_CONFUSION_MATRIX:
        return nn_model_confusion_matrix(model, x, y, 1, 3, 2, o->counts, 4, &o->classes);
    case F_CONFIG: return nn_model_config(model, o->text, sizeof o->text, &o->size);
    case F_FIT_LOGS: return nn_model_fit_logs(model, &o->size, &o->classes);
    case F_FIT_LOG: {
        /* A fit first, so that a live model has a log 0 (on a bad handle
         * the fit fails the same way and so does the call below). */
        s = nn_model_fit(model, x, y, 1, 3, 2, &fit);
        if (s != NN_OK && s != NN_ERROR_NULL_POINTER && s != NN_ERROR_INVALID_HANDLE) return s;
        return nn_model_fit_log(model, 0, &o->name, o->doubles, 4);
    }
    case F_TRAIN_ON_BATCH: return nn_model_train_on_batch(model, x, y, 1, 3, 2, NULL, o->doubles, 4);
    case F_TEST_ON_BATCH: return nn_model_test_on_batch(model, x, y, 1, 3, 2, NULL, o->doubles, 4);
    case F_SET_DATA_PARALLEL: return nn_model_set_data_parallel(model, 0, 1, NULL, NULL);
    case F_SET_LEARNING_RATE: return nn_model_set_learning_rate(model, 0.05);
    case F_OPTIMIZER_ITERATIONS: return nn_model_optimizer_iterations(model, &o->size);
    case F_INPUT_GRADIENT: return nn_model_input_gradient(model, x, 1, 3, y, 2, o->floats, 8);
    case F_LOSS_INPUT_GRADIENT: return nn_model_loss_input_gradient(model, x, y, 1, 3, 2, o->floats, 8);
    default: fail_msg("no function %d", which); return NN_ERROR_INTERNAL;
    }
}

static nn_model *live_model(void) {
    const nn_test_layer layers[] = {{2, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(3, 11, 1, layers);
    nn_test_compile(model, NN_LOSS_BINARY_CROSSENTROPY, 1, NN_OPTIMIZER_SGD, 0.01);
    return model;
}

/* Every function of nn.h that takes a model handle is in the table. */
static void table_is_complete(void **state) {
    (void)state;
    assert_int_equal(F_COUNT, 41);
    for (int i = 0; i < F_COUNT; i++) {
        assert_non_null(names[i]);
        assert_true(strncmp(names[i], "nn_model_", 9) == 0);
        for (int j = 0; j < i; j++) assert_string_not_equal(names[i], names[j]);
    }
}

/* The calls above are valid: on a live model each one succeeds (so the
 * failures below are caused by the handle alone). */
static void calls_succeed_on_live_model(void **state) {
    (void)state;
    for (int f = 0; f < F_COUNT; f++) {
        nn_model *model = live_model();
        outs o;
        reset_outs(&o);
        nn_status s = call(f, model, &o);
        if (s != NN_OK) {
            char message[512];
            strncpy(message, nn_last_error(), sizeof message - 1);
            message[sizeof message - 1] = '\0';
            fail_msg("%s on a live model: %s: %s", names[f], nn_status_string(s), message);
        }
        nn_model_free(model);
    }
}

static void check_all_fail(nn_model *model, nn_status want, const char *needle) {
    for (int f = 0; f < F_COUNT; f++) {
        outs o;
        reset_outs(&o);
        nn_status s = call(f, model, &o);
        char message[512];
        strncpy(message, nn_last_error(), sizeof message - 1);
        message[sizeof message - 1] = '\0';
        if (s != want)
            fail_msg("%s returned %s (%d), expected %s; message \"%s\"", names[f],
                     nn_status_string(s), (int)s, nn_status_string(want), message);
        if (!nn_test_contains(message, needle))
            fail_msg("%s: message \"%s\" does not mention \"%s\"", names[f], message, needle);
        assert_outs_untouched(&o, names[f]);
    }
}

static void null_model(void **state) {
    (void)state;
    check_all_fail(NULL, NN_ERROR_NULL_POINTER, "model");
}

/* A pointer to memory that never was a model; filled with plausible-looking
 * junk so that a library that dereferences it would misbehave visibly. */
static void foreign_pointer(void **state) {
    (void)state;
    struct {
        void *words[32];
    } fake;
    for (int i = 0; i < 32; i++) fake.words[i] = &fake;
    check_all_fail((nn_model *)&fake, NN_ERROR_INVALID_HANDLE, "handle");

    unsigned char bytes[256];
    memset(bytes, 0, sizeof bytes);
    check_all_fail((nn_model *)bytes, NN_ERROR_INVALID_HANDLE, "handle");
    check_all_fail((nn_model *)(bytes + 1), NN_ERROR_INVALID_HANDLE, "handle");
}

static void freed_handle(void **state) {
    (void)state;
    nn_model *stale = nn_test_freed_handle();
    check_all_fail(stale, NN_ERROR_INVALID_HANDLE, "handle");
}

/* A freed handle stays invalid even after new models are created, whatever
 * addresses they get. */
static void freed_handle_among_live_ones(void **state) {
    (void)state;
    nn_model *stale = nn_test_freed_handle();
    nn_model *live[16];
    for (int i = 0; i < 16; i++) NN_ASSERT_OK(nn_model_create(3, (uint64_t)i, &live[i]));
    int reused = 0;
    for (int i = 0; i < 16; i++) reused |= live[i] == stale;
    if (!reused) {
        size_t dim = SENTINEL_SIZE;
        NN_ASSERT_ERROR(nn_model_input_dim(stale, &dim), NN_ERROR_INVALID_HANDLE, "handle");
        assert_int_equal(dim, SENTINEL_SIZE);
    }
    /* Every new handle is live and distinct. */
    for (int i = 0; i < 16; i++) {
        size_t dim = 0;
        NN_ASSERT_OK(nn_model_input_dim(live[i], &dim));
        assert_int_equal(dim, 3);
        for (int j = 0; j < i; j++) assert_ptr_not_equal(live[i], live[j]);
    }
    for (int i = 0; i < 16; i++) nn_model_free(live[i]);
}

/* nn_model_free ignores NULL, foreign pointers and double frees, and does
 * not free some other live model by mistake. */
static void free_ignores_bad_pointers(void **state) {
    (void)state;
    nn_model_free(NULL);

    nn_model *keep = live_model();
    struct {
        void *words[16];
    } fake;
    memset(&fake, 0, sizeof fake);
    nn_model_free((nn_model *)&fake);

    nn_model *model = live_model();
    nn_model_free(model);
    nn_model_free(model);   /* second free of the same handle: ignored */

    size_t dim = 0;
    NN_ASSERT_OK(nn_model_input_dim(keep, &dim));
    assert_int_equal(dim, 3);
    nn_model_free(keep);
    NN_ASSERT_ERROR(nn_model_input_dim(keep, &dim), NN_ERROR_INVALID_HANDLE, "handle");
}

/* nn_model_create writes *out only on success. */
static void create_leaves_out_on_failure(void **state) {
    (void)state;
    nn_model *sentinel = (nn_model *)(uintptr_t)0x1234;
    nn_model *out = sentinel;
    NN_ASSERT_ERROR(nn_model_create(0, 1, &out), NN_ERROR_SHAPE_MISMATCH, "input_dim");
    assert_ptr_equal(out, sentinel);
    NN_ASSERT_ERROR(nn_model_create(3, 1, NULL), NN_ERROR_NULL_POINTER, "out");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(table_is_complete),
    cmocka_unit_test(calls_succeed_on_live_model),
    cmocka_unit_test(null_model),
    cmocka_unit_test(foreign_pointer),
    cmocka_unit_test(freed_handle),
    cmocka_unit_test(freed_handle_among_live_ones),
    cmocka_unit_test(free_ignores_bad_pointers),
    cmocka_unit_test(create_leaves_out_on_failure),
};

NN_TEST_MAIN("handles", tests)
