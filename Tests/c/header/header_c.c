/*
 * nn.h compiled on its own as C99 with -Wall -Wextra -Werror -pedantic.
 * nn.h is the first include, so it must carry every include it needs.
 * Linked against libnn; checks every function's signature at compile time
 * (signatures.inc) and the documented constants at run time.
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

/* One pointer per function, of the type spelled out in signatures.inc:
 * a declaration in nn.h that differs is an incompatible-pointer error. */
#define NN_SIGNATURE(ret, name, params) static ret(*const sig_##name) params = name;
#include "signatures.inc"
#undef NN_SIGNATURE

typedef void (*any_function)(void);
static const struct {
    const char *name;
    any_function function;
} signatures[] = {
#define NN_SIGNATURE(ret, name, params) {#name, (any_function)sig_##name},
#include "signatures.inc"
#undef NN_SIGNATURE
};

/* The number of functions nn.h 0.6.0 declares. */
#define NN_FUNCTION_COUNT 79

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
    CHECK(NN_ERROR_IO == 9);
    CHECK(NN_ERROR_INVALID_FILE == 10);
    CHECK(NN_ERROR_BUSY == 11);
    /* So is the save flag. */
    CHECK(NN_SAVE_INCLUDE_OPTIMIZER == 1u);

    /* So are the values of every other enum. */
    CHECK(NN_ACTIVATION_LINEAR == 0 && NN_ACTIVATION_SIGMOID == 1 && NN_ACTIVATION_TANH == 2);
    CHECK(NN_ACTIVATION_RELU == 3 && NN_ACTIVATION_SOFTMAX == 4 && NN_ACTIVATION_LEAKY_RELU == 5);
    CHECK(NN_ACTIVATION_ELU == 6 && NN_ACTIVATION_GELU == 7 && NN_ACTIVATION_SOFTPLUS == 8);
    CHECK(NN_ACTIVATION_STEP == 9);
    CHECK(NN_INIT_DEFAULT == 0 && NN_INIT_GLOROT_UNIFORM == 1 && NN_INIT_GLOROT_NORMAL == 2);
    CHECK(NN_INIT_HE_UNIFORM == 3 && NN_INIT_HE_NORMAL == 4 && NN_INIT_ZEROS == 5);
    CHECK(NN_INIT_ONES == 6 && NN_INIT_LECUN_UNIFORM == 7 && NN_INIT_LECUN_NORMAL == 8);
    CHECK(NN_INIT_CONSTANT == 9);
    CHECK(NN_LOSS_MEAN_SQUARED_ERROR == 1 && NN_LOSS_BINARY_CROSSENTROPY == 2);
    CHECK(NN_LOSS_CATEGORICAL_CROSSENTROPY == 3 && NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY == 4);
    CHECK(NN_LOSS_MEAN_ABSOLUTE_ERROR == 5 && NN_LOSS_HUBER == 6);
    CHECK(NN_OPTIMIZER_SGD == 1 && NN_OPTIMIZER_ADAM == 2 && NN_OPTIMIZER_ADAMW == 3);
    CHECK(NN_OPTIMIZER_RMSPROP == 4 && NN_OPTIMIZER_ADAGRAD == 5 && NN_OPTIMIZER_RPROP == 6);
    CHECK(NN_METRIC_ACCURACY == 1 && NN_METRIC_BINARY_ACCURACY == 2);
    CHECK(NN_METRIC_CATEGORICAL_ACCURACY == 3 && NN_METRIC_SPARSE_CATEGORICAL_ACCURACY == 4);
    CHECK(NN_METRIC_PRECISION == 5 && NN_METRIC_RECALL == 6 && NN_METRIC_F1_SCORE == 7);
    CHECK(NN_METRIC_F1_MACRO == 8 && NN_METRIC_TOP_K_ACCURACY == 9);
    CHECK(NN_METRIC_MEAN_ABSOLUTE_ERROR == 10);
    CHECK(NN_LAYER_DENSE == 1 && NN_LAYER_DROPOUT == 2 && NN_LAYER_BATCH_NORMALIZATION == 3);
    CHECK(NN_LAYER_ACTIVATION == 4);
    CHECK(NN_MONITOR_AUTO == 0 && NN_MONITOR_MIN == 1 && NN_MONITOR_MAX == 2);
    CHECK(NN_SCHEDULE_NONE == 0 && NN_SCHEDULE_STEP == 1 && NN_SCHEDULE_EXPONENTIAL == 2);
    CHECK(NN_SCHEDULE_COSINE == 3 && NN_SCHEDULE_REDUCE_ON_PLATEAU == 4);
    CHECK(NN_FINDING_VANISHING_GRADIENTS == 0 && NN_FINDING_EXPLODING_GRADIENTS == 1);
    CHECK(NN_FINDING_DEAD_UNITS == 2 && NN_FINDING_SATURATED_UNITS == 3);
    CHECK(NN_FINDING_LEARNING_RATE_TOO_HIGH == 4 && NN_FINDING_UNSCALED_INPUTS == 5);
    CHECK(NN_FINDING_LABEL_MISMATCH == 6 && NN_FINDING_LOSS_AT_CHANCE == 7);
    CHECK(NN_MAX_DIMS >= 2);

    /* Option structs start with their size, so they can grow. */
    CHECK(offsetof(nn_dense_options, struct_size) == 0);
    CHECK(offsetof(nn_loss_options, struct_size) == 0);
    CHECK(offsetof(nn_optimizer_options, struct_size) == 0);
    CHECK(offsetof(nn_schedule_options, struct_size) == 0);
    CHECK(offsetof(nn_early_stopping_options, struct_size) == 0);
    CHECK(offsetof(nn_fit_options, struct_size) == 0);
    CHECK(offsetof(nn_gradient_check_options, struct_size) == 0);
    CHECK(offsetof(nn_layer_statistics, struct_size) == 0);
    /* The debugging structs: fields in the documented order, no larger
     * than their fields at 8 bytes each. */
    CHECK(offsetof(nn_gradient_check_options, use_float) < offsetof(nn_gradient_check_options, epsilon));
    CHECK(offsetof(nn_gradient_check_options, epsilon) <
          offsetof(nn_gradient_check_options, max_checks_per_array));
    CHECK(offsetof(nn_gradient_check_options, max_checks_per_array) <
          offsetof(nn_gradient_check_options, seed));
    CHECK(sizeof(nn_gradient_check_options) <= 5 * 8);
    CHECK(offsetof(nn_gradient_check_result, layer) == 0);
    CHECK(offsetof(nn_gradient_check_result, relative_error) <
          offsetof(nn_gradient_check_result, weight_index));
    CHECK(offsetof(nn_gradient_check_result, weight_index) < offsetof(nn_gradient_check_result, element));
    CHECK(offsetof(nn_gradient_check_result, element) < offsetof(nn_gradient_check_result, analytic));
    CHECK(offsetof(nn_gradient_check_result, analytic) < offsetof(nn_gradient_check_result, numeric));
    CHECK(offsetof(nn_gradient_check_result, numeric) < offsetof(nn_gradient_check_result, checked));
    CHECK(offsetof(nn_gradient_check_result, checked) < offsetof(nn_gradient_check_result, below_resolution));
    CHECK(sizeof(nn_gradient_check_result) <= 8 * 8);
    CHECK(sizeof(nn_layer_statistics) == 4 * sizeof(size_t) + 7 * sizeof(double));
    CHECK(offsetof(nn_layer_statistics, update_ratio) + sizeof(double) == sizeof(nn_layer_statistics));
    CHECK(offsetof(nn_finding, kind) == 0);
    CHECK(sizeof(nn_finding) >= sizeof(int64_t) + sizeof(double) + 2 * sizeof(const char *));
    /* Fields are appended, never inserted: the 0.1 fields keep their place
     * before the 0.2 ones. */
    CHECK(offsetof(nn_dense_options, bias_initializer) <
          offsetof(nn_dense_options, activation_parameter));
    CHECK(offsetof(nn_optimizer_options, weight_decay) <
          offsetof(nn_optimizer_options, dampening));
    CHECK(offsetof(nn_fit_options, user_data) < offsetof(nn_fit_options, validation_split));
    CHECK(offsetof(nn_fit_options, early_stopping) + sizeof(void *) <= sizeof(nn_fit_options));

    /* Every function is listed once and resolves to a definition in libnn. */
    {
        size_t n = sizeof signatures / sizeof signatures[0], i, j;
        CHECK(n == NN_FUNCTION_COUNT);
        for (i = 0; i < n; i++) {
            CHECK(signatures[i].function != NULL);
            CHECK(strncmp(signatures[i].name, "nn_", 3) == 0);
            for (j = 0; j < i; j++) CHECK(strcmp(signatures[i].name, signatures[j].name) != 0);
        }
    }

    /* The header's version matches the library's. */
    {
        char expected[32];
        snprintf(expected, sizeof expected, "%d.%d.%d", NN_VERSION_MAJOR, NN_VERSION_MINOR, NN_VERSION_PATCH);
        CHECK(strcmp(expected, NN_VERSION_STRING) == 0);
        CHECK(strcmp(sig_nn_version(), NN_VERSION_STRING) == 0);
    }

    /* The debugging options' defaults. */
    {
        nn_gradient_check_options o;
        memset(&o, 0xA5, sizeof o);
        sig_nn_gradient_check_options_init(&o);
        CHECK(o.struct_size == sizeof(nn_gradient_check_options));
        CHECK(o.use_float == 0 && o.epsilon == 0 && o.max_checks_per_array == 64 && o.seed == 0);
    }

    /* A few calls through the C linkage and the checked pointers. */
    {
        nn_model *model = NULL;
        size_t dim = 0;
        nn_layer_kind kind = (nn_layer_kind)0;
        CHECK(sig_nn_model_create(4, 1, &model) == NN_OK);
        CHECK(sig_nn_model_input_dim(model, &dim) == NN_OK && dim == 4);
        CHECK(sig_nn_model_add_dropout(model, 0.5) == NN_OK);
        CHECK(sig_nn_model_layer_kind(model, 0, &kind) == NN_OK && kind == NN_LAYER_DROPOUT);
        sig_nn_model_free(model);
    }

    if (failures == 0) printf("nn.h as C99: ok (%d function signatures)\n", NN_FUNCTION_COUNT);
    return failures;
}
