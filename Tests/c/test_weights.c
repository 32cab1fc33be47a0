/*
 * Weights: nn_model_weight_count, nn_model_weight_shape,
 * nn_model_get_weight and nn_model_set_weight (Keras's get_weights order
 * and kernel layout [inputs, units]).
 */
#include "nn_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 4 -> Dense(3) -> Dense(2): weights kernel0 [4,3], bias0 [3], kernel1 [3,2], bias1 [2]. */
static nn_model *two_layer_model(uint64_t seed) {
    const nn_test_layer layers[] = {{3, NN_ACTIVATION_RELU}, {2, NN_ACTIVATION_LINEAR}};
    return nn_test_model(4, seed, 2, layers);
}

static void shapes_in_keras_order(void **state) {
    (void)state;
    nn_model *model = two_layer_model(1);
    size_t count = 0;
    NN_ASSERT_OK(nn_model_weight_count(model, &count));
    assert_int_equal(count, 4);
    const size_t want_ndim[4] = {2, 1, 2, 1};
    const size_t want_dims[4][2] = {{4, 3}, {3, 0}, {3, 2}, {2, 0}};
    for (size_t i = 0; i < 4; i++) {
        size_t ndim = 0, dims[NN_MAX_DIMS];
        for (size_t d = 0; d < NN_MAX_DIMS; d++) dims[d] = 999;
        NN_ASSERT_OK(nn_model_weight_shape(model, i, &ndim, dims, NN_MAX_DIMS));
        assert_int_equal(ndim, want_ndim[i]);
        for (size_t d = 0; d < ndim; d++) assert_int_equal(dims[d], want_dims[i][d]);
        for (size_t d = ndim; d < NN_MAX_DIMS; d++) assert_int_equal(dims[d], 999);
        /* Exactly enough room is enough. */
        NN_ASSERT_OK(nn_model_weight_shape(model, i, &ndim, dims, want_ndim[i]));
    }
    nn_model_free(model);
}

static void shape_rejects_bad_arguments(void **state) {
    (void)state;
    nn_model *model = two_layer_model(1);
    size_t ndim = 77, dims[NN_MAX_DIMS] = {77, 77, 77, 77};
    NN_ASSERT_ERROR(nn_model_weight_shape(model, 4, &ndim, dims, NN_MAX_DIMS),
                    NN_ERROR_INVALID_ARGUMENT, "4");
    NN_ASSERT_ERROR(nn_model_weight_shape(model, SIZE_MAX, &ndim, dims, NN_MAX_DIMS),
                    NN_ERROR_INVALID_ARGUMENT, "index");
    /* A kernel has 2 dimensions: room for 1 is too small. */
    NN_ASSERT_ERROR(nn_model_weight_shape(model, 0, &ndim, dims, 1), NN_ERROR_SHAPE_MISMATCH,
                    "dims", "2 dimensions");
    NN_ASSERT_ERROR(nn_model_weight_shape(model, 1, &ndim, dims, 0), NN_ERROR_SHAPE_MISMATCH,
                    "dims", "1 dimension");
    assert_int_equal(ndim, 77);
    for (int d = 0; d < NN_MAX_DIMS; d++) assert_int_equal(dims[d], 77);
    NN_ASSERT_ERROR(nn_model_weight_shape(model, 0, NULL, dims, NN_MAX_DIMS),
                    NN_ERROR_NULL_POINTER, "ndim");
    NN_ASSERT_ERROR(nn_model_weight_shape(model, 0, &ndim, NULL, NN_MAX_DIMS),
                    NN_ERROR_NULL_POINTER, "dims");
    nn_model_free(model);
}

static void set_then_get_roundtrip(void **state) {
    (void)state;
    nn_model *model = two_layer_model(3);
    const size_t sizes[4] = {12, 3, 6, 2};
    float values[12], back[12];
    for (size_t i = 0; i < 4; i++) {
        for (size_t j = 0; j < sizes[i]; j++) values[j] = (float)(i * 100 + j) * 0.25f - 3.0f;
        NN_ASSERT_OK(nn_model_set_weight(model, i, values, sizes[i]));
        memset(back, 0, sizeof back);
        NN_ASSERT_OK(nn_model_get_weight(model, i, back, sizes[i]));
        assert_memory_equal(back, values, sizes[i] * sizeof(float));
    }
    /* Each array went to its own place: the concatenation is in order. */
    size_t n = 0;
    float *all = nn_test_weights(model, &n);
    assert_int_equal(n, 23);
    assert_true(all[0] == -3.0f);                      /* weight 0, element 0 */
    assert_true(all[12] == (100 * 0.25f - 3.0f));       /* weight 1, element 0 */
    assert_true(all[15] == (200 * 0.25f - 3.0f));       /* weight 2, element 0 */
    assert_true(all[22] == (301 * 0.25f - 3.0f));       /* weight 3, element 1 */
    free(all);
    /* Values beyond the usual range are kept exactly (finite is all that is required). */
    const float extreme[2] = {3.0e38f, -1.0e-42f /* subnormal */};
    NN_ASSERT_OK(nn_model_set_weight(model, 3, extreme, 2));
    NN_ASSERT_OK(nn_model_get_weight(model, 3, back, 2));
    assert_memory_equal(back, extreme, sizeof extreme);
    nn_model_free(model);
}

