/*
 * The C side of `make bench`: libnn driven from C, and FANN (when built
 * with -DHAVE_FANN -lfann) on the same work, in the same process.
 *
 *   W2  MLP 2-8-1, sigmoid, mean squared error, SGD learning rate 0.5,
 *       batch 1 (online), XOR: training steps per second.
 *   W3  the W1 network (784-256-128-10): single-sample predict latency and
 *       batch-of-1024 predict throughput.
 *   gemm_c_*  nn_sgemm against OpenBLAS's cblas_sgemm, both called from
 *       here (no Python in the way: a ctypes call of nn_sgemm's 13 arguments
 *       costs about 4 µs, np.matmul's 1.3, which decides the one-sample
 *       product measured from Python), on one thread, when the driver
 *       passes the path of an OpenBLAS library (numpy's) as argv[1].
 *
 * Prints `bench=... system=... threads=T metric=M value=V` lines (the
 * Python driver computes the ratios). Best of several rounds.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nn.h"
#ifdef HAVE_FANN
#include <fann.h>
#endif

#define CHECK(call)                                                                     \
    do {                                                                                \
        nn_status s_ = (call);                                                          \
        if (s_ != NN_OK) {                                                              \
            fprintf(stderr, "%s failed: %s\n", #call, nn_last_error());                 \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void emit(const char *bench, const char *system, int threads, const char *metric, double value) {
    printf("bench=%s system=%s threads=%d metric=%s value=%.4g\n", bench, system, threads, metric, value);
    fflush(stdout);
}

static const float xor_x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
static const float xor_y[4] = {0, 1, 1, 0};

/* W2 with libnn: one nn_model_fit call of `epochs` online epochs. */
static double w2_libnn(size_t epochs) {
    nn_model *m;
    CHECK(nn_model_create(2, 1, &m));
    CHECK(nn_model_add_dense(m, 8, NN_ACTIVATION_SIGMOID));
    CHECK(nn_model_add_dense(m, 1, NN_ACTIVATION_SIGMOID));
    CHECK(nn_model_set_loss(m, NN_LOSS_MEAN_SQUARED_ERROR, 0));
    nn_optimizer_options sgd;
    CHECK(nn_optimizer_options_init(&sgd, NN_OPTIMIZER_SGD));
    sgd.learning_rate = 0.5;
    CHECK(nn_model_set_optimizer(m, &sgd));
    nn_fit_options fit;
    nn_fit_options_init(&fit);
    fit.batch_size = 1;
    fit.shuffle = 0;
    fit.epochs = 10;
    CHECK(nn_model_fit(m, xor_x, xor_y, 4, 2, 1, &fit)); /* warm-up */
    double best = 1e30;
    for (int round = 0; round < 5; round++) {
        fit.epochs = epochs;
        double t = now();
        CHECK(nn_model_fit(m, xor_x, xor_y, 4, 2, 1, &fit));
        t = now() - t;
        if (t < best) best = t;
    }
    float p[4];
    CHECK(nn_model_predict(m, xor_x, 4, 2, p, 4));
    double mse = 0;
    for (int i = 0; i < 4; i++) mse += (p[i] - xor_y[i]) * (p[i] - xor_y[i]) / 4;
    if (!(mse < 0.05)) fprintf(stderr, "warning: libnn W2 did not learn XOR (mse %g)\n", mse);
    nn_model_free(m);
    return (double)epochs * 4 / best;
}

/* The W1 network with fixed random weights. */
static nn_model *w1_model(void) {
    nn_model *m;
    CHECK(nn_model_create(784, 1, &m));
    CHECK(nn_model_add_dense(m, 256, NN_ACTIVATION_RELU));
    CHECK(nn_model_add_dense(m, 128, NN_ACTIVATION_RELU));
    CHECK(nn_model_add_dense(m, 10, NN_ACTIVATION_SOFTMAX));
    return m;
}

