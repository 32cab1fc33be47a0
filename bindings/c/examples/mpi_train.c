/*
 * mpi_train.c — data-parallel training over MPI: every process holds the
 * same model, trains on its share of each global batch, and the gradients
 * are summed with MPI_Allreduce through nn_model_set_data_parallel (libnn
 * itself links no MPI).
 *
 * The data: the 8×8 handwritten digits (1,797 images, scikit-learn's copy
 * of the UCI set) in a file of float32 rows, 64 pixels scaled to [0, 1]
 * then the class (0-9); bindings/c/examples/README.md shows how to write
 * it. Every process reads the whole file; the first 1,437 rows train, the
 * last 360 test.
 *
 * Build:  mpicc mpi_train.c $(pkg-config --cflags --libs nn) -lm -o mpi_train
 * Run:    mpirun -n 2 ./mpi_train digits.f32
 *
 * Rank 0 prints the epochs' logs (the same on every rank: the global loss
 * and accuracy) and the test accuracy, and saves the model if a second
 * argument names a file. Exits with 0 if the test accuracy reaches 96 %.
 */
#include <mpi.h>
#include <nn.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

/* Stops every process with libnn's explanation when a call fails. */
#define CHECK(call)                                                                  \
    do {                                                                             \
        nn_status status_ = (call);                                                  \
        if (status_ != NN_OK) {                                                      \
            fprintf(stderr, "%s:%d: %s failed (%s): %s\n", __FILE__, __LINE__, #call, \
                    nn_status_string(status_), nn_last_error());                     \
            MPI_Abort(MPI_COMM_WORLD, 1);                                            \
        }                                                                            \
    } while (0)

enum { PIXELS = 64, CLASSES = 10, TRAIN_ROWS = 1437 };

/* libnn's all-reduce: the element-wise sum over the processes, in place
 * (MPI counts are ints: a larger buffer goes in pieces). */
static int mpi_allreduce(float *values, size_t count, void *user_data) {
    MPI_Comm comm = *(MPI_Comm *)user_data;
    while (count > 0) {
        int n = count > (size_t)INT_MAX ? INT_MAX : (int)count;
        if (MPI_Allreduce(MPI_IN_PLACE, values, n, MPI_FLOAT, MPI_SUM, comm) != MPI_SUCCESS) return 1;
        values += n;
        count -= (size_t)n;
    }
    return 0;
}

/* Rank 0 prints each epoch's logs. */
static int print_epoch(void *user_data, size_t epoch, size_t n_logs, const char *const *names,
                       const double *values) {
    (void)user_data;
    printf("epoch %2zu", epoch + 1);
    for (size_t i = 0; i < n_logs; i++) printf("  %s %.4f", names[i], values[i]);
    printf("\n");
    return 0;
}

static float *read_digits(const char *path, size_t *rows) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    *rows = (size_t)bytes / (sizeof(float) * (PIXELS + 1));
    float *data = malloc((size_t)bytes);
    if (!data || fread(data, 1, (size_t)bytes, f) != (size_t)bytes) {
        free(data);
        data = NULL;
    }
    fclose(f);
    return data;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm comm = MPI_COMM_WORLD;
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (argc < 2) {
        if (rank == 0) fprintf(stderr, "usage: mpirun -n N %s digits.f32 [model.safetensors]\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    size_t rows = 0;
    float *data = read_digits(argv[1], &rows);
    if (!data || rows <= TRAIN_ROWS) {
        fprintf(stderr, "rank %d: cannot read the digits from %s\n", rank, argv[1]);
        MPI_Abort(comm, 1);
    }
    /* split the file's rows into inputs and class indices */
    float *x = malloc(sizeof(float) * rows * PIXELS), *y = malloc(sizeof(float) * rows);
    for (size_t r = 0; r < rows; r++) {
        for (size_t j = 0; j < PIXELS; j++) x[r * PIXELS + j] = data[r * (PIXELS + 1) + j];
        y[r] = data[r * (PIXELS + 1) + PIXELS];
    }
    free(data);

    /* the same model on every process: same layers, same seed */
    nn_model *model = NULL;
    CHECK(nn_model_create(PIXELS, 42, &model));
    CHECK(nn_model_add_dense(model, 64, NN_ACTIVATION_RELU));
    CHECK(nn_model_add_dense(model, CLASSES, NN_ACTIVATION_SOFTMAX));
    CHECK(nn_model_set_loss(model, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0));
    nn_optimizer_options adam;
    CHECK(nn_optimizer_options_init(&adam, NN_OPTIMIZER_ADAM));
    adam.learning_rate = 0.003;
    CHECK(nn_model_set_optimizer(model, &adam));
    CHECK(nn_model_add_metric(model, NN_METRIC_ACCURACY));

    /* data-parallel: this process is `rank` of `size` */
    CHECK(nn_model_set_data_parallel(model, (size_t)rank, (size_t)size, mpi_allreduce, &comm));

    nn_fit_options fit;
    nn_fit_options_init(&fit);
    fit.epochs = 40;
    fit.batch_size = 64; /* the global batch: 64 / size rows on each process */
    fit.seed = 7;        /* the same shuffle everywhere */
    if (rank == 0) fit.on_epoch_end = print_epoch;
    CHECK(nn_model_fit(model, x, y, TRAIN_ROWS, PIXELS, 1, &fit));

    /* every process has the same weights: each evaluates the test rows */
    double values[2];
    CHECK(nn_model_evaluate(model, x + TRAIN_ROWS * PIXELS, y + TRAIN_ROWS, rows - TRAIN_ROWS, PIXELS, 1,
                            values, 2));
    if (rank == 0) {
        printf("%d processes: test loss %.4f, test accuracy %.4f\n", size, values[0], values[1]);
        if (argc > 2) CHECK(nn_model_save(model, argv[2], 0));
    }
    nn_model_free(model);
    free(x);
    free(y);
    MPI_Finalize();
    return values[1] >= 0.96 ? 0 : 1;
}