static void get_rejects_bad_arguments(void **state) {
    (void)state;
    nn_model *model = two_layer_model(1);
    float out[16];
    for (int i = 0; i < 16; i++) out[i] = 42.0f;
    NN_ASSERT_ERROR(nn_model_get_weight(model, 0, out, 11), NN_ERROR_SHAPE_MISMATCH, "12", "11");
    NN_ASSERT_ERROR(nn_model_get_weight(model, 0, out, 13), NN_ERROR_SHAPE_MISMATCH, "12", "13");
    NN_ASSERT_ERROR(nn_model_get_weight(model, 1, out, 0), NN_ERROR_SHAPE_MISMATCH, "3");
    NN_ASSERT_ERROR(nn_model_get_weight(model, 4, out, 2), NN_ERROR_INVALID_ARGUMENT, "4");
    NN_ASSERT_ERROR(nn_model_get_weight(model, SIZE_MAX, out, 2), NN_ERROR_INVALID_ARGUMENT,
                    "index");
    for (int i = 0; i < 16; i++) assert_true(out[i] == 42.0f);
    NN_ASSERT_ERROR(nn_model_get_weight(model, 0, NULL, 12), NN_ERROR_NULL_POINTER, "out");
    nn_model_free(model);
}

static void set_rejects_bad_arguments(void **state) {
    (void)state;
    nn_model *model = two_layer_model(1);
    size_t n = 0;
    float *before = nn_test_weights(model, &n);
    float values[16] = {0};
    NN_ASSERT_ERROR(nn_model_set_weight(model, 0, values, 11), NN_ERROR_SHAPE_MISMATCH, "12",
                    "11");
    NN_ASSERT_ERROR(nn_model_set_weight(model, 2, values, 7), NN_ERROR_SHAPE_MISMATCH, "6", "7");
    NN_ASSERT_ERROR(nn_model_set_weight(model, 3, values, 0), NN_ERROR_SHAPE_MISMATCH, "2");
    NN_ASSERT_ERROR(nn_model_set_weight(model, 4, values, 2), NN_ERROR_INVALID_ARGUMENT, "4");
    NN_ASSERT_ERROR(nn_model_set_weight(model, SIZE_MAX, values, 2), NN_ERROR_INVALID_ARGUMENT,
                    "index");
    NN_ASSERT_ERROR(nn_model_set_weight(model, 0, NULL, 12), NN_ERROR_NULL_POINTER, "values");
    float *after = nn_test_weights(model, NULL);
    assert_memory_equal(before, after, n * sizeof(float));
    free(before);
    free(after);
    nn_model_free(model);
}

/* Messages state the size_t values passed, also the largest ones (not as
 * negative numbers). */
static void huge_values_in_messages(void **state) {
    (void)state;
    nn_model *model = two_layer_model(1);
    float buffer[12] = {0};
    NN_ASSERT_ERROR(nn_model_get_weight(model, SIZE_MAX, buffer, 2), NN_ERROR_INVALID_ARGUMENT,
                    "index", "18446744073709551615");
    NN_ASSERT_ERROR(nn_model_set_weight(model, SIZE_MAX, buffer, 2), NN_ERROR_INVALID_ARGUMENT,
                    "index", "18446744073709551615");
    NN_ASSERT_ERROR(nn_model_get_weight(model, 0, buffer, SIZE_MAX), NN_ERROR_SHAPE_MISMATCH,
                    "12", "18446744073709551615");
    NN_ASSERT_ERROR(nn_model_set_weight(model, 0, buffer, SIZE_MAX), NN_ERROR_SHAPE_MISMATCH,
                    "12", "18446744073709551615");
    nn_model_free(model);
}

/* NaN or infinity anywhere (also in the last element) is refused and the
 * model keeps its weights: no partial update. */
static void set_rejects_non_finite(void **state) {
    (void)state;
    nn_model *model = two_layer_model(5);
    size_t n = 0;
    float *before = nn_test_weights(model, &n);
    const float bad[3] = {NAN, INFINITY, -INFINITY};
    const size_t where[3] = {0, 5, 11};
    for (size_t b = 0; b < 3; b++) {
        for (size_t w = 0; w < 3; w++) {
            float values[12];
            for (size_t j = 0; j < 12; j++) values[j] = 0.5f;
            values[where[w]] = bad[b];
            NN_ASSERT_ERROR(nn_model_set_weight(model, 0, values, 12), NN_ERROR_NON_FINITE,
                            "finite");
        }
    }
    float *after = nn_test_weights(model, NULL);
    assert_memory_equal(before, after, n * sizeof(float));
    free(before);
    free(after);
    nn_model_free(model);
}

/* set_weight on one model does not affect another, and get_weight reads a
 * copy: changing the returned buffer changes nothing. */
static void weights_are_copied(void **state) {
    (void)state;
    nn_model *a = two_layer_model(8), *b = two_layer_model(8);
    float values[12];
    for (int i = 0; i < 12; i++) values[i] = (float)i;
    NN_ASSERT_OK(nn_model_set_weight(a, 0, values, 12));
    for (int i = 0; i < 12; i++) values[i] = -1.0f; /* the caller's buffer is the caller's */
    float got[12];
    NN_ASSERT_OK(nn_model_get_weight(a, 0, got, 12));
    for (int i = 0; i < 12; i++) assert_true(got[i] == (float)i);
    NN_ASSERT_OK(nn_model_get_weight(b, 0, got, 12));
    int same = 0;
    for (int i = 0; i < 12; i++) same += got[i] == (float)i;
    assert_true(same < 12);
    nn_model_free(a);
    nn_model_free(b);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(shapes_in_keras_order),
    cmocka_unit_test(shape_rejects_bad_arguments),
    cmocka_unit_test(set_then_get_roundtrip),
    cmocka_unit_test(get_rejects_bad_arguments),
    cmocka_unit_test(set_rejects_bad_arguments),
    cmocka_unit_test(huge_values_in_messages),
    cmocka_unit_test(set_rejects_non_finite),
    cmocka_unit_test(weights_are_copied),
};

NN_TEST_MAIN("weights", tests)
