/*
 * nn_model_train_on_batch and nn_model_test_on_batch (Keras's
 * train_on_batch / test_on_batch): the step of nn_model_fit for one batch,
 * from a loop of the caller's own; the evaluation of one batch.
 */
#include "nn_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROWS = 40, INPUTS = 5, OUTPUTS = 3, BATCH = 8 };

static float xs[ROWS * INPUTS], ys[ROWS * OUTPUTS], ws[ROWS];

static void make_data(void) {
    nn_test_rng rng = {9};
    nn_test_fill(&rng, xs, ROWS * INPUTS, -1, 1);
    memset(ys, 0, sizeof ys);
    for (size_t r = 0; r < ROWS; r++) {
        ys[r * OUTPUTS + nn_test_next(&rng) % OUTPUTS] = 1;
        ws[r] = nn_test_uniform(&rng, 0, 2);
    }
}

/* 5 -> 12 tanh -> BatchNorm -> Dropout -> 3 softmax, Adam, with accuracy:
 * every stateful part of a step (optimizer moments, moving statistics,
 * the dropout generator). */
static nn_model *make_model(void) {
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(INPUTS, 5, &model));
    NN_ASSERT_OK(nn_model_add_dense(model, 12, NN_ACTIVATION_TANH));
    NN_ASSERT_OK(nn_model_add_batch_normalization(model, 0.1, 1e-3));
    NN_ASSERT_OK(nn_model_add_dropout(model, 0.2));
    NN_ASSERT_OK(nn_model_add_dense(model, OUTPUTS, NN_ACTIVATION_SOFTMAX));
    nn_test_compile(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_ADAM, 0.01);
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_ACCURACY));
    return model;
}

/* Batches of BATCH rows in order through train_on_batch give exactly the
 * weights (optimizer state and statistics included) of nn_model_fit over
 * the same rows with batch_size BATCH and no shuffling, for two epochs'
 * worth of steps; the batches' losses, weighted by their rows, add up to
 * fit's epoch loss. The history and the fit logs do not change. */
static void batches_equal_one_fit(void **state) {
    (void)state;
    make_data();
    nn_model *fitted = make_model(), *stepped = make_model();
    nn_fit_options o = nn_test_fit_options(2, BATCH, 0);
    nn_test_history h;
    nn_test_history_init(&h);
    nn_test_record_into(&o, &h);
    NN_ASSERT_OK(nn_model_fit(fitted, xs, ys, ROWS, INPUTS, OUTPUTS, &o));
    size_t epochs_before = 0, logs_before = 0;
    NN_ASSERT_OK(nn_model_fit_logs(stepped, &epochs_before, &logs_before));
    for (int epoch = 0; epoch < 2; epoch++) {
        double loss = 0, values[2];
        for (size_t start = 0; start < ROWS; start += BATCH) {
            NN_ASSERT_OK(nn_model_train_on_batch(stepped, xs + start * INPUTS, ys + start * OUTPUTS, BATCH, INPUTS,
                                                 OUTPUTS, NULL, values, 2));
            assert_true(values[1] >= 0 && values[1] <= 1);
            loss += values[0] * BATCH;
        }
        NN_ASSERT_CLOSE(loss / ROWS, nn_test_log(&h, (size_t)epoch, "loss"), 1e-12, 0);
    }
    size_t n_a = 0, n_b = 0;
    float *a = nn_test_weights(fitted, &n_a), *b = nn_test_weights(stepped, &n_b);
    assert_int_equal(n_a, n_b);
    assert_memory_equal(a, b, n_a * sizeof *a);
    size_t epochs_after = 0, logs_after = 0;
    NN_ASSERT_OK(nn_model_fit_logs(stepped, &epochs_after, &logs_after));
    assert_int_equal(logs_after, logs_before);
    assert_int_equal(epochs_after, epochs_before);
    /* The next step continues both identically (the optimizer's state). */
    double va[2], vb[2];
    NN_ASSERT_OK(nn_model_train_on_batch(fitted, xs, ys, BATCH, INPUTS, OUTPUTS, NULL, va, 2));
    NN_ASSERT_OK(nn_model_train_on_batch(stepped, xs, ys, BATCH, INPUTS, OUTPUTS, NULL, vb, 2));
    assert_memory_equal(va, vb, sizeof va);
    free(a), free(b);
    nn_model_free(fitted), nn_model_free(stepped);
}