static void w3_libnn(int threads, const float *x) {
    nn_model *m = w1_model();
    float out[1024 * 10];
    CHECK(nn_model_predict(m, x, 1, 784, out, 10));
    double best = 1e30;
    for (int round = 0; round < 7; round++) {
        const int n = 20000;
        double t = now();
        for (int i = 0; i < n; i++) CHECK(nn_model_predict(m, x + (i % 64) * 784, 1, 784, out, 10));
        t = (now() - t) / n;
        if (t < best) best = t;
    }
    emit("w3_predict_latency", "libnn-c", threads, "microseconds", best * 1e6);
    CHECK(nn_model_predict(m, x, 1024, 784, out, 1024 * 10));
    best = 1e30;
    for (int round = 0; round < 7; round++) {
        double t = now();
        for (int i = 0; i < 10; i++) CHECK(nn_model_predict(m, x, 1024, 784, out, 1024 * 10));
        t = (now() - t) / 10;
        if (t < best) best = t;
    }
    emit("w3_predict_batch1024", "libnn-c", threads, "samples_per_s", 1024 / best);
    nn_model_free(m);
}

#ifdef HAVE_FANN
/* W2 with FANN: fann_train on one pattern at a time (incremental training),
 * sigmoid hidden and output units with steepness 1, learning rate 0.5. */
static double w2_fann(size_t epochs) {
    struct fann *ann = fann_create_standard(3, 2, 8, 1);
    fann_set_activation_function_hidden(ann, FANN_SIGMOID);
    fann_set_activation_function_output(ann, FANN_SIGMOID);
    fann_set_activation_steepness_hidden(ann, 1.0f);
    fann_set_activation_steepness_output(ann, 1.0f);
    fann_set_training_algorithm(ann, FANN_TRAIN_INCREMENTAL);
    fann_set_learning_rate(ann, 0.5f);
    fann_set_learning_momentum(ann, 0.0f);
    fann_type in[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}}, out[4][1] = {{0}, {1}, {1}, {0}};
    double best = 1e30;
    for (int round = 0; round < 5; round++) {
        double t = now();
        for (size_t e = 0; e < epochs; e++) {
            for (int i = 0; i < 4; i++) fann_train(ann, in[i], out[i]);
        }
        t = now() - t;
        if (t < best) best = t;
    }
    double mse = 0;
    for (int i = 0; i < 4; i++) {
        fann_type *p = fann_run(ann, in[i]);
        mse += (p[0] - out[i][0]) * (p[0] - out[i][0]) / 4;
    }
    if (!(mse < 0.05)) fprintf(stderr, "warning: FANN W2 did not learn XOR (mse %g)\n", mse);
    fann_destroy(ann);
    return (double)epochs * 4 / best;
}

static void w3_fann(const float *x) {
    /* FANN 2.2 has no ReLU; sigmoid hidden units (the activation is a small
     * part of the work) and a linear output. */
    struct fann *ann = fann_create_standard(4, 784, 256, 128, 10);
    fann_set_activation_function_hidden(ann, FANN_SIGMOID);
    fann_set_activation_function_output(ann, FANN_LINEAR);
    fann_randomize_weights(ann, -0.05f, 0.05f);
    double best = 1e30;
    for (int round = 0; round < 7; round++) {
        const int n = 5000;
        double t = now();
        for (int i = 0; i < n; i++) fann_run(ann, (fann_type *)(x + (i % 64) * 784));
        t = (now() - t) / n;
        if (t < best) best = t;
    }
    emit("w3_predict_latency", "fann", 1, "microseconds", best * 1e6);
    best = 1e30;
    for (int round = 0; round < 5; round++) {
        double t = now();
        for (int i = 0; i < 1024; i++) fann_run(ann, (fann_type *)(x + i * 784));
        t = now() - t;
        if (t < best) best = t;
    }
    emit("w3_predict_batch1024", "fann", 1, "samples_per_s", 1024 / best);
    fann_destroy(ann);
}
#endif

/* OpenBLAS's cblas_sgemm as numpy's copy exports it: 64-bit integers
 * (scipy_cblas_sgemm64_, cblas_sgemm64_) or plain ints (cblas_sgemm). */
typedef void (*sgemm64_fn)(int, int, int, int64_t, int64_t, int64_t, float, const float *, int64_t,
                           const float *, int64_t, float, float *, int64_t);
typedef void (*sgemm32_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int,
                           float, float *, int);
/* cblas_sgemv, for the one-row product: OpenBLAS's sgemm is slow at m = 1
 * (7 GFLOP/s here), and numpy calls sgemv for a vector times a matrix. */
typedef void (*sgemv64_fn)(int, int, int64_t, int64_t, float, const float *, int64_t, const float *, int64_t,
                           float, float *, int64_t);
typedef void (*sgemv32_fn)(int, int, int, int, float, const float *, int, const float *, int, float, float *, int);

