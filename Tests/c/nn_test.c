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
    size_t total = 0, arrays = 0, trainable = 0, parameters = 0;
    NN_ASSERT_OK(nn_model_parameter_count(model, &parameters));
    NN_ASSERT_OK(nn_model_weight_count(model, &arrays));
    for (size_t i = 0; i < arrays; i++) {
        size_t size = nn_test_weight_size(model, i);
        int flag = -1;
        NN_ASSERT_OK(nn_model_weight_info(model, i, NULL, &flag));
        assert_true(flag == 0 || flag == 1);
        total += size;
        if (flag) trainable += size;
    }
    /* parameter_count counts the trainable arrays only. */
    assert_int_equal(trainable, parameters);
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

float *nn_test_predict(nn_model *model, const float *x, size_t rows, size_t x_cols) {
    size_t outputs = 0;
    NN_ASSERT_OK(nn_model_output_dim(model, &outputs));
    size_t count = rows * outputs;
    float *out = malloc((count ? count : 1) * sizeof *out);
    assert_non_null(out);
    NN_ASSERT_OK(nn_model_predict(model, x, rows, x_cols, out, count));
    return out;
}

nn_fit_options nn_test_fit_options(size_t epochs, size_t batch_size, int shuffle) {
    nn_fit_options o;
    nn_fit_options_init(&o);
    o.epochs = epochs;
    o.batch_size = batch_size;
    o.shuffle = shuffle;
    return o;
}

void nn_test_history_init(nn_test_history *h) {
    memset(h, 0, sizeof *h);
    h->consistent = 1;
}

int nn_test_record(void *user_data, size_t epoch, size_t n_logs, const char *const *names,
                   const double *values) {
    nn_test_history *h = user_data;
    if (h->epochs == 0) {
        h->n_logs = n_logs;
        for (size_t i = 0; i < n_logs && i < NN_TEST_MAX_LOGS; i++)
            snprintf(h->names[i], NN_TEST_NAME, "%s", names[i]);
    } else {
        if (n_logs != h->n_logs) h->consistent = 0;
        for (size_t i = 0; i < n_logs && i < NN_TEST_MAX_LOGS; i++)
            if (strcmp(h->names[i], names[i]) != 0) h->consistent = 0;
    }
    if (n_logs > NN_TEST_MAX_LOGS) h->consistent = 0;
    if (h->epochs < NN_TEST_MAX_EPOCHS) {
        h->epoch_arg[h->epochs] = epoch;
        for (size_t i = 0; i < n_logs && i < NN_TEST_MAX_LOGS; i++)
            h->values[h->epochs][i] = values[i];
    }
    h->epochs++;
    return h->stop_after != 0 && h->epochs >= h->stop_after;
}

int nn_test_has_log(const nn_test_history *h, const char *name) {
    for (size_t i = 0; i < h->n_logs && i < NN_TEST_MAX_LOGS; i++)
        if (strcmp(h->names[i], name) == 0) return 1;
    return 0;
}

double nn_test_log(const nn_test_history *h, size_t call, const char *name) {
    if (!h->consistent) fail_msg("the log names changed between epochs");
    if (call >= h->epochs || call >= NN_TEST_MAX_EPOCHS)
        fail_msg("no epoch %zu in the history (%zu recorded)", call, h->epochs);
    for (size_t i = 0; i < h->n_logs && i < NN_TEST_MAX_LOGS; i++)
        if (strcmp(h->names[i], name) == 0) return h->values[call][i];
    fail_msg("no log \"%s\" in the history", name);
    return NAN;
}

void nn_test_record_into(nn_fit_options *o, nn_test_history *h) {
    o->on_epoch_end = nn_test_record;
    o->user_data = h;
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
