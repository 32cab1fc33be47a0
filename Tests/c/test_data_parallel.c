/*
 * Data-parallel training (nn_model_set_data_parallel, issue 14): processes
 * stood in for by threads of this program, each with its own model, summing
 * their buffers through an in-process all-reduce (what MPI_Allreduce does
 * between processes; bindings/c/examples/mpi_train.c uses the real one).
 *
 * The replicas end bit-identical; they match one process training on the
 * whole global batch to 1e-5 (the gradient's summation order differs);
 * their logs are the same global ones; processes that differ, or one that
 * refuses the fit, or a failing all-reduce, stop every process with an
 * error instead of a hang.
 */
#include "nn_test.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { INPUTS = 8, OUTPUTS = 3, BATCH = 64, STEPS = 20, ROWS = BATCH * STEPS, MAX_RANKS = 4 };

static float xs[ROWS * INPUTS], ys[ROWS * OUTPUTS];

static void make_data(void) {
    nn_test_rng rng = {14};
    nn_test_fill(&rng, xs, ROWS * INPUTS, -1, 1);
    memset(ys, 0, sizeof ys);
    for (size_t r = 0; r < ROWS; r++) {
        /* a learnable rule: the class of the largest of three inputs */
        const float *x = xs + r * INPUTS;
        size_t c = x[0] > x[1] ? (x[0] > x[2] ? 0 : 2) : (x[1] > x[2] ? 1 : 2);
        ys[r * OUTPUTS + c] = 1;
    }
}

/* ---- an all-reduce between threads ------------------------------------ */

typedef struct group {
    pthread_mutex_t lock;
    pthread_cond_t done;
    int size, arrived;
    unsigned generation;
    float *buffers[MAX_RANKS];
    size_t counts[MAX_RANKS];
    int status;       /* what every member returns for this call */
    int fail_at_call; /* 1-based call number at which every member fails with 7; 0: never */
    int calls;
    int first_two_equal[8]; /* per call (0-based, first 8): ranks 0 and 1 handed in equal buffers */
} group;

typedef struct member {
    group *g;
    int rank;
} member;

/* Sums the members' buffers in rank order (the same result for all, as
 * MPI_Allreduce), written into each member's buffer by the last to arrive. */
static int thread_allreduce(float *values, size_t count, void *user_data) {
    member *m = user_data;
    group *g = m->g;
    pthread_mutex_lock(&g->lock);
    g->buffers[m->rank] = values;
    g->counts[m->rank] = count;
    unsigned generation = g->generation;
    if (++g->arrived == g->size) {
        if (g->calls < 8 && g->size >= 2)
            g->first_two_equal[g->calls] = memcmp(g->buffers[0], g->buffers[1], count * sizeof(float)) == 0;
        g->calls++;
        g->status = g->fail_at_call == g->calls ? 7 : 0;
        for (int r = 1; r < g->size; r++)
            if (g->counts[r] != g->counts[0]) g->status = 99; /* callers disagree: a bug */
        if (g->status == 0) {
            for (size_t i = 0; i < count; i++) {
                float sum = 0;
                for (int r = 0; r < g->size; r++) sum += g->buffers[r][i];
                for (int r = 0; r < g->size; r++) g->buffers[r][i] = sum;
            }
        }
        g->arrived = 0;
        g->generation++;
        pthread_cond_broadcast(&g->done);
    } else {
        while (g->generation == generation) pthread_cond_wait(&g->done, &g->lock);
    }
    int status = g->status;
    pthread_mutex_unlock(&g->lock);
    return status;
}

static void group_init(group *g, int size) {
    memset(g, 0, sizeof *g);
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->done, NULL);
    g->size = size;
}

static void group_destroy(group *g) {
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->done);
}

/* ---- one rank's fit on a thread ---------------------------------------- */

typedef struct rank_run {
    member m;
    nn_model *model;
    const float *x, *y;
    size_t rows, y_cols;
    nn_fit_options options;
    nn_test_history history;
    nn_status status;
    char message[512];
} rank_run;