/* Sample weights weigh the step's loss as fit's do: the same weights as a
 * fit of that one batch with them. */
static void sample_weights_as_fit(void **state) {
    (void)state;
    make_data();
    nn_model *fitted = make_model(), *stepped = make_model();
    nn_fit_options o = nn_test_fit_options(1, BATCH, 0);
    o.sample_weights = ws;
    NN_ASSERT_OK(nn_model_fit(fitted, xs, ys, BATCH, INPUTS, OUTPUTS, &o));
    double values[2];
    NN_ASSERT_OK(nn_model_train_on_batch(stepped, xs, ys, BATCH, INPUTS, OUTPUTS, ws, values, 2));
    size_t n = 0;
    float *a = nn_test_weights(fitted, &n), *b = nn_test_weights(stepped, &n);
    assert_memory_equal(a, b, n * sizeof *a);
    free(a), free(b);
    nn_model_free(fitted), nn_model_free(stepped);
}

/* The learning-rate schedule is an epoch schedule: train_on_batch does not
 * step it. */
static void schedule_does_not_step(void **state) {
    (void)state;
    make_data();
    nn_model *model = make_model();
    nn_schedule_options s;
    NN_ASSERT_OK(nn_schedule_options_init(&s, NN_SCHEDULE_STEP));
    s.step_size = 1;
    s.gamma = 0.5;
    NN_ASSERT_OK(nn_model_set_lr_schedule(model, &s));
    double values[2], rate = 0;
    for (int i = 0; i < 5; i++)
        NN_ASSERT_OK(nn_model_train_on_batch(model, xs, ys, BATCH, INPUTS, OUTPUTS, NULL, values, 2));
    NN_ASSERT_OK(nn_model_learning_rate(model, &rate));
    NN_ASSERT_CLOSE(rate, 0.01, 0, 0);
    nn_model_free(model);
}

/* test_on_batch is evaluate on the batch; with sample weights the loss is
 * the mean over the rows of weight x loss (each row's loss from an
 * evaluate of that row alone), the metrics unweighted. */
static void test_on_batch_is_a_weighted_evaluate(void **state) {
    (void)state;
    make_data();
    nn_model *model = make_model();
    double plain[2], batch[2], weighted[2];
    NN_ASSERT_OK(nn_model_evaluate(model, xs, ys, ROWS, INPUTS, OUTPUTS, plain, 2));
    NN_ASSERT_OK(nn_model_test_on_batch(model, xs, ys, ROWS, INPUTS, OUTPUTS, NULL, batch, 2));
    assert_memory_equal(plain, batch, sizeof plain);
    NN_ASSERT_OK(nn_model_test_on_batch(model, xs, ys, ROWS, INPUTS, OUTPUTS, ws, weighted, 2));
    double sum = 0;
    for (size_t r = 0; r < ROWS; r++) {
        double one[2];
        NN_ASSERT_OK(nn_model_evaluate(model, xs + r * INPUTS, ys + r * OUTPUTS, 1, INPUTS, OUTPUTS, one, 2));
        sum += ws[r] * one[0];
    }
    NN_ASSERT_CLOSE(weighted[0], sum / ROWS, 1e-6, 0);
    assert_true(weighted[1] == plain[1]);
    nn_model_free(model);
}