static void gemm_c(const char *openblas) {
    void *handle = dlopen(openblas, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        printf("# cannot open %s: the C GEMM comparison is skipped\n", openblas);
        return;
    }
    sgemm64_fn s64 = (sgemm64_fn)dlsym(handle, "scipy_cblas_sgemm64_");
    if (!s64) s64 = (sgemm64_fn)dlsym(handle, "cblas_sgemm64_");
    sgemm32_fn s32 = s64 ? NULL : (sgemm32_fn)dlsym(handle, "cblas_sgemm");
    sgemv64_fn v64 = s64 ? (sgemv64_fn)dlsym(handle, "scipy_cblas_sgemv64_") : NULL;
    if (s64 && !v64) v64 = (sgemv64_fn)dlsym(handle, "cblas_sgemv64_");
    sgemv32_fn v32 = s32 ? (sgemv32_fn)dlsym(handle, "cblas_sgemv") : NULL;
    if ((!s64 || !v64) && (!s32 || !v32)) {
        printf("# no cblas_sgemm/cblas_sgemv in %s: the C GEMM comparison is skipped\n", openblas);
        return;
    }
    CHECK(nn_set_num_threads(1));
    static const int shapes[][3] = {{256, 256, 256}, {1024, 1024, 1024}, {1, 784, 256}, {128, 784, 256}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
        float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)k * n);
        float *c1 = malloc(sizeof(float) * (size_t)m * n), *c2 = malloc(sizeof(float) * (size_t)m * n);
        for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)sin(0.37 * (double)i);
        for (size_t i = 0; i < (size_t)k * n; i++) b[i] = (float)cos(0.11 * (double)i);
        int calls = (int)(2e8 / (2.0 * m * n * k)) + 1;
        double best_nn = 1e30, best_ob = 1e30;
        for (int round = 0; round < 7; round++) {   /* interleaved rounds */
            double t = now();
            for (int i = 0; i < calls; i++) CHECK(nn_sgemm(0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c1, n));
            t = (now() - t) / calls;
            if (t < best_nn) best_nn = t;
            t = now();
            for (int i = 0; i < calls; i++) {
                /* row major (101), no transposes (111); one row: c = Bᵀa (112: transposed) */
                if (m == 1 && v64) v64(101, 112, k, n, 1.0f, b, n, a, 1, 0.0f, c2, 1);
                else if (m == 1) v32(101, 112, k, n, 1.0f, b, n, a, 1, 0.0f, c2, 1);
                else if (s64) s64(101, 111, 111, m, n, k, 1.0f, a, k, b, n, 0.0f, c2, n);
                else s32(101, 111, 111, m, n, k, 1.0f, a, k, b, n, 0.0f, c2, n);
            }
            t = (now() - t) / calls;
            if (t < best_ob) best_ob = t;
        }
        double worst = 0;
        for (size_t i = 0; i < (size_t)m * n; i++) worst = fmax(worst, fabs(c1[i] - c2[i]) / (1 + fabs(c2[i])));
        if (worst > 1e-3) fprintf(stderr, "warning: nn_sgemm and OpenBLAS disagree by %g\n", worst);
        char name[64];
        if (m == n && n == k) snprintf(name, sizeof name, "gemm_c_n%d", m);
        else snprintf(name, sizeof name, "gemm_c_%dx%dx%d", m, k, n);
        emit(name, "libnn-c", 1, "gflops", 2.0 * m * n * k / best_nn / 1e9);
        emit(name, "openblas-c", 1, "gflops", 2.0 * m * n * k / best_ob / 1e9);
        free(a); free(b); free(c1); free(c2);
    }
    CHECK(nn_set_num_threads(0));
}

int main(int argc, char **argv) {
    if (argc > 1) gemm_c(argv[1]);
    float *x = malloc(sizeof(float) * 1024 * 784);
    for (int i = 0; i < 1024 * 784; i++) x[i] = (float)sin(i * 0.001);
    for (int threads = 1; threads <= 2; threads++) {
        CHECK(nn_set_num_threads((size_t)threads));
        emit("w2_xor_online", "libnn-c", threads, "steps_per_s", w2_libnn(50000));
        w3_libnn(threads, x);
    }
#ifdef HAVE_FANN
    emit("w2_xor_online", "fann", 1, "steps_per_s", w2_fann(50000));
    w3_fann(x);
#else
    printf("# FANN is not installed (libfann-dev): its W2 and W3 lines are skipped\n");
#endif
    CHECK(nn_set_num_threads(0));
    free(x);
    return 0;
}
