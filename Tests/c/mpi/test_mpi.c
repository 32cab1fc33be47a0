/*
 * Data-parallel training over real MPI processes (issue 14's acceptance),
 * run by ctest as `mpirun -n 2 test_mpi` when Open MPI is installed:
 *
 *   1. 2 processes on a global batch of 64 (32 each), 20 steps of SGD and
 *      of Adam: the same weights on both ranks bit for bit, and within
 *      1e-5 of one process training on batches of 64 (each rank trains
 *      that one-process model too, with the data-parallel setting off);
 *   2. processes whose models differ (rank 1 another seed): every rank
 *      fails at once with NN_ERROR_INVALID_STATE naming the difference.
 *
 * Prints PASS/FAIL lines; exits non-zero on any failure (on any rank).
 */
#include <mpi.h>
#include <nn.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { INPUTS = 8, OUTPUTS = 3, BATCH = 64, STEPS = 20, ROWS = BATCH * STEPS };

static int rank = 0, size = 1, failures = 0;

static void check(int ok, const char *what) {
    printf("rank %d: %s: %s\n", rank, ok ? "PASS" : "FAIL", what);
    if (!ok) failures++;
}

#define OK(call)                                                                             \
    do {                                                                                     \
        nn_status s_ = (call);                                                               \
        if (s_ != NN_OK) {                                                                   \
            fprintf(stderr, "rank %d: %s: %s: %s\n", rank, #call, nn_status_string(s_),      \
                    nn_last_error());                                                        \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                    \
        }                                                                                    \
    } while (0)

static int allreduce(float *values, size_t count, void *user_data) {
    (void)user_data;
    while (count > 0) {
        int n = count > (size_t)INT_MAX ? INT_MAX : (int)count;
        if (MPI_Allreduce(MPI_IN_PLACE, values, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS) return 1;
        values += n;
        count -= (size_t)n;
    }
    return 0;
}

static float xs[ROWS * INPUTS], ys[ROWS * OUTPUTS];

static void make_data(void) {
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < ROWS * INPUTS; i++) {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        xs[i] = (float)((double)((s * 2685821657736338717ull) >> 11) / 9007199254740992.0 * 2 - 1);
    }
    memset(ys, 0, sizeof ys);
    for (size_t r = 0; r < ROWS; r++) {
        const float *x = xs + r * INPUTS;
        size_t c = x[0] > x[1] ? (x[0] > x[2] ? 0 : 2) : (x[1] > x[2] ? 1 : 2);
        ys[r * OUTPUTS + c] = 1;
    }
}

static nn_model *make_model(uint64_t seed, nn_optimizer kind, double lr) {
    nn_model *model = NULL;
    OK(nn_model_create(INPUTS, seed, &model));
    OK(nn_model_add_dense(model, 16, NN_ACTIVATION_TANH));
    OK(nn_model_add_dense(model, OUTPUTS, NN_ACTIVATION_SOFTMAX));
    OK(nn_model_set_loss(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0));
    nn_optimizer_options o;
    OK(nn_optimizer_options_init(&o, kind));
    o.learning_rate = lr;
    OK(nn_model_set_optimizer(model, &o));
    return model;
}

static float *weights(nn_model *model, size_t *n) {
    size_t count = 0, total = 0, sizes[16];
    OK(nn_model_weight_count(model, &count));
    for (size_t i = 0; i < count && i < 16; i++) {
        size_t ndim = 0, dims[NN_MAX_DIMS], elements = 1;
        OK(nn_model_weight_shape(model, i, &ndim, dims, NN_MAX_DIMS));
        for (size_t d = 0; d < ndim; d++) elements *= dims[d];
        sizes[i] = elements;
        total += elements;
    }
    float *all = malloc(sizeof(float) * total);
    size_t at = 0;
    for (size_t i = 0; i < count && i < 16; i++) {
        OK(nn_model_get_weight(model, i, all + at, sizes[i]));
        at += sizes[i];
    }
    *n = total;
    return all;
}

static nn_fit_options fit_options(void) {
    nn_fit_options o;
    nn_fit_options_init(&o);
    o.epochs = 1;
    o.batch_size = BATCH;
    o.seed = 77;
    return o;
}

static void same_weights_as_one_process(nn_optimizer kind, double lr, const char *name) {
    nn_fit_options o = fit_options();
    nn_model *alone = make_model(3, kind, lr);
    OK(nn_model_fit(alone, xs, ys, ROWS, INPUTS, OUTPUTS, &o));
    nn_model *model = make_model(3, kind, lr);
    OK(nn_model_set_data_parallel(model, (size_t)rank, (size_t)size, allreduce, NULL));
    OK(nn_model_fit(model, xs, ys, ROWS, INPUTS, OUTPUTS, &o));

    size_t n = 0, m = 0;
    float *w = weights(model, &n), *w1 = weights(alone, &m);
    /* rank 0's weights to every rank: equal bit for bit? */
    float *root = malloc(sizeof(float) * n);
    memcpy(root, w, sizeof(float) * n);
    MPI_Bcast(root, (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD);
    char what[200];
    snprintf(what, sizeof what, "%s, %d steps: the weights equal rank 0's bit for bit", name, STEPS);
    check(memcmp(root, w, sizeof(float) * n) == 0, what);
    double worst = 0;
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)w[i] - (double)w1[i]));
    snprintf(what, sizeof what, "%s: within 1e-5 of one process on batches of %d (max difference %.2g)", name,
             BATCH, worst);
    check(n == m && worst <= 1e-5, what);
    free(root);
    free(w);
    free(w1);
    nn_model_free(model);
    nn_model_free(alone);
}

static void different_models_fail_fast(void) {
    nn_model *model = make_model(rank == 1 ? 4 : 3, NN_OPTIMIZER_SGD, 0.1);
    OK(nn_model_set_data_parallel(model, (size_t)rank, (size_t)size, allreduce, NULL));
    nn_fit_options o = fit_options();
    double t = MPI_Wtime();
    nn_status s = nn_model_fit(model, xs, ys, ROWS, INPUTS, OUTPUTS, &o);
    t = MPI_Wtime() - t;
    char what[600];
    snprintf(what, sizeof what, "a model of another seed on rank 1: %s in %.3f s: %s", nn_status_string(s), t,
             nn_last_error());
    check(s == NN_ERROR_INVALID_STATE && strstr(nn_last_error(), "differ in: weights") != NULL, what);
    nn_model_free(model);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    make_data();
    same_weights_as_one_process(NN_OPTIMIZER_SGD, 0.1, "SGD");
    same_weights_as_one_process(NN_OPTIMIZER_ADAM, 0.01, "Adam");
    different_models_fail_fast();
    int all = 0;
    MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) printf("test_mpi: %d processes, %s\n", size, all ? "FAILED" : "all passed");
    MPI_Finalize();
    return all ? 1 : 0;
}