static void *run_rank(void *arg) {
    rank_run *r = arg;
    r->status = nn_model_fit(r->model, r->x, r->y, r->rows, INPUTS, r->y_cols, &r->options);
    strncpy(r->message, nn_last_error(), sizeof r->message - 1);
    return NULL;
}

/* Runs `size` ranks, rank i fitting models[i], and waits for them. */
static void run_ranks(group *g, rank_run *runs, int size) {
    pthread_t threads[MAX_RANKS];
    for (int i = 0; i < size; i++) {
        runs[i].m.g = g;
        runs[i].m.rank = i;
        NN_ASSERT_OK(nn_model_set_data_parallel(runs[i].model, (size_t)i, (size_t)size, thread_allreduce,
                                                &runs[i].m));
        nn_test_history_init(&runs[i].history);
        nn_test_record_into(&runs[i].options, &runs[i].history);
        assert_int_equal(pthread_create(&threads[i], NULL, run_rank, &runs[i]), 0);
    }
    for (int i = 0; i < size; i++) pthread_join(threads[i], NULL);
}

static nn_model *make_model(uint64_t seed, nn_optimizer optimizer, double lr, int extras) {
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(INPUTS, seed, &model));
    NN_ASSERT_OK(nn_model_add_dense(model, 16, NN_ACTIVATION_TANH));
    if (extras) {
        NN_ASSERT_OK(nn_model_add_batch_normalization(model, 0.1, 1e-3));
        NN_ASSERT_OK(nn_model_add_dropout(model, 0.2));
    }
    NN_ASSERT_OK(nn_model_add_dense(model, OUTPUTS, NN_ACTIVATION_SOFTMAX));
    nn_test_compile(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, optimizer, lr);
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_ACCURACY));
    return model;
}

static rank_run rank_for(nn_model *model, size_t epochs) {
    rank_run r;
    memset(&r, 0, sizeof r);
    r.model = model;
    r.x = xs;
    r.y = ys;
    r.rows = ROWS;
    r.y_cols = OUTPUTS;
    r.options = nn_test_fit_options(epochs, BATCH, 1);
    r.options.seed = 77;
    return r;
}

/* Fails unless the model's weights are still `before` (n floats, from
 * nn_test_weights: freed here). */
static void assert_weights_still(nn_model *model, float *before, size_t n) {
    size_t m = 0;
    float *after = nn_test_weights(model, &m);
    assert_int_equal(m, n);
    assert_memory_equal(before, after, n * sizeof(float));
    free(before);
    free(after);
}

static double max_difference(nn_model *a, nn_model *b) {
    size_t na = 0, nb = 0;
    float *wa = nn_test_weights(a, &na), *wb = nn_test_weights(b, &nb);
    assert_int_equal(na, nb);
    double worst = 0;
    for (size_t i = 0; i < na; i++) worst = fmax(worst, fabs((double)wa[i] - (double)wb[i]));
    free(wa);
    free(wb);
    return worst;
}

/* 2 ranks x 32 rows give the 64-row global batch's step: after 20 steps of
 * SGD and of Adam, the ranks hold the same weights bit for bit, within
 * 1e-5 of one process fitting batches of 64 (the acceptance), and
 * log the same global loss and accuracy, close to the one process's. */
