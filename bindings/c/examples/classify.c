/*
 * classify.c — a 3-class classifier on a synthetic 2-D spiral.
 *
 * Shows: batch normalization, an activation layer and dropout between
 * Dense layers, a model summary, softmax output with sparse categorical
 * cross-entropy (labels are class indices), the accuracy metric, Adam,
 * validation data with early stopping (restoring the best weights), a
 * per-epoch callback, evaluate, the confusion matrix and predict.
 *
 * Build:  cc classify.c $(pkg-config --cflags --libs nn) -lm -o classify
 *
 * Exits with 0 if the validation accuracy reaches 90 %, 1 otherwise.
 */
#include <nn.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Stops the program with libnn's explanation when a call fails. */
#define CHECK(call)                                                              \
    do {                                                                         \
        nn_status status_ = (call);                                              \
        if (status_ != NN_OK) {                                                  \
            const char *what_ = nn_status_string(status_);                       \
            fprintf(stderr, "%s:%d: %s failed (%s): %s\n", __FILE__, __LINE__,   \
                    #call, what_, nn_last_error());                              \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

enum { CLASSES = 3, PER_CLASS = 150, ROWS = CLASSES * PER_CLASS };

/* A tiny reproducible random generator for the data (xorshift64*). */
static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static double uniform01(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

static double normal(void) { /* Box-Muller */
    double u = uniform01(), v = uniform01();
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* Fills x [ROWS, 2] with points on CLASSES interleaved spiral arms and
 * labels [ROWS, 1] with the arm (0, 1 or 2) of each point, as floats. */
static void make_spiral(float *x, float *labels) {
    for (int c = 0; c < CLASSES; c++) {
        for (int i = 0; i < PER_CLASS; i++) {
            double r = (double)i / PER_CLASS;                       /* radius 0 .. 1 */
            double t = 4.0 * c + 4.0 * r + 0.2 * normal();          /* angle + noise */
            int row = c * PER_CLASS + i;
            x[2 * row + 0] = (float)(r * sin(t));
            x[2 * row + 1] = (float)(r * cos(t));
            labels[row] = (float)c;
        }
    }
}

/* Called by nn_model_fit after each epoch: prints every 25th epoch's logs
 * ("loss", "accuracy", "val_loss", "val_accuracy"). Returning non-zero
 * would stop training. */
static int print_progress(void *user_data, size_t epoch, size_t n_logs,
                          const char *const *names, const double *values) {
    size_t every = *(const size_t *)user_data;
    if ((epoch + 1) % every == 0) {
        printf("epoch %3zu:", epoch + 1);
        for (size_t i = 0; i < n_logs; i++) printf("  %s %.4f", names[i], values[i]);
        printf("\n");
    }
    return 0;
}

int main(void) {
    static float x_train[ROWS * 2], y_train[ROWS], x_val[ROWS * 2], y_val[ROWS];
    make_spiral(x_train, y_train);
    make_spiral(x_val, y_val); /* same spiral, fresh noise */

    /* 2 inputs -> 64 (batch-normalized, relu, 10 % dropout) -> 64 relu ->
     * 3 class probabilities. Batch normalization takes PyTorch's momentum
     * (0.1: the weight of each new batch) and epsilon. */
    nn_model *model = NULL;
    CHECK(nn_model_create(2, 7, &model));
    CHECK(nn_model_add_dense(model, 64, NN_ACTIVATION_LINEAR));
    CHECK(nn_model_add_batch_normalization(model, 0.1, 1e-5));
    CHECK(nn_model_add_activation(model, NN_ACTIVATION_RELU, NAN));
    CHECK(nn_model_add_dropout(model, 0.1));
    CHECK(nn_model_add_dense(model, 64, NN_ACTIVATION_RELU));
    CHECK(nn_model_add_dense(model, CLASSES, NN_ACTIVATION_SOFTMAX));

    /* The summary: ask for its length first, then fetch it. */
    size_t length = 0;
    CHECK(nn_model_summary(model, NULL, 0, &length));
    char *summary = malloc(length + 1);
    if (summary == NULL) return 1;
    CHECK(nn_model_summary(model, summary, length + 1, NULL));
    printf("%s\n", summary);
    free(summary);

    /* Labels are class indices: sparse categorical cross-entropy. */
    CHECK(nn_model_set_loss(model, NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0));
    CHECK(nn_model_add_metric(model, NN_METRIC_ACCURACY));
    nn_optimizer_options adam;
    CHECK(nn_optimizer_options_init(&adam, NN_OPTIMIZER_ADAM));
    adam.learning_rate = 0.01;
    CHECK(nn_model_set_optimizer(model, &adam));

    /* Stop when val_loss has not improved for 30 epochs and keep the
     * weights of the best epoch. */
    nn_early_stopping_options stopping;
    nn_early_stopping_options_init(&stopping); /* monitors "val_loss" */
    stopping.patience = 30;
    stopping.restore_best_weights = 1;

    size_t print_every = 25;
    nn_fit_options fit;
    nn_fit_options_init(&fit);
    fit.epochs = 300;
    fit.batch_size = 32;
    fit.validation_x = x_val;
    fit.validation_y = y_val;
    fit.validation_rows = ROWS;
    fit.on_epoch_end = print_progress;
    fit.user_data = &print_every;
    fit.early_stopping = &stopping;
    CHECK(nn_model_fit(model, x_train, y_train, ROWS, 2, 1, &fit));

    /* evaluate reports the loss and then each metric, named by metric_name. */
    size_t n_values = 0;
    CHECK(nn_model_metric_count(model, &n_values));
    double results[8];
    if (n_values > 8) return 1;
    CHECK(nn_model_evaluate(model, x_val, y_val, ROWS, 2, 1, results, 8));
    double val_accuracy = 0.0;
    for (size_t i = 0; i < n_values; i++) {
        const char *name = NULL;
        CHECK(nn_model_metric_name(model, i, &name));
        printf("validation %s: %.4f\n", name, results[i]);
        if (i == 1) val_accuracy = results[i];
    }

    /* The confusion matrix: rows are the true class, columns the predicted. */
    size_t counts[CLASSES * CLASSES], classes = 0;
    CHECK(nn_model_confusion_matrix(model, x_val, y_val, ROWS, 2, 1, counts,
                                    CLASSES * CLASSES, &classes));
    printf("confusion matrix (true class per row):\n");
    for (size_t t = 0; t < classes; t++) {
        for (size_t p = 0; p < classes; p++) printf(" %4zu", counts[t * classes + p]);
        printf("\n");
    }

    /* predict gives one probability row per input; the class is the argmax. */
    const float probes[3 * 2] = {0.0f, 0.5f, 0.5f, 0.0f, -0.4f, -0.4f};
    float probabilities[3 * CLASSES];
    CHECK(nn_model_predict(model, probes, 3, 2, probabilities, 3 * CLASSES));
    for (int i = 0; i < 3; i++) {
        const float *p = probabilities + i * CLASSES;
        int best = 0;
        for (int c = 1; c < CLASSES; c++)
            if (p[c] > p[best]) best = c;
        printf("(%5.2f, %5.2f) -> class %d  (p = %.3f %.3f %.3f)\n", probes[2 * i],
               probes[2 * i + 1], best, p[0], p[1], p[2]);
    }

    nn_model_free(model);
    return val_accuracy >= 0.9 ? 0 : 1;
}