static void bad_input(void **state) {
    (void)state;
    make_data();
    nn_model *model = make_model();
    double values[2];
    float bad[BATCH];
    for (int i = 0; i < BATCH; i++) bad[i] = 1;
    bad[3] = -1;
    NN_ASSERT_ERROR(nn_model_train_on_batch(model, xs, ys, BATCH, INPUTS, OUTPUTS, NULL, values, 1),
                    NN_ERROR_SHAPE_MISMATCH, "values", "2");
    NN_ASSERT_ERROR(nn_model_train_on_batch(model, xs, ys, BATCH, INPUTS, OUTPUTS, NULL, NULL, 2),
                    NN_ERROR_NULL_POINTER, "values");
    NN_ASSERT_ERROR(nn_model_train_on_batch(model, xs, ys, BATCH, INPUTS + 1, OUTPUTS, NULL, values, 2),
                    NN_ERROR_SHAPE_MISMATCH, "input columns");
    NN_ASSERT_ERROR(nn_model_train_on_batch(model, xs, ys, 0, INPUTS, OUTPUTS, NULL, values, 2),
                    NN_ERROR_SHAPE_MISMATCH, "0 rows");
    NN_ASSERT_ERROR(nn_model_train_on_batch(model, xs, ys, BATCH, INPUTS, OUTPUTS, bad, values, 2),
                    NN_ERROR_INVALID_ARGUMENT, "sample_weight 3");
    NN_ASSERT_ERROR(nn_model_test_on_batch(model, xs, ys, BATCH, INPUTS, OUTPUTS, bad, values, 2),
                    NN_ERROR_INVALID_ARGUMENT, "sample_weight 3");
    float nan_x[BATCH * INPUTS];
    memcpy(nan_x, xs, sizeof nan_x);
    nan_x[7] = NAN;
    NN_ASSERT_ERROR(nn_model_train_on_batch(model, nan_x, ys, BATCH, INPUTS, OUTPUTS, NULL, values, 2),
                    NN_ERROR_NON_FINITE, "training input");
    /* None of the refused steps changed the model. */
    nn_model *fresh = make_model();
    size_t n = 0;
    float *a = nn_test_weights(model, &n), *b = nn_test_weights(fresh, &n);
    assert_memory_equal(a, b, n * sizeof *a);
    free(a), free(b);

    nn_model *uncompiled = NULL;
    NN_ASSERT_OK(nn_model_create(INPUTS, 1, &uncompiled));
    NN_ASSERT_OK(nn_model_add_dense(uncompiled, OUTPUTS, NN_ACTIVATION_SOFTMAX));
    NN_ASSERT_ERROR(nn_model_train_on_batch(uncompiled, xs, ys, BATCH, INPUTS, OUTPUTS, NULL, values, 2),
                    NN_ERROR_INVALID_STATE, "loss");
    NN_ASSERT_ERROR(nn_model_test_on_batch(uncompiled, xs, ys, BATCH, INPUTS, OUTPUTS, NULL, values, 2),
                    NN_ERROR_INVALID_STATE, "loss");
    nn_model_free(uncompiled), nn_model_free(fresh), nn_model_free(model);
}

/* From a fit's callback, training the same model again (fit or
 * train_on_batch) is refused with a clear error; the fit goes on. */
typedef struct nested {
    nn_status fit, step;
    char message[256];
} nested;

static nn_model *current;

static int train_inside_current(void *user_data, size_t epoch, size_t n_logs, const char *const *names,
                                const double *values) {
    (void)n_logs, (void)names, (void)values;
    nested *n = user_data;
    if (epoch != 0) return 0;
    nn_fit_options o = nn_test_fit_options(1, BATCH, 0);
    n->fit = nn_model_fit(current, xs, ys, ROWS, INPUTS, OUTPUTS, &o);
    double v[2];
    n->step = nn_model_train_on_batch(current, xs, ys, BATCH, INPUTS, OUTPUTS, NULL, v, 2);
    snprintf(n->message, sizeof n->message, "%s", nn_last_error());
    return 0;
}

