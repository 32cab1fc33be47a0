/* Shared helpers of the cmocka suites; see nn_test.h. */
#include "nn_test.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nn_test_assert_ok(nn_status status, const char *expr, const char *file, int line) {
    if (status == NN_OK) return;
    /* nn_status_string is itself a libnn call, which may end the lifetime
     * of the last-error string: copy the message first. */
    char message[1024];
    snprintf(message, sizeof message, "%s", nn_last_error());
    print_error("%s returned %d (%s): %s\n", expr, (int)status, nn_status_string(status),
                message);
    _fail(file, line);
}

int nn_test_contains(const char *text, const char *needle) {
    size_t n = strlen(needle);
    if (n == 0) return 1;
    for (const char *p = text; *p != '\0'; p++) {
        size_t i = 0;
        while (i < n && p[i] != '\0' &&
               tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n) return 1;
    }
    return 0;
}

void nn_test_assert_error(nn_status got, nn_status want, const char *expr, const char *file,
                          int line, ...) {
    char message[1024];
    snprintf(message, sizeof message, "%s", nn_last_error());
    if (got != want) {
        print_error("%s returned %d (%s), expected %d (%s); nn_last_error: \"%s\"\n", expr,
                    (int)got, nn_status_string(got), (int)want, nn_status_string(want),
                    message);
        _fail(file, line);
        return;
    }
    if (message[0] == '\0') {
        print_error("%s failed with %s but nn_last_error() is empty\n", expr,
                    nn_status_string(want));
        _fail(file, line);
        return;
    }
    va_list args;
    va_start(args, line);
    const char *needle;
    int missing = 0;
    while ((needle = va_arg(args, const char *)) != NULL) {
        if (!nn_test_contains(message, needle)) {
            print_error("%s: nn_last_error() \"%s\" does not mention \"%s\"\n", expr, message,
                        needle);
            missing = 1;
        }
    }
    va_end(args);
    if (missing) _fail(file, line);
}

void nn_test_assert_size_error(nn_status got, const char *what, const char *expr,
                               const char *file, int line) {
    char message[1024];
    snprintf(message, sizeof message, "%s", nn_last_error());
    if (got != NN_ERROR_SHAPE_MISMATCH) {
        print_error("%s returned %d (%s), expected shape mismatch; nn_last_error: \"%s\"\n",
                    expr, (int)got, nn_status_string(got), message);
        _fail(file, line);
        return;
    }
    if (!nn_test_contains(message, what) ||
        !(nn_test_contains(message, "overflow") || nn_test_contains(message, "too large"))) {
        print_error("%s: nn_last_error() \"%s\" should name %s and say that it overflows or "
                    "is too large\n", expr, message, what);
        _fail(file, line);
    }
}

void nn_test_assert_close(double got, double want, double rtol, double atol, const char *expr,
                          const char *file, int line) {
    double tol = atol + rtol * fabs(want);
    if (isfinite(want) ? (isfinite(got) && fabs(got - want) <= tol) : (got == want)) return;
    print_error("%s = %.9g, expected %.9g (tolerance %.3g)\n", expr, got, want, tol);
    _fail(file, line);
}

nn_model *nn_test_model(size_t input_dim, uint64_t seed, size_t n_layers,
                        const nn_test_layer *layers) {
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(input_dim, seed, &model));
    assert_non_null(model);
    for (size_t i = 0; i < n_layers; i++)
        NN_ASSERT_OK(nn_model_add_dense(model, layers[i].units, layers[i].activation));
    return model;
}

void nn_test_compile(nn_model *model, nn_loss loss, int from_logits, nn_optimizer kind,
                     double learning_rate) {
    NN_ASSERT_OK(nn_model_set_loss(model, loss, from_logits));
    nn_optimizer_options options;
    NN_ASSERT_OK(nn_optimizer_options_init(&options, kind));
    options.learning_rate = learning_rate;
    NN_ASSERT_OK(nn_model_set_optimizer(model, &options));
}

size_t nn_test_weight_size(const nn_model *model, size_t index) {
    size_t ndim = 0, dims[NN_MAX_DIMS] = {0};
    NN_ASSERT_OK(nn_model_weight_shape(model, index, &ndim, dims, NN_MAX_DIMS));
    assert_in_range(ndim, 1, NN_MAX_DIMS);
    size_t size = 1;
    for (size_t d = 0; d < ndim; d++) size *= dims[d];
    return size;
}

float *nn_test_weights(const nn_model *model, size_t *count) {
    size_t total = 0, arrays = 0;
    NN_ASSERT_OK(nn_model_parameter_count(model, &total));
    NN_ASSERT_OK(nn_model_weight_count(model, &arrays));
    float *all = malloc((total ? total : 1) * sizeof *all);
    assert_non_null(all);
    size_t offset = 0;
    for (size_t i = 0; i < arrays; i++) {
        size_t size = nn_test_weight_size(model, i);
        assert_true(offset + size <= total);
        NN_ASSERT_OK(nn_model_get_weight(model, i, all + offset, size));
        offset += size;
    }
    assert_int_equal(offset, total);
    if (count) *count = total;
    return all;
}

void nn_test_set_weight(nn_model *model, size_t index, const float *values, size_t count) {
    NN_ASSERT_OK(nn_model_set_weight(model, index, values, count));
}

nn_model *nn_test_freed_handle(void) {
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(3, 1, &model));
    NN_ASSERT_OK(nn_model_add_dense(model, 2, NN_ACTIVATION_LINEAR));
    nn_model_free(model);
    return model;
}

uint64_t nn_test_next(nn_test_rng *rng) {
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float nn_test_uniform(nn_test_rng *rng, float lo, float hi) {
    double u = (double)(nn_test_next(rng) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(lo + (hi - lo) * u);
}

void nn_test_fill(nn_test_rng *rng, float *values, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) values[i] = nn_test_uniform(rng, lo, hi);
}

int nn_test_main(int argc, char **argv, const char *suite, const struct CMUnitTest *tests,
                 size_t count) {
    if (argc > 1 && argv[1][0] != '\0') cmocka_set_test_filter(argv[1]);
    return _cmocka_run_group_tests(suite, tests, count, NULL, NULL);
}
