/*
 * xor.c — the smallest libnn program: learn XOR with a 2-8-1 network.
 *
 * Build and run (from the repository, after building libnn.so):
 *     cc xor.c -I../../../include -L<dir of libnn.so> -lnn -o xor
 *     LD_LIBRARY_PATH=<dir of libnn.so> ./xor
 * or, with libnn installed:
 *     cc xor.c $(pkg-config --cflags --libs nn) -o xor
 *
 * Exits with 0 if the network learned XOR (mean squared error of its four
 * predictions below 0.01), 1 otherwise.
 */
#include <nn.h>

#include <stdio.h>
#include <stdlib.h>

/* Every fallible libnn call returns an nn_status; on failure,
 * nn_last_error() explains what went wrong. This macro stops the program
 * with that explanation. The status string is fetched first: the text of
 * nn_last_error() stays valid only until the next call into libnn. */
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

int main(void) {
    /* The four XOR cases: inputs [4 rows, 2 columns], targets [4 rows, 1 column]. */
    const float x[4 * 2] = {0, 0,
                            0, 1,
                            1, 0,
                            1, 1};
    const float y[4 * 1] = {0, 1, 1, 0};

    /* A model taking 2 inputs; the seed makes the run reproducible. */
    nn_model *model = NULL;
    CHECK(nn_model_create(2, 42, &model));
    CHECK(nn_model_add_dense(model, 8, NN_ACTIVATION_TANH));    /* hidden layer */
    CHECK(nn_model_add_dense(model, 1, NN_ACTIVATION_SIGMOID)); /* probability of 1 */

    /* Binary cross-entropy on the sigmoid output, trained with Adam. */
    CHECK(nn_model_set_loss(model, NN_LOSS_BINARY_CROSSENTROPY, 0));
    nn_optimizer_options adam;
    CHECK(nn_optimizer_options_init(&adam, NN_OPTIMIZER_ADAM));
    adam.learning_rate = 0.05;
    CHECK(nn_model_set_optimizer(model, &adam));

    /* 500 passes over the four samples, all four in each gradient step. */
    nn_fit_options fit;
    nn_fit_options_init(&fit);
    fit.epochs = 500;
    fit.batch_size = 4;
    CHECK(nn_model_fit(model, x, y, 4, 2, 1, &fit));

    /* Predict the four cases and measure the mean squared error. */
    float p[4];
    CHECK(nn_model_predict(model, x, 4, 2, p, 4));
    double mse = 0.0;
    for (int i = 0; i < 4; i++) {
        printf("%g xor %g -> %.4f (target %g)\n", x[2 * i], x[2 * i + 1], p[i], y[i]);
        mse += (p[i] - y[i]) * (p[i] - y[i]) / 4.0;
    }
    printf("final MSE: %.3g\n", mse);

    nn_model_free(model);
    return mse < 0.01 ? 0 : 1;
}