static void two_ranks_equal_one_process(void **state) {
    (void)state;
    make_data();
    const nn_optimizer optimizers[] = {NN_OPTIMIZER_SGD, NN_OPTIMIZER_ADAM};
    const double rates[] = {0.1, 0.01};
    for (int o = 0; o < 2; o++) {
        nn_model *single = make_model(3, optimizers[o], rates[o], 0);
        rank_run alone = rank_for(single, 1);
        nn_test_history_init(&alone.history);
        nn_test_record_into(&alone.options, &alone.history);
        NN_ASSERT_OK(nn_model_fit(single, xs, ys, ROWS, INPUTS, OUTPUTS, &alone.options));

        group g;
        group_init(&g, 2);
        rank_run runs[2] = {rank_for(make_model(3, optimizers[o], rates[o], 0), 1),
                            rank_for(make_model(3, optimizers[o], rates[o], 0), 1)};
        run_ranks(&g, runs, 2);
        for (int i = 0; i < 2; i++) {
            if (runs[i].status != NN_OK) fail_msg("rank %d: %s", i, runs[i].message);
        }
        /* one check of the replicas, then one all-reduce per step and one
         * at the end of the epoch */
        assert_int_equal(g.calls, 1 + STEPS + 1);
        assert_true(nn_test_same_weights(runs[0].model, runs[1].model));
        double diff = max_difference(runs[0].model, single);
        if (!(diff <= 1e-5)) fail_msg("optimizer %d: 2 ranks differ from 1 process by %g", o, diff);
        for (const char *name = "loss"; name; name = strcmp(name, "loss") == 0 ? "accuracy" : NULL) {
            double a = nn_test_log(&runs[0].history, 0, name), b = nn_test_log(&runs[1].history, 0, name);
            assert_true(a == b);
            NN_ASSERT_CLOSE(a, nn_test_log(&alone.history, 0, name), 1e-5, 1e-6);
        }
        for (int i = 0; i < 2; i++) nn_model_free(runs[i].model);
        nn_model_free(single);
        group_destroy(&g);
    }
}

/* 3 ranks, a last batch of 2 rows (one rank with none), BatchNorm and
 * Dropout, two epochs: the replicas stay identical (BatchNorm's running
 * statistics included: rank 0's), the global logs are the same on every
 * rank, and the weights are close to one process's (Dropout's masks differ,
 * so only roughly). */
static void three_ranks_with_batchnorm_dropout_and_a_short_batch(void **state) {
    (void)state;
    make_data();
    const size_t rows = BATCH * 3 + 2;
    group g;
    group_init(&g, 3);
    rank_run runs[3];
    for (int i = 0; i < 3; i++) {
        runs[i] = rank_for(make_model(5, NN_OPTIMIZER_ADAM, 0.01, 1), 2);
        runs[i].rows = rows;
    }
    run_ranks(&g, runs, 3);
    for (int i = 0; i < 3; i++) {
        if (runs[i].status != NN_OK) fail_msg("rank %d: %s", i, runs[i].message);
    }
    for (int i = 1; i < 3; i++) {
        assert_true(nn_test_same_weights(runs[0].model, runs[i].model));
        for (size_t e = 0; e < 2; e++) {
            assert_true(nn_test_log(&runs[0].history, e, "loss") == nn_test_log(&runs[i].history, e, "loss"));
            assert_true(nn_test_log(&runs[0].history, e, "accuracy") ==
                        nn_test_log(&runs[i].history, e, "accuracy"));
        }
    }
    for (int i = 0; i < 3; i++) nn_model_free(runs[i].model);
    group_destroy(&g);
}

/* Ranks whose models or data differ (seed: the weights; learning rate:
 * the optimizer; one rank's own rows: the training data) are refused
 * before training, on every rank, with the difference named; nothing is
 * trained. */