static void no_training_inside_a_fit(void **state) {
    (void)state;
    make_data();
    current = make_model();
    nested n = {NN_OK, NN_OK, ""};
    nn_fit_options o = nn_test_fit_options(2, BATCH, 0);
    o.on_epoch_end = train_inside_current;
    o.user_data = &n;
    NN_ASSERT_OK(nn_model_fit(current, xs, ys, ROWS, INPUTS, OUTPUTS, &o));
    assert_int_equal(n.fit, NN_ERROR_INVALID_STATE);
    assert_int_equal(n.step, NN_ERROR_INVALID_STATE);
    assert_true(nn_test_contains(n.message, "train_on_batch cannot start while fit is running"));
    size_t epochs = 0, logs = 0;
    NN_ASSERT_OK(nn_model_fit_logs(current, &epochs, &logs));
    assert_int_equal(epochs, 2);
    nn_model_free(current);
}

/* on_batch_end (Keras's on_train_batch_end): once per batch, with the
 * epoch, the batch, the batches per epoch and the epoch's logs so far,
 * which after its last batch are the epoch's own logs. */
typedef struct batch_log {
    size_t calls, epoch[16], batch[16], batches[16], n_logs;
    double loss[16], accuracy[16];
    size_t stop_at;            /* return 1 at this call (from 1; 0: never) */
    volatile int *flag;        /* set to 1 at call flag_at */
    size_t flag_at;
} batch_log;

static int record_batch(void *user_data, size_t epoch, size_t batch, size_t batches, size_t n_logs,
                        const char *const *names, const double *values) {
    batch_log *b = user_data;
    size_t i = b->calls++;
    if (i < 16) {
        b->epoch[i] = epoch, b->batch[i] = batch, b->batches[i] = batches;
        b->loss[i] = values[0], b->accuracy[i] = values[1];
    }
    b->n_logs = n_logs;
    if (strcmp(names[0], "loss") != 0 || strcmp(names[1], "accuracy") != 0) b->n_logs = 99;
    if (b->flag && b->calls == b->flag_at) *b->flag = 1;
    return b->stop_at != 0 && b->calls == b->stop_at;
}

static void on_batch_end_sees_every_batch(void **state) {
    (void)state;
    make_data();
    nn_model *model = make_model();
    batch_log b = {0};
    nn_fit_options o = nn_test_fit_options(2, 16, 1);   /* 40 rows: batches of 16, 16, 8 */
    nn_test_history h;
    nn_test_history_init(&h);
    nn_test_record_into(&o, &h);
    NN_ASSERT_OK(nn_model_fit(model, xs, ys, ROWS, INPUTS, OUTPUTS, &o));
    nn_model_free(model);

    /* The same fit (the same model, data and shuffles) with a batch
     * callback instead of the epoch callback. */
    model = make_model();
    nn_fit_options ob = nn_test_fit_options(2, 16, 1);
    ob.on_batch_end = record_batch;
    ob.user_data = &b;
    NN_ASSERT_OK(nn_model_fit(model, xs, ys, ROWS, INPUTS, OUTPUTS, &ob));
    assert_int_equal(b.calls, 6);
    assert_int_equal(b.n_logs, 2);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(b.epoch[i], i / 3);
        assert_int_equal(b.batch[i], i % 3);
        assert_int_equal(b.batches[i], 3);
    }
    /* After an epoch's last batch, its logs are the epoch's (the same
     * shuffles: the same seed path, no other use of the generator). */
    for (size_t e = 0; e < 2; e++) {
        NN_ASSERT_CLOSE(b.loss[3 * e + 2], nn_test_log(&h, e, "loss"), 1e-12, 0);
        NN_ASSERT_CLOSE(b.accuracy[3 * e + 2], nn_test_log(&h, e, "accuracy"), 0, 0);
    }
    nn_model_free(model);
}

/* A non-zero return ends the epoch after that batch: the epoch is logged
 * over the batches run, and the fit ends. */
