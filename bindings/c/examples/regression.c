/*
 * regression.c — fit y = sin(x) on [-pi, pi] with a small tanh network.
 *
 * Shows: a regression model (linear output, mean squared error), Adam,
 * evaluate on held-out points, predict, and reading a trained weight array.
 *
 * Build:  cc regression.c $(pkg-config --cflags --libs nn) -lm -o regression
 *
 * Exits with 0 if the test mean squared error is below 0.01, 1 otherwise.
 */
#include <nn.h>

#include <math.h>
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

#define PI 3.14159265358979323846

enum { TRAIN = 256, TEST = 9 };

int main(void) {
    /* Training data: TRAIN evenly spaced points; one input and one target column. */
    static float x[TRAIN], y[TRAIN];
    for (int i = 0; i < TRAIN; i++) {
        x[i] = (float)(-PI + 2.0 * PI * i / (TRAIN - 1));
        y[i] = (float)sin(x[i]);
    }

    /* 1 -> 32 tanh -> 32 tanh -> 1 linear. */
    nn_model *model = NULL;
    CHECK(nn_model_create(1, 2024, &model));
    CHECK(nn_model_add_dense(model, 32, NN_ACTIVATION_TANH));
    CHECK(nn_model_add_dense(model, 32, NN_ACTIVATION_TANH));
    CHECK(nn_model_add_dense(model, 1, NN_ACTIVATION_LINEAR));

    CHECK(nn_model_set_loss(model, NN_LOSS_MEAN_SQUARED_ERROR, 0));
    nn_optimizer_options adam;
    CHECK(nn_optimizer_options_init(&adam, NN_OPTIMIZER_ADAM));
    adam.learning_rate = 0.01;
    CHECK(nn_model_set_optimizer(model, &adam));

    nn_fit_options fit;
    nn_fit_options_init(&fit); /* shuffled mini-batches of 32 */
    fit.epochs = 300;
    CHECK(nn_model_fit(model, x, y, TRAIN, 1, 1, &fit));

    /* Held-out points between the training points. */
    float x_test[TEST], y_test[TEST], p[TEST];
    for (int i = 0; i < TEST; i++) {
        x_test[i] = (float)(-3.0 + 0.75 * i + 0.01);
        y_test[i] = (float)sin(x_test[i]);
    }
    double test_mse = 0.0; /* evaluate gives the loss (here the MSE) first */
    CHECK(nn_model_evaluate(model, x_test, y_test, TEST, 1, 1, &test_mse, 1));
    CHECK(nn_model_predict(model, x_test, TEST, 1, p, TEST));
    printf("     x    sin(x)   model\n");
    for (int i = 0; i < TEST; i++)
        printf("%6.2f  %7.4f  %7.4f\n", x_test[i], y_test[i], p[i]);
    printf("test MSE: %.3g\n", test_mse);

    /* Weights are plain arrays: the last layer's bias is weight array 5
     * (kernel 0, bias 1, kernel 2, bias 3, kernel 4, bias 5). */
    float bias = 0.0f;
    CHECK(nn_model_get_weight(model, 5, &bias, 1));
    printf("output bias after training: %.4f\n", bias);

    nn_model_free(model);
    return test_mse < 0.01 ? 0 : 1;
}