static void different_models_are_refused_on_every_rank(void **state) {
    (void)state;
    make_data();
    /* rank 1 with another seed, another learning rate, or its own data of
     * the same shape (each rank its shard: the usual mistake) */
    static float other[ROWS * INPUTS];
    memcpy(other, xs, sizeof other);
    other[123] += 0.5f;
    struct {
        uint64_t seed;
        double lr;
        const float *x;
        const char *named;
    } cases[] = {{4, 0.01, xs, "weights"}, {3, 0.02, xs, "optimizer"}, {3, 0.01, other, "training data"}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        group g;
        group_init(&g, 2);
        rank_run runs[2] = {rank_for(make_model(3, NN_OPTIMIZER_ADAM, 0.01, 0), 1),
                            rank_for(make_model(cases[c].seed, NN_OPTIMIZER_ADAM, cases[c].lr, 0), 1)};
        runs[1].x = cases[c].x;
        size_t n = 0;
        float *before = nn_test_weights(runs[0].model, &n);
        run_ranks(&g, runs, 2);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(runs[i].status, NN_ERROR_INVALID_STATE);
            if (!nn_test_contains(runs[i].message, "differ") || !nn_test_contains(runs[i].message, cases[c].named))
                fail_msg("rank %d: \"%s\" does not name %s", i, runs[i].message, cases[c].named);
        }
        assert_int_equal(g.calls, 1);
        assert_weights_still(runs[0].model, before, n);
        for (int i = 0; i < 2; i++) nn_model_free(runs[i].model);
        group_destroy(&g);
    }
}

/* A rank whose own checks refuse the fit - the model's (targets of the
 * wrong width) or nn_model_fit's arguments (batch_size 0) - gets its error;
 * the other is told that another process refused instead of waiting. */
static void a_rank_that_refuses_stops_the_others(void **state) {
    (void)state;
    make_data();
    for (int c = 0; c < 2; c++) {
        group g;
        group_init(&g, 2);
        rank_run runs[2] = {rank_for(make_model(3, NN_OPTIMIZER_SGD, 0.1, 0), 1),
                            rank_for(make_model(3, NN_OPTIMIZER_SGD, 0.1, 0), 1)};
        if (c == 0) runs[1].y_cols = OUTPUTS - 1;
        else runs[1].options.batch_size = 0;
        run_ranks(&g, runs, 2);
        assert_int_equal(runs[1].status, c == 0 ? NN_ERROR_SHAPE_MISMATCH : NN_ERROR_INVALID_ARGUMENT);
        assert_int_equal(runs[0].status, NN_ERROR_INVALID_STATE);
        assert_true(nn_test_contains(runs[0].message, "another data-parallel process refused"));
        assert_int_equal(g.calls, 1);
        for (int i = 0; i < 2; i++) nn_model_free(runs[i].model);
        group_destroy(&g);
    }
}

/* An all-reduce that fails (on every rank, as an MPI error would) fails
 * the fit with NN_ERROR_COMMUNICATION and the callback's value. */
static void a_failing_allreduce_is_a_communication_error(void **state) {
    (void)state;
    make_data();
    group g;
    group_init(&g, 2);
    g.fail_at_call = 3; /* the check, step 1, then step 2 fails */
    rank_run runs[2] = {rank_for(make_model(3, NN_OPTIMIZER_SGD, 0.1, 0), 1),
                        rank_for(make_model(3, NN_OPTIMIZER_SGD, 0.1, 0), 1)};
    run_ranks(&g, runs, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(runs[i].status, NN_ERROR_COMMUNICATION);
        if (!nn_test_contains(runs[i].message, "returned 7") || !nn_test_contains(runs[i].message, "batch 2"))
            fail_msg("rank %d: \"%s\"", i, runs[i].message);
    }
    assert_true(nn_test_same_weights(runs[0].model, runs[1].model)); /* one step taken by both */
    for (int i = 0; i < 2; i++) nn_model_free(runs[i].model);
    group_destroy(&g);
}

/* A step that fails on one rank (its share of the first batch overflows:
 * a non-finite loss there alone) fails on all of them: that rank with
 * NN_ERROR_NON_FINITE, the other with NN_ERROR_COMMUNICATION, both after
 * the same all-reduce (no hang), neither taking the step. */