static void on_batch_end_can_stop(void **state) {
    (void)state;
    make_data();
    nn_model *model = make_model();
    batch_log b = {0};
    b.stop_at = 5;                                   /* epoch 1, batch 1 */
    nn_fit_options o = nn_test_fit_options(4, 16, 0);
    o.on_batch_end = record_batch;
    o.user_data = &b;
    NN_ASSERT_OK(nn_model_fit(model, xs, ys, ROWS, INPUTS, OUTPUTS, &o));
    assert_int_equal(b.calls, 5);
    size_t epochs = 0, logs = 0;
    NN_ASSERT_OK(nn_model_fit_logs(model, &epochs, &logs));
    assert_int_equal(epochs, 2);
    const char *name = NULL;
    double values[2];
    NN_ASSERT_OK(nn_model_fit_log(model, 0, &name, values, 2));   /* "loss", by epoch */
    assert_string_equal(name, "loss");
    NN_ASSERT_CLOSE(values[1], b.loss[4], 1e-12, 0);  /* epoch 1: the mean over its 2 batches */
    NN_ASSERT_CLOSE(values[0], b.loss[2], 1e-12, 0);
    nn_model_free(model);
}

/* stop_flag: once set (here by the batch callback, as a signal handler or
 * another thread would), fit returns NN_OK before the next batch; the
 * epoch in progress is not logged; the weights are those of the batches
 * run, as train_on_batch over the same batches gives them. */
static void stop_flag_stops_between_batches(void **state) {
    (void)state;
    make_data();
    nn_model *model = make_model(), *stepped = make_model();
    volatile int flag = 0;
    batch_log b = {0};
    b.flag = &flag;
    b.flag_at = 2;
    nn_fit_options o = nn_test_fit_options(3, 16, 0);
    o.on_batch_end = record_batch;
    o.user_data = &b;
    o.stop_flag = &flag;
    NN_ASSERT_OK(nn_model_fit(model, xs, ys, ROWS, INPUTS, OUTPUTS, &o));
    assert_int_equal(b.calls, 2);
    size_t epochs = 9, logs = 0;
    NN_ASSERT_OK(nn_model_fit_logs(model, &epochs, &logs));
    assert_int_equal(epochs, 0);
    double values[2];
    NN_ASSERT_OK(nn_model_train_on_batch(stepped, xs, ys, 16, INPUTS, OUTPUTS, NULL, values, 2));
    NN_ASSERT_OK(nn_model_train_on_batch(stepped, xs + 16 * INPUTS, ys + 16 * OUTPUTS, 16, INPUTS, OUTPUTS, NULL,
                                         values, 2));
    size_t n = 0;
    float *a = nn_test_weights(model, &n), *w = nn_test_weights(stepped, &n);
    assert_memory_equal(a, w, n * sizeof *a);
    /* Set before the fit: nothing runs. */
    nn_fit_options again = nn_test_fit_options(1, 16, 0);
    again.stop_flag = &flag;
    NN_ASSERT_OK(nn_model_fit(model, xs, ys, ROWS, INPUTS, OUTPUTS, &again));
    float *after = nn_test_weights(model, &n);
    assert_memory_equal(a, after, n * sizeof *a);
    free(a), free(w), free(after);
    nn_model_free(model), nn_model_free(stepped);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(on_batch_end_sees_every_batch),
    cmocka_unit_test(on_batch_end_can_stop),
    cmocka_unit_test(stop_flag_stops_between_batches),
    cmocka_unit_test(no_training_inside_a_fit),
    cmocka_unit_test(batches_equal_one_fit),
    cmocka_unit_test(sample_weights_as_fit),
    cmocka_unit_test(schedule_does_not_step),
    cmocka_unit_test(test_on_batch_is_a_weighted_evaluate),
    cmocka_unit_test(bad_input),
};

NN_TEST_MAIN("on_batch", tests)
