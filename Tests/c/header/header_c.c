/*
 * nn.h compiled on its own as C99 with -Wall -Wextra -Werror -pedantic.
 * nn.h is the first include, so it must carry every include it needs.
 * Linked against libnn; checks the documented constants at run time.
 */
#include "nn.h"

#include <stdio.h>
#include <string.h>

/* Each check prints what failed; main returns the number of failures. */
static int failures = 0;
#define CHECK(cond)                                                     \
    do {                                                                \
        if (!(cond)) {                                                  \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,      \
                    __LINE__, #cond);                                   \
            failures++;                                                 \
        }                                                               \
    } while (0)

int main(void) {
    /* Status codes are part of the ABI: their values must never change. */
    CHECK(NN_OK == 0);
    CHECK(NN_ERROR_NULL_POINTER == 1);
    CHECK(NN_ERROR_INVALID_ARGUMENT == 2);
    CHECK(NN_ERROR_SHAPE_MISMATCH == 3);
    CHECK(NN_ERROR_INVALID_HANDLE == 4);
    CHECK(NN_ERROR_INVALID_STATE == 5);
    CHECK(NN_ERROR_NON_FINITE == 6);
    CHECK(NN_ERROR_OUT_OF_MEMORY == 7);
    CHECK(NN_ERROR_INTERNAL == 8);
    CHECK(NN_ACTIVATION_LINEAR == 0 && NN_ACTIVATION_SOFTMAX == 4);
    CHECK(NN_INIT_DEFAULT == 0 && NN_INIT_ONES == 6);
    CHECK(NN_LOSS_MEAN_SQUARED_ERROR == 1 && NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY == 4);
    CHECK(NN_OPTIMIZER_SGD == 1 && NN_OPTIMIZER_ADAM == 2);
    CHECK(NN_METRIC_ACCURACY == 1);
    CHECK(NN_MAX_DIMS >= 2);

    /* Option structs start with their size, so they can grow. */
    CHECK(offsetof(nn_dense_options, struct_size) == 0);
    CHECK(offsetof(nn_optimizer_options, struct_size) == 0);
    CHECK(offsetof(nn_fit_options, struct_size) == 0);

    /* The header's version matches the library's. */
    {
        char expected[32];
        snprintf(expected, sizeof expected, "%d.%d.%d", NN_VERSION_MAJOR, NN_VERSION_MINOR, NN_VERSION_PATCH);
        CHECK(strcmp(expected, NN_VERSION_STRING) == 0);
        CHECK(strcmp(nn_version(), NN_VERSION_STRING) == 0);
    }

    /* A first call through the C linkage. */
    {
        nn_model *model = NULL;
        size_t dim = 0;
        CHECK(nn_model_create(4, 1, &model) == NN_OK);
        CHECK(nn_model_input_dim(model, &dim) == NN_OK && dim == 4);
        nn_model_free(model);
    }

    if (failures == 0) printf("nn.h as C99: ok\n");
    return failures;
}