static void a_step_failing_on_one_rank_fails_on_all(void **state) {
    (void)state;
    make_data();
    static float overflowing[ROWS * INPUTS];
    memcpy(overflowing, xs, sizeof overflowing);
    /* rank 1's share of the first batch (no shuffle) is rows 32..63 */
    for (size_t i = 0; i < INPUTS; i++) overflowing[40 * INPUTS + i] = 3e38f;
    group g;
    group_init(&g, 2);
    rank_run runs[2];
    for (int i = 0; i < 2; i++) {
        nn_model *model = NULL;
        NN_ASSERT_OK(nn_model_create(INPUTS, 3, &model));
        NN_ASSERT_OK(nn_model_add_dense(model, 16, NN_ACTIVATION_LINEAR));
        NN_ASSERT_OK(nn_model_add_dense(model, OUTPUTS, NN_ACTIVATION_SOFTMAX));
        nn_test_compile(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_SGD, 0.1);
        runs[i] = rank_for(model, 1);
        runs[i].options.shuffle = 0;
    }
    /* the same data on both (the replicas' check compares it); only rank
     * 1's share of the first batch holds the overflowing row */
    runs[0].x = runs[1].x = overflowing;
    size_t n = 0;
    float *before = nn_test_weights(runs[0].model, &n);
    run_ranks(&g, runs, 2);
    assert_int_equal(runs[1].status, NN_ERROR_NON_FINITE);
    assert_true(nn_test_contains(runs[1].message, "batch 1"));
    assert_int_equal(runs[0].status, NN_ERROR_COMMUNICATION);
    if (!nn_test_contains(runs[0].message, "another data-parallel process failed") ||
        !nn_test_contains(runs[0].message, "batch 1"))
        fail_msg("rank 0: \"%s\"", runs[0].message);
    assert_int_equal(g.calls, 2); /* the check, then the failed step */
    assert_weights_still(runs[0].model, before, n);
    for (int i = 0; i < 2; i++) nn_model_free(runs[i].model);
    group_destroy(&g);
}

/* Dropout draws each rank's masks from a generator of its own: two ranks
 * given the same rows (each global batch made of two equal halves, no
 * shuffle) hand in different gradients when the model has Dropout, and
 * equal ones when it has none (the observation works). */
static void dropout_masks_differ_between_ranks(void **state) {
    (void)state;
    make_data();
    static float twin_x[BATCH * INPUTS], twin_y[BATCH * OUTPUTS];
    memcpy(twin_x, xs, sizeof twin_x / 2);
    memcpy(twin_x + BATCH / 2 * INPUTS, xs, sizeof twin_x / 2);
    memcpy(twin_y, ys, sizeof twin_y / 2);
    memcpy(twin_y + BATCH / 2 * OUTPUTS, ys, sizeof twin_y / 2);
    for (int dropout = 0; dropout < 2; dropout++) {
        group g;
        group_init(&g, 2);
        rank_run runs[2];
        for (int i = 0; i < 2; i++) {
            nn_model *model = NULL;
            NN_ASSERT_OK(nn_model_create(INPUTS, 3, &model));
            NN_ASSERT_OK(nn_model_add_dense(model, 16, NN_ACTIVATION_TANH));
            if (dropout) NN_ASSERT_OK(nn_model_add_dropout(model, 0.5));
            NN_ASSERT_OK(nn_model_add_dense(model, OUTPUTS, NN_ACTIVATION_SOFTMAX));
            nn_test_compile(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0, NN_OPTIMIZER_SGD, 0.1);
            runs[i] = rank_for(model, 1);
            runs[i].x = twin_x;
            runs[i].y = twin_y;
            runs[i].rows = BATCH;
            runs[i].options.shuffle = 0;
        }
        run_ranks(&g, runs, 2);
        for (int i = 0; i < 2; i++) {
            if (runs[i].status != NN_OK) fail_msg("rank %d: %s", i, runs[i].message);
        }
        assert_int_equal(g.calls, 3);            /* check, the step, the epoch's end */
        assert_int_equal(g.first_two_equal[1], !dropout);
        assert_true(nn_test_same_weights(runs[0].model, runs[1].model));
        for (int i = 0; i < 2; i++) nn_model_free(runs[i].model);
        group_destroy(&g);
    }
}

/* A stop flag set on one rank only (Ctrl-C reaching one process first)
 * cancels the fit on every rank after the same step, BatchNorm's
 * statistics taken from rank 0, the replicas identical; no hang. */
