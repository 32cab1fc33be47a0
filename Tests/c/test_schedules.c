/*
 * Learning-rate schedules: nn_schedule_options_init, nn_model_set_lr_schedule
 * and nn_model_learning_rate. The rate each epoch used, logged by fit under
 * "learning_rate", is checked against PyTorch's formulas (StepLR,
 * ExponentialLR, CosineAnnealingLR) and against Keras's ReduceLROnPlateau
 * rule replayed here on the logged values; the logged rate is the one the
 * optimizer used; bad options.
 */
#include "nn_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROWS = 20, IN = 2 };

static void data(float *x, float *y) {
    nn_test_rng rng = {41};
    nn_test_fill(&rng, x, ROWS * IN, -1, 1);
    for (size_t r = 0; r < ROWS; r++) y[r] = 2 * x[r * IN] - x[r * IN + 1] + 0.5f;
}

/* IN -> Dense(1), MSE, SGD(lr). */
static nn_model *model_with_sgd(double lr) {
    const nn_test_layer layers[] = {{1, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(IN, 7, 1, layers);
    nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, lr);
    return model;
}

static nn_schedule_options schedule(nn_schedule kind) {
    nn_schedule_options o;
    NN_ASSERT_OK(nn_schedule_options_init(&o, kind));
    return o;
}

/* Fits `epochs` epochs (one full batch each, no shuffling) into h. */
static void fit_into(nn_model *model, size_t epochs, nn_test_history *h) {
    float x[ROWS * IN], y[ROWS];
    data(x, y);
    nn_fit_options o = nn_test_fit_options(epochs, ROWS, 0);
    nn_test_record_into(&o, h);
    NN_ASSERT_OK(nn_model_fit(model, x, y, ROWS, IN, 1, &o));
}

static double learning_rate(const nn_model *model) {
    double lr = -1;
    NN_ASSERT_OK(nn_model_learning_rate(model, &lr));
    return lr;
}

/* ------------------------------------------------------------------------ */
/* Options                                                                  */
/* ------------------------------------------------------------------------ */

static void schedule_options_defaults(void **state) {
    (void)state;
    for (int k = NN_SCHEDULE_NONE; k <= NN_SCHEDULE_REDUCE_ON_PLATEAU; k++) {
        nn_schedule_options o;
        memset(&o, 0xA5, sizeof o);
        NN_ASSERT_OK(nn_schedule_options_init(&o, (nn_schedule)k));
        assert_int_equal(o.struct_size, sizeof(nn_schedule_options));
        assert_int_equal(o.kind, k);
        assert_int_equal(o.step_size, 10);
        assert_true(o.gamma == (k == NN_SCHEDULE_EXPONENTIAL ? 0.95 : 0.1));
        assert_int_equal(o.t_max, 50);
        assert_true(o.eta_min == 0.0);
        assert_non_null(o.monitor);
        assert_string_equal(o.monitor, "val_loss");
        assert_true(o.factor == 0.1);
        assert_int_equal(o.patience, 10);
        assert_true(o.min_delta == 1e-4);
        assert_int_equal(o.cooldown, 0);
        assert_true(o.min_lr == 0.0);
        assert_int_equal(o.mode, NN_MONITOR_AUTO);
    }
}

static void schedule_options_init_rejects_bad_arguments(void **state) {
    (void)state;
    NN_ASSERT_ERROR(nn_schedule_options_init(NULL, NN_SCHEDULE_STEP), NN_ERROR_NULL_POINTER,
                    "options");
    nn_schedule_options o, before;
    memset(&o, 0x3C, sizeof o);
    memcpy(&before, &o, sizeof o);
    NN_ASSERT_ERROR(nn_schedule_options_init(&o, (nn_schedule)99), NN_ERROR_INVALID_ARGUMENT,
                    "schedule", "99");
    NN_ASSERT_ERROR(nn_schedule_options_init(&o, (nn_schedule)5), NN_ERROR_INVALID_ARGUMENT,
                    "schedule", "5");
    NN_ASSERT_ERROR(nn_schedule_options_init(&o, (nn_schedule)-1), NN_ERROR_INVALID_ARGUMENT,
                    "schedule");
    assert_memory_equal(&o, &before, sizeof o); /* written only on success */
}

typedef void (*edit_fn)(nn_schedule_options *);
static void step_zero(nn_schedule_options *o) { o->step_size = 0; }
static void step_huge(nn_schedule_options *o) { o->step_size = SIZE_MAX; }
static void gamma_zero(nn_schedule_options *o) { o->gamma = 0; }
static void gamma_negative(nn_schedule_options *o) { o->gamma = -0.5; }
static void gamma_nan(nn_schedule_options *o) { o->gamma = NAN; }
static void t_max_zero(nn_schedule_options *o) { o->t_max = 0; }
static void eta_min_negative(nn_schedule_options *o) { o->eta_min = -1e-3; }
static void factor_one(nn_schedule_options *o) { o->factor = 1.0; }
static void factor_zero(nn_schedule_options *o) { o->factor = 0.0; }
static void factor_large(nn_schedule_options *o) { o->factor = 2.0; }
static void min_delta_negative(nn_schedule_options *o) { o->min_delta = -1; }
static void min_lr_negative(nn_schedule_options *o) { o->min_lr = -0.1; }
static void min_lr_inf(nn_schedule_options *o) { o->min_lr = INFINITY; }
static void mode_unknown(nn_schedule_options *o) { o->mode = (nn_monitor_mode)5; }
static void kind_unknown(nn_schedule_options *o) { o->kind = (nn_schedule)99; }
static void size_zero(nn_schedule_options *o) { o->struct_size = 0; }
static void size_large(nn_schedule_options *o) { o->struct_size = sizeof *o + 16; }

static void expect_rejected(nn_schedule kind, edit_fn edit, nn_status want, const char *what) {
    nn_model *model = model_with_sgd(0.1);
    nn_schedule_options o = schedule(kind);
    edit(&o);
    nn_status s = nn_model_set_lr_schedule(model, &o);
    char message[512];
    snprintf(message, sizeof message, "%s", nn_last_error());
    if (s != want)
        fail_msg("%s: expected %s, got %s (\"%s\")", what, nn_status_string(want),
                 nn_status_string(s), message);
    if (!nn_test_contains(message, what)) fail_msg("message \"%s\" does not name %s", message, what);
    /* The model keeps no schedule: fit logs no learning_rate. */
    nn_test_history h;
    nn_test_history_init(&h);
    fit_into(model, 1, &h);
    assert_false(nn_test_has_log(&h, "learning_rate"));
    nn_model_free(model);
}

static void set_lr_schedule_rejects_bad_options(void **state) {
    (void)state;
    expect_rejected(NN_SCHEDULE_STEP, step_zero, NN_ERROR_INVALID_ARGUMENT, "step_size");
    expect_rejected(NN_SCHEDULE_STEP, step_huge, NN_ERROR_INVALID_ARGUMENT, "step_size");
    expect_rejected(NN_SCHEDULE_STEP, gamma_zero, NN_ERROR_INVALID_ARGUMENT, "gamma");
    expect_rejected(NN_SCHEDULE_EXPONENTIAL, gamma_negative, NN_ERROR_INVALID_ARGUMENT, "gamma");
    expect_rejected(NN_SCHEDULE_EXPONENTIAL, gamma_nan, NN_ERROR_INVALID_ARGUMENT, "gamma");
    expect_rejected(NN_SCHEDULE_COSINE, t_max_zero, NN_ERROR_INVALID_ARGUMENT, "t_max");
    expect_rejected(NN_SCHEDULE_COSINE, eta_min_negative, NN_ERROR_INVALID_ARGUMENT, "eta_min");
    expect_rejected(NN_SCHEDULE_REDUCE_ON_PLATEAU, factor_one, NN_ERROR_INVALID_ARGUMENT,
                    "factor");
    expect_rejected(NN_SCHEDULE_REDUCE_ON_PLATEAU, factor_zero, NN_ERROR_INVALID_ARGUMENT,
                    "factor");
    expect_rejected(NN_SCHEDULE_REDUCE_ON_PLATEAU, factor_large, NN_ERROR_INVALID_ARGUMENT,
                    "factor");
    expect_rejected(NN_SCHEDULE_REDUCE_ON_PLATEAU, min_delta_negative, NN_ERROR_INVALID_ARGUMENT,
                    "min_delta");
    expect_rejected(NN_SCHEDULE_REDUCE_ON_PLATEAU, min_lr_negative, NN_ERROR_INVALID_ARGUMENT,
                    "min_lr");
    expect_rejected(NN_SCHEDULE_REDUCE_ON_PLATEAU, min_lr_inf, NN_ERROR_INVALID_ARGUMENT,
                    "min_lr");
    expect_rejected(NN_SCHEDULE_REDUCE_ON_PLATEAU, mode_unknown, NN_ERROR_INVALID_ARGUMENT,
                    "mode");
    expect_rejected(NN_SCHEDULE_STEP, kind_unknown, NN_ERROR_INVALID_ARGUMENT, "99");
    expect_rejected(NN_SCHEDULE_STEP, size_zero, NN_ERROR_INVALID_ARGUMENT, "struct_size");
    expect_rejected(NN_SCHEDULE_COSINE, size_large, NN_ERROR_INVALID_ARGUMENT, "struct_size");

    nn_model *model = model_with_sgd(0.1);
    nn_schedule_options o = schedule(NN_SCHEDULE_REDUCE_ON_PLATEAU);
    o.monitor = NULL;
    NN_ASSERT_ERROR(nn_model_set_lr_schedule(model, &o), NN_ERROR_NULL_POINTER, "monitor");
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* The epoch-indexed schedules                                              */
/* ------------------------------------------------------------------------ */

/* StepLR: lr0 gamma^floor(e / step_size), e counting every epoch the model
 * has trained (across fit calls). */
static void step_schedule(void **state) {
    (void)state;
    const double lr0 = 0.2, gamma = 0.5;
    nn_model *model = model_with_sgd(lr0);
    nn_schedule_options o = schedule(NN_SCHEDULE_STEP);
    o.step_size = 3;
    o.gamma = gamma;
    NN_ASSERT_OK(nn_model_set_lr_schedule(model, &o));
    assert_true(learning_rate(model) == lr0);
    nn_test_history h;
    nn_test_history_init(&h);
    fit_into(model, 7, &h);
    assert_int_equal(h.epochs, 7);
    assert_string_equal(h.names[h.n_logs - 1], "learning_rate");
    fit_into(model, 4, &h); /* epochs 7 .. 10 of the model */
    assert_int_equal(h.epochs, 11);
    for (size_t e = 0; e < 11; e++)
        NN_ASSERT_CLOSE(nn_test_log(&h, e, "learning_rate"), lr0 * pow(gamma, (double)(e / 3)),
                        1e-12, 0);
    /* The current rate: that of the last epoch (9 and 10 use lr0 / 8) or the
     * next one's, which is the same here. */
    NN_ASSERT_CLOSE(learning_rate(model), lr0 / 8, 1e-12, 0);
    nn_model_free(model);
}

static void exponential_schedule(void **state) {
    (void)state;
    const double lr0 = 0.1, gamma = 0.8;
    nn_model *model = model_with_sgd(lr0);
    nn_schedule_options o = schedule(NN_SCHEDULE_EXPONENTIAL);
    o.gamma = gamma;
    NN_ASSERT_OK(nn_model_set_lr_schedule(model, &o));
    nn_test_history h;
    nn_test_history_init(&h);
    fit_into(model, 6, &h);
    for (size_t e = 0; e < 6; e++)
        NN_ASSERT_CLOSE(nn_test_log(&h, e, "learning_rate"), lr0 * pow(gamma, (double)e), 1e-12,
                        0);
    double now = learning_rate(model);
    assert_true(fabs(now - lr0 * pow(gamma, 5)) <= 1e-12 * lr0 ||
                fabs(now - lr0 * pow(gamma, 6)) <= 1e-12 * lr0);
    nn_model_free(model);
}

static void cosine_schedule(void **state) {
    (void)state;
    const double lr0 = 0.1, eta_min = 0.01;
    const size_t t_max = 4;
    nn_model *model = model_with_sgd(lr0);
    nn_schedule_options o = schedule(NN_SCHEDULE_COSINE);
    o.t_max = t_max;
    o.eta_min = eta_min;
    NN_ASSERT_OK(nn_model_set_lr_schedule(model, &o));
    nn_test_history h;
    nn_test_history_init(&h);
    fit_into(model, 9, &h);
    const double pi = 3.14159265358979323846;
    for (size_t e = 0; e < 9; e++) {
        double want = eta_min + (lr0 - eta_min) * (1 + cos(pi * (double)e / t_max)) / 2;
        NN_ASSERT_CLOSE(nn_test_log(&h, e, "learning_rate"), want, 1e-9, 1e-15);
    }
    /* The half period: lr0 at 0, eta_min at t_max, lr0 again at 2 t_max. */
    NN_ASSERT_CLOSE(nn_test_log(&h, 4, "learning_rate"), eta_min, 1e-9, 0);
    NN_ASSERT_CLOSE(nn_test_log(&h, 8, "learning_rate"), lr0, 1e-9, 0);
    nn_model_free(model);
}

/* The logged rate is the rate the optimizer used: exponential decay over
 * three one-batch epochs of plain SGD equals three fits with the rate set
 * by hand. */
static void schedule_drives_the_optimizer(void **state) {
    (void)state;
    const double lr0 = 0.3, gamma = 0.5;
    nn_model *scheduled = model_with_sgd(lr0), *manual = model_with_sgd(lr0);
    nn_schedule_options o = schedule(NN_SCHEDULE_EXPONENTIAL);
    o.gamma = gamma;
    NN_ASSERT_OK(nn_model_set_lr_schedule(scheduled, &o));
    nn_test_history h;
    nn_test_history_init(&h);
    fit_into(scheduled, 3, &h);
    nn_optimizer_options sgd;
    NN_ASSERT_OK(nn_optimizer_options_init(&sgd, NN_OPTIMIZER_SGD));
    for (int e = 0; e < 3; e++) {
        sgd.learning_rate = lr0 * pow(gamma, e);
        NN_ASSERT_OK(nn_model_set_optimizer(manual, &sgd));
        nn_test_history m;
        nn_test_history_init(&m);
        fit_into(manual, 1, &m);
    }
    size_t n = 0;
    float *a = nn_test_weights(scheduled, &n), *b = nn_test_weights(manual, NULL);
    for (size_t i = 0; i < n; i++) NN_ASSERT_CLOSE(a[i], b[i], 1e-6, 1e-7);
    free(a);
    free(b);
    nn_model_free(scheduled);
    nn_model_free(manual);
}

/* NULL or NN_SCHEDULE_NONE removes the schedule: no learning_rate log; the
 * current rate is kept (nn.h), and training goes on at it: the next epochs
 * equal epochs of plain SGD at that rate. nn_model_set_optimizer sets the
 * optimizer's own rate again. A schedule may be set before the optimizer. */
static void removing_and_ordering(void **state) {
    (void)state;
    const double lr0 = 0.05;
    for (int how = 0; how < 2; how++) {
        nn_model *model = model_with_sgd(lr0);
        nn_schedule_options o = schedule(NN_SCHEDULE_STEP);
        o.step_size = 1;
        o.gamma = 0.1;
        NN_ASSERT_OK(nn_model_set_lr_schedule(model, &o));
        nn_test_history h;
        nn_test_history_init(&h);
        fit_into(model, 3, &h);
        assert_true(nn_test_has_log(&h, "learning_rate"));
        double last = nn_test_log(&h, 2, "learning_rate");
        NN_ASSERT_CLOSE(last, lr0 * 0.01, 1e-12, 0);
        if (how == 0) {
            NN_ASSERT_OK(nn_model_set_lr_schedule(model, NULL));
        } else {
            nn_schedule_options none = schedule(NN_SCHEDULE_NONE);
            NN_ASSERT_OK(nn_model_set_lr_schedule(model, &none));
        }
        double kept = learning_rate(model);
        NN_ASSERT_CLOSE(kept, last, 1e-12, 0);

        /* A copy of the weights trained by plain SGD at the kept rate. */
        nn_model *copy = model_with_sgd(kept);
        size_t n = 0;
        float *w = nn_test_weights(model, &n);
        nn_test_set_weight(copy, 0, w, IN);
        nn_test_set_weight(copy, 1, w + IN, 1);
        free(w);
        nn_test_history_init(&h);
        fit_into(model, 2, &h);
        assert_false(nn_test_has_log(&h, "learning_rate"));
        assert_int_equal(h.n_logs, 1);
        NN_ASSERT_CLOSE(learning_rate(model), kept, 1e-12, 0);
        nn_test_history c;
        nn_test_history_init(&c);
        fit_into(copy, 2, &c);
        float *a = nn_test_weights(model, NULL), *b = nn_test_weights(copy, NULL);
        for (size_t i = 0; i < n; i++) NN_ASSERT_CLOSE(a[i], b[i], 1e-6, 1e-7);
        free(a);
        free(b);

        nn_optimizer_options sgd;
        NN_ASSERT_OK(nn_optimizer_options_init(&sgd, NN_OPTIMIZER_SGD));
        sgd.learning_rate = lr0;
        NN_ASSERT_OK(nn_model_set_optimizer(model, &sgd));
        assert_true(learning_rate(model) == lr0);
        nn_model_free(model);
        nn_model_free(copy);
    }

    /* Schedule first, optimizer second. */
    const nn_test_layer layers[] = {{1, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(IN, 7, 1, layers);
    nn_schedule_options o = schedule(NN_SCHEDULE_EXPONENTIAL);
    o.gamma = 0.5;
    NN_ASSERT_OK(nn_model_set_lr_schedule(model, &o));
    nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_ADAM, 0.04);
    nn_test_history h;
    nn_test_history_init(&h);
    fit_into(model, 3, &h);
    NN_ASSERT_CLOSE(nn_test_log(&h, 2, "learning_rate"), 0.01, 1e-12, 0);
    nn_model_free(model);
}

static void learning_rate_rejects_bad_arguments(void **state) {
    (void)state;
    const nn_test_layer layers[] = {{1, NN_ACTIVATION_LINEAR}};
    nn_model *model = nn_test_model(IN, 7, 1, layers);
    double lr = 12345;
    NN_ASSERT_ERROR(nn_model_learning_rate(model, &lr), NN_ERROR_INVALID_STATE, "optimizer");
    assert_true(lr == 12345); /* written only on success */
    nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_RMSPROP, 0.003);
    NN_ASSERT_ERROR(nn_model_learning_rate(model, NULL), NN_ERROR_NULL_POINTER, "out");
    NN_ASSERT_OK(nn_model_learning_rate(model, &lr));
    assert_true(lr == 0.003);
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Reduce on plateau                                                        */
/* ------------------------------------------------------------------------ */

/* Keras's ReduceLROnPlateau replayed on the logged monitor values: the
 * rate of epoch e + 1 from the rate of epoch e and the value logged after
 * epoch e. */
static void replay_plateau(const nn_test_history *h, const char *monitor, int maximize,
                           double lr0, const nn_schedule_options *o, double *rates) {
    double best = maximize ? -INFINITY : INFINITY, lr = lr0;
    size_t wait = 0, cooldown = 0;
    for (size_t e = 0; e < h->epochs; e++) {
        rates[e] = lr;
        double v = nn_test_log(h, e, monitor);
        if (cooldown > 0) {
            cooldown--;
            wait = 0;
        }
        int improved = maximize ? v > best + o->min_delta : v < best - o->min_delta;
        if (improved) {
            best = v;
            wait = 0;
        } else if (cooldown == 0) {
            wait++;
            if (wait >= o->patience && lr > o->min_lr) {
                lr = lr * o->factor > o->min_lr ? lr * o->factor : o->min_lr;
                cooldown = o->cooldown;
                wait = 0;
            }
        }
    }
}

/* The loss falls by less than min_delta every epoch: a plateau every
 * `patience` epochs (after the first, which improves on infinity), with
 * cooldown, down to min_lr. */
static void reduce_on_plateau(void **state) {
    (void)state;
    const double lr0 = 0.01;
    nn_model *model = model_with_sgd(lr0);
    nn_schedule_options o = schedule(NN_SCHEDULE_REDUCE_ON_PLATEAU);
    o.monitor = "loss";
    o.min_delta = 10.0;
    o.patience = 2;
    o.factor = 0.5;
    o.cooldown = 1;
    o.min_lr = 0.002;
    NN_ASSERT_OK(nn_model_set_lr_schedule(model, &o));
    nn_test_history h;
    nn_test_history_init(&h);
    fit_into(model, 16, &h);
    double rates[16];
    replay_plateau(&h, "loss", 0, lr0, &o, rates);
    size_t reductions = 0;
    for (size_t e = 0; e < 16; e++) {
        NN_ASSERT_CLOSE(nn_test_log(&h, e, "learning_rate"), rates[e], 1e-12, 0);
        reductions += e > 0 && rates[e] < rates[e - 1];
    }
    assert_true(reductions >= 3);              /* 0.01 -> 0.005 -> 0.0025 -> 0.002 */
    NN_ASSERT_CLOSE(rates[15], 0.002, 1e-12, 0); /* floored at min_lr */
    NN_ASSERT_CLOSE(learning_rate(model), 0.002, 1e-12, 0);
    /* Removing the schedule keeps the reduced rate (nn.h). */
    NN_ASSERT_OK(nn_model_set_lr_schedule(model, NULL));
    NN_ASSERT_CLOSE(learning_rate(model), 0.002, 1e-12, 0);
    nn_model_free(model);
}

/* A falling loss is an improvement in "min" (and "auto") mode, so the rate
 * stays; in "max" mode it is a plateau. val_loss can be monitored with
 * validation data. */
static void reduce_on_plateau_modes(void **state) {
    (void)state;
    const nn_monitor_mode modes[3] = {NN_MONITOR_MIN, NN_MONITOR_AUTO, NN_MONITOR_MAX};
    for (int m = 0; m < 3; m++) {
        const double lr0 = 0.02;
        nn_model *model = model_with_sgd(lr0);
        nn_schedule_options o = schedule(NN_SCHEDULE_REDUCE_ON_PLATEAU);
        o.mode = modes[m];
        o.patience = 1;
        o.min_delta = 0;
        o.factor = 0.25;
        NN_ASSERT_OK(nn_model_set_lr_schedule(model, &o));
        float x[ROWS * IN], y[ROWS];
        data(x, y);
        nn_test_history h;
        nn_test_history_init(&h);
        nn_fit_options f = nn_test_fit_options(6, ROWS, 0);
        f.validation_x = x;
        f.validation_y = y;
        f.validation_rows = ROWS;
        nn_test_record_into(&f, &h);
        NN_ASSERT_OK(nn_model_fit(model, x, y, ROWS, IN, 1, &f));
        double rates[6];
        replay_plateau(&h, "val_loss", modes[m] == NN_MONITOR_MAX, lr0, &o, rates);
        for (size_t e = 0; e < 6; e++)
            NN_ASSERT_CLOSE(nn_test_log(&h, e, "learning_rate"), rates[e], 1e-12, 0);
        if (modes[m] == NN_MONITOR_MAX) assert_true(rates[5] < lr0);
        else assert_true(rates[5] == lr0);
        nn_model_free(model);
    }
}

/* A monitor that fit does not log is reported when fit starts, naming it. */
static void reduce_on_plateau_unknown_monitor(void **state) {
    (void)state;
    float x[ROWS * IN], y[ROWS];
    data(x, y);
    nn_model *model = model_with_sgd(0.1);
    size_t n = 0;
    float *before = nn_test_weights(model, &n);
    nn_schedule_options o = schedule(NN_SCHEDULE_REDUCE_ON_PLATEAU); /* val_loss */
    NN_ASSERT_OK(nn_model_set_lr_schedule(model, &o));
    nn_fit_options f = nn_test_fit_options(2, ROWS, 0);
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &f), NN_ERROR_INVALID_ARGUMENT,
                    "val_loss");
    char monitor[16];
    strcpy(monitor, "val_acc");
    o.monitor = monitor;
    NN_ASSERT_OK(nn_model_set_lr_schedule(model, &o));
    strcpy(monitor, "loss"); /* the call copied the string: this changes nothing */
    f.validation_x = x;
    f.validation_y = y;
    f.validation_rows = ROWS;
    NN_ASSERT_ERROR(nn_model_fit(model, x, y, ROWS, IN, 1, &f), NN_ERROR_INVALID_ARGUMENT,
                    "val_acc");
    float *after = nn_test_weights(model, NULL);
    assert_memory_equal(before, after, n * sizeof(float));
    free(before);
    free(after);
    nn_model_free(model);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(schedule_options_defaults),
    cmocka_unit_test(schedule_options_init_rejects_bad_arguments),
    cmocka_unit_test(set_lr_schedule_rejects_bad_options),
    cmocka_unit_test(step_schedule),
    cmocka_unit_test(exponential_schedule),
    cmocka_unit_test(cosine_schedule),
    cmocka_unit_test(schedule_drives_the_optimizer),
    cmocka_unit_test(removing_and_ordering),
    cmocka_unit_test(learning_rate_rejects_bad_arguments),
    cmocka_unit_test(reduce_on_plateau),
    cmocka_unit_test(reduce_on_plateau_modes),
    cmocka_unit_test(reduce_on_plateau_unknown_monitor),
};

NN_TEST_MAIN("schedules", tests)