static void a_stop_on_one_rank_stops_every_rank(void **state) {
    (void)state;
    make_data();
    static volatile int raised = 1;
    group g;
    group_init(&g, 2);
    rank_run runs[2] = {rank_for(make_model(5, NN_OPTIMIZER_SGD, 0.1, 1), 1),
                        rank_for(make_model(5, NN_OPTIMIZER_SGD, 0.1, 1), 1)};
    runs[1].options.stop_flag = &raised;
    run_ranks(&g, runs, 2);
    for (int i = 0; i < 2; i++) {
        if (runs[i].status != NN_OK) fail_msg("rank %d: %s", i, runs[i].message);
        assert_int_equal(runs[i].history.epochs, 0); /* the epoch was cancelled: not logged */
    }
    assert_int_equal(g.calls, 3); /* the check, step 1 (which carried the cancel), BatchNorm's statistics */
    assert_true(nn_test_same_weights(runs[0].model, runs[1].model));
    for (int i = 0; i < 2; i++) nn_model_free(runs[i].model);
    group_destroy(&g);
}

static int never_called(float *values, size_t count, void *user_data) {
    (void)values, (void)count, (void)user_data;
    fail_msg("the all-reduce of a one-process model was called");
    return 1;
}

/* Bad settings; size 1 is one process again (the callback is never
 * called); train_on_batch refuses a data-parallel model. */
static void settings_are_checked(void **state) {
    (void)state;
    make_data();
    nn_model *model = make_model(3, NN_OPTIMIZER_SGD, 0.1, 0);
    NN_ASSERT_ERROR(nn_model_set_data_parallel(model, 0, 0, never_called, NULL), NN_ERROR_INVALID_ARGUMENT,
                    "size");
    NN_ASSERT_ERROR(nn_model_set_data_parallel(model, 2, 2, never_called, NULL), NN_ERROR_INVALID_ARGUMENT,
                    "rank 2");
    NN_ASSERT_ERROR(nn_model_set_data_parallel(model, 0, 2, NULL, NULL), NN_ERROR_NULL_POINTER, "allreduce");
    NN_ASSERT_ERROR(nn_model_set_data_parallel(NULL, 0, 1, NULL, NULL), NN_ERROR_NULL_POINTER, "model");

    NN_ASSERT_OK(nn_model_set_data_parallel(model, 1, 2, never_called, NULL));
    double values[2];
    NN_ASSERT_ERROR(nn_model_train_on_batch(model, xs, ys, 4, INPUTS, OUTPUTS, NULL, values, 2),
                    NN_ERROR_INVALID_STATE, "train_on_batch", "data-parallel");
    NN_ASSERT_OK(nn_model_set_data_parallel(model, 0, 1, never_called, NULL));
    nn_fit_options o = nn_test_fit_options(1, BATCH, 1);
    NN_ASSERT_OK(nn_model_fit(model, xs, ys, ROWS, INPUTS, OUTPUTS, &o));
    NN_ASSERT_OK(nn_model_train_on_batch(model, xs, ys, 4, INPUTS, OUTPUTS, NULL, values, 2));
    nn_model_free(model);
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_ranks_equal_one_process),
        cmocka_unit_test(three_ranks_with_batchnorm_dropout_and_a_short_batch),
        cmocka_unit_test(different_models_are_refused_on_every_rank),
        cmocka_unit_test(a_rank_that_refuses_stops_the_others),
        cmocka_unit_test(dropout_masks_differ_between_ranks),
        cmocka_unit_test(a_stop_on_one_rank_stops_every_rank),
        cmocka_unit_test(a_failing_allreduce_is_a_communication_error),
        cmocka_unit_test(a_step_failing_on_one_rank_fails_on_all),
        cmocka_unit_test(settings_are_checked),
    };
    return nn_test_main(argc, argv, "test_data_parallel", tests, sizeof tests / sizeof tests[0]);
}
