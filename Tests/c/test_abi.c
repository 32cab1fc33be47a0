/*
 * nn.h's ABI policy for options structs (see "ABI policy" in nn.h and
 * Sources/NNCAPI/Options.swift), on today's library:
 *   - each *_init_sized(options, size, ...) writes exactly `size` bytes and
 *     sets struct_size = size (the *_init macros pass sizeof *options);
 *   - the plain exported *_init functions (what programs built against
 *     nn.h 0.3.0 call) write exactly the 0.3.0 size and no more;
 *   - a struct_size larger than the library knows (a program built against
 *     a newer nn.h) is refused with a message that says so; one smaller
 *     than the first published size is refused too;
 *   - nn_model_layer_statistics writes the 0.3.0 size whatever struct_size
 *     holds (result structs do not grow).
 * scripts/test-abi-growth.sh checks the other direction (an old program on
 * a library whose structs grew) with a test-only build.
 */
#include "nn_test.h"

#include <stdalign.h>
#include <string.h>

#define POISON 0xA5
#define EXTRA 24

typedef struct { alignas(16) unsigned char bytes[512]; } slot;

static void *poison(slot *s) {
    memset(s->bytes, POISON, sizeof s->bytes);
    return s->bytes;
}

/* Bytes [from, to) are still poisoned. */
static void assert_poisoned(const slot *s, size_t from, size_t to) {
    for (size_t i = from; i < to; i++) assert_int_equal(s->bytes[i], POISON);
}

static void assert_zero(const slot *s, size_t from, size_t to) {
    for (size_t i = from; i < to; i++) assert_int_equal(s->bytes[i], 0);
}

/* The sizes of nn.h 0.3.0 (x86-64/arm64 Linux), the first ones the policy
 * covers; they never change. */
enum {
    DENSE_0_3 = 72, LOSS_0_3 = 24, OPTIMIZER_0_3 = 176, SCHEDULE_0_3 = 104,
    EARLY_STOPPING_0_3 = 40, FIT_0_3 = 120, GRADIENT_CHECK_0_3 = 40, STATISTICS_0_3 = 88
};

static void first_sizes_are_todays(void **state) {
    (void)state;
    /* When a field is appended, sizeof grows and these stay. */
    assert_true(sizeof(nn_dense_options) >= DENSE_0_3);
    assert_true(sizeof(nn_loss_options) >= LOSS_0_3);
    assert_true(sizeof(nn_optimizer_options) >= OPTIMIZER_0_3);
    assert_true(sizeof(nn_schedule_options) >= SCHEDULE_0_3);
    assert_true(sizeof(nn_early_stopping_options) >= EARLY_STOPPING_0_3);
    assert_true(sizeof(nn_fit_options) >= FIT_0_3);
    assert_true(sizeof(nn_gradient_check_options) >= GRADIENT_CHECK_0_3);
    assert_true(sizeof(nn_layer_statistics) >= STATISTICS_0_3);
}

/* The macro, the sized function with a larger size, and the plain function. */
#define CHECK_INIT(type, first, sized_call, plain_call)                          \
    do {                                                                         \
        slot s;                                                                  \
        type *o = poison(&s);                                                    \
        sized_call(o, sizeof(type));                                             \
        assert_int_equal(o->struct_size, sizeof(type));                          \
        assert_poisoned(&s, sizeof(type), sizeof s.bytes);                       \
        o = poison(&s);                                                          \
        sized_call(o, sizeof(type) + EXTRA);                                     \
        assert_int_equal(o->struct_size, sizeof(type) + EXTRA);                  \
        assert_zero(&s, sizeof(type), sizeof(type) + EXTRA);                     \
        assert_poisoned(&s, sizeof(type) + EXTRA, sizeof s.bytes);               \
        o = poison(&s);                                                          \
        plain_call(o);                                                           \
        assert_int_equal(o->struct_size, (first));                               \
        assert_poisoned(&s, (first), sizeof s.bytes);                            \
        o = poison(&s);                                                          \
        sized_call(o, 4); /* too small to hold struct_size: nothing written */   \
        assert_poisoned(&s, 0, sizeof s.bytes);                                  \
    } while (0)

#define DENSE_SIZED(o, n) nn_dense_options_init_sized((o), (n), 5)
#define DENSE_PLAIN(o) (nn_dense_options_init)((o), 5)
#define LOSS_SIZED(o, n) nn_loss_options_init_sized((o), (n), NN_LOSS_HUBER)
#define LOSS_PLAIN(o) (nn_loss_options_init)((o), NN_LOSS_HUBER)
#define OPT_SIZED(o, n) NN_ASSERT_OK(nn_optimizer_options_init_sized((o), (n), NN_OPTIMIZER_ADAM))
#define OPT_PLAIN(o) NN_ASSERT_OK((nn_optimizer_options_init)((o), NN_OPTIMIZER_ADAM))
#define SCHED_SIZED(o, n) NN_ASSERT_OK(nn_schedule_options_init_sized((o), (n), NN_SCHEDULE_COSINE))
#define SCHED_PLAIN(o) NN_ASSERT_OK((nn_schedule_options_init)((o), NN_SCHEDULE_COSINE))
#define STOP_SIZED(o, n) nn_early_stopping_options_init_sized((o), (n))
#define STOP_PLAIN(o) (nn_early_stopping_options_init)(o)
#define FIT_SIZED(o, n) nn_fit_options_init_sized((o), (n))
#define FIT_PLAIN(o) (nn_fit_options_init)(o)
#define GC_SIZED(o, n) nn_gradient_check_options_init_sized((o), (n))
#define GC_PLAIN(o) (nn_gradient_check_options_init)(o)

static void init_writes_the_callers_size_only(void **state) {
    (void)state;
    CHECK_INIT(nn_dense_options, DENSE_0_3, DENSE_SIZED, DENSE_PLAIN);
    CHECK_INIT(nn_loss_options, LOSS_0_3, LOSS_SIZED, LOSS_PLAIN);
    CHECK_INIT(nn_optimizer_options, OPTIMIZER_0_3, OPT_SIZED, OPT_PLAIN);
    CHECK_INIT(nn_schedule_options, SCHEDULE_0_3, SCHED_SIZED, SCHED_PLAIN);
    CHECK_INIT(nn_early_stopping_options, EARLY_STOPPING_0_3, STOP_SIZED, STOP_PLAIN);
    CHECK_INIT(nn_fit_options, FIT_0_3, FIT_SIZED, FIT_PLAIN);
    CHECK_INIT(nn_gradient_check_options, GRADIENT_CHECK_0_3, GC_SIZED, GC_PLAIN);
}

static void init_sized_fills_the_defaults(void **state) {
    (void)state;
    nn_optimizer_options o;
    NN_ASSERT_OK(nn_optimizer_options_init_sized(&o, sizeof o, NN_OPTIMIZER_RMSPROP));
    assert_true(o.kind == NN_OPTIMIZER_RMSPROP && o.learning_rate == 0.01 && o.alpha == 0.99);
    NN_ASSERT_ERROR(nn_optimizer_options_init_sized(&o, sizeof o, (nn_optimizer)99), NN_ERROR_INVALID_ARGUMENT,
                    "99");
    NN_ASSERT_ERROR(nn_optimizer_options_init_sized(NULL, sizeof o, NN_OPTIMIZER_SGD), NN_ERROR_NULL_POINTER,
                    "options");
    nn_schedule_options s;
    NN_ASSERT_OK(nn_schedule_options_init_sized(&s, sizeof s, NN_SCHEDULE_EXPONENTIAL));
    assert_true(s.gamma == 0.95 && s.t_max == 50);
    NN_ASSERT_ERROR(nn_schedule_options_init_sized(&s, sizeof s, (nn_schedule)7), NN_ERROR_INVALID_ARGUMENT,
                    "7");
    nn_dense_options d;
    nn_dense_options_init_sized(&d, sizeof d, 3);
    assert_true(d.units == 3 && d.activation == NN_ACTIVATION_LINEAR && d.activation_parameter != d.activation_parameter);
    nn_loss_options l;
    nn_loss_options_init_sized(&l, sizeof l, NN_LOSS_HUBER);
    assert_true(l.loss == NN_LOSS_HUBER && l.huber_delta == 1);
    nn_early_stopping_options e;
    nn_early_stopping_options_init_sized(&e, sizeof e);
    assert_string_equal(e.monitor, "val_loss");
    nn_fit_options f;
    nn_fit_options_init_sized(&f, sizeof f);
    assert_true(f.epochs == 1 && f.batch_size == 32 && f.shuffle == 1);
    nn_gradient_check_options g;
    nn_gradient_check_options_init_sized(&g, sizeof g);
    assert_int_equal(g.max_checks_per_array, 64);
    /* NULL is ignored by the void ones, plain (0.3.0) or sized. */
    (nn_dense_options_init)(NULL, 1);
    (nn_loss_options_init)(NULL, NN_LOSS_HUBER);
    (nn_early_stopping_options_init)(NULL);
    (nn_fit_options_init)(NULL);
    (nn_gradient_check_options_init)(NULL);
    NN_ASSERT_ERROR((nn_optimizer_options_init)(NULL, NN_OPTIMIZER_SGD), NN_ERROR_NULL_POINTER, "options");
    NN_ASSERT_ERROR((nn_schedule_options_init)(NULL, NN_SCHEDULE_STEP), NN_ERROR_NULL_POINTER, "options");
    nn_dense_options_init_sized(NULL, sizeof d, 1);
    nn_loss_options_init_sized(NULL, sizeof l, NN_LOSS_HUBER);
    nn_early_stopping_options_init_sized(NULL, sizeof e);
    nn_fit_options_init_sized(NULL, sizeof f);
    nn_gradient_check_options_init_sized(NULL, sizeof g);
}

/* A struct from a newer nn.h than this library, or a too small one. */
static void sizes_outside_the_known_range_are_refused(void **state) {
    (void)state;
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(2, 1, &model));
    slot s;
    nn_dense_options *d = poison(&s);
    nn_dense_options_init_sized(d, sizeof *d + EXTRA, 4);
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, d), NN_ERROR_INVALID_ARGUMENT, "nn_dense_options.struct_size",
                    "newer nn.h");
    d->struct_size = DENSE_0_3 - 8;
    NN_ASSERT_ERROR(nn_model_add_dense_ex(model, d), NN_ERROR_INVALID_ARGUMENT, "nn_dense_options.struct_size",
                    "_init");
    d->struct_size = sizeof *d;
    NN_ASSERT_OK(nn_model_add_dense_ex(model, d));

    nn_optimizer_options *o = poison(&s);
    NN_ASSERT_OK(nn_optimizer_options_init_sized(o, sizeof *o + EXTRA, NN_OPTIMIZER_SGD));
    NN_ASSERT_ERROR(nn_model_set_optimizer(model, o), NN_ERROR_INVALID_ARGUMENT, "nn_optimizer_options.struct_size",
                    "newer");
    nn_schedule_options *sc = poison(&s);
    NN_ASSERT_OK(nn_schedule_options_init_sized(sc, sizeof *sc + EXTRA, NN_SCHEDULE_STEP));
    NN_ASSERT_ERROR(nn_model_set_lr_schedule(model, sc), NN_ERROR_INVALID_ARGUMENT, "nn_schedule_options.struct_size");
    nn_loss_options *l = poison(&s);
    nn_loss_options_init_sized(l, sizeof *l + EXTRA, NN_LOSS_MEAN_SQUARED_ERROR);
    NN_ASSERT_ERROR(nn_model_set_loss_ex(model, l), NN_ERROR_INVALID_ARGUMENT, "nn_loss_options.struct_size");
    nn_model_free(model);
}

/* nn_model_layer_statistics writes the 0.3.0 size, whatever struct_size holds. */
static void layer_statistics_write_the_first_size(void **state) {
    (void)state;
    float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, y[] = {0, 1, 1, 0};
    const nn_test_layer layers[] = {{4, NN_ACTIVATION_RELU}, {1, NN_ACTIVATION_SIGMOID}};
    nn_model *model = nn_test_model(2, 3, 2, layers);
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_BINARY_CROSSENTROPY, 0));
    nn_optimizer_options o;
    NN_ASSERT_OK(nn_optimizer_options_init(&o, NN_OPTIMIZER_SGD));
    NN_ASSERT_OK(nn_model_set_optimizer(model, &o));
    NN_ASSERT_OK(nn_model_set_layer_statistics(model, 1));
    NN_ASSERT_OK(nn_model_fit(model, x, y, 4, 2, 1, NULL));
    slot s;
    const size_t asked[] = {sizeof(nn_layer_statistics), sizeof(nn_layer_statistics) + 8, 0, 96, 120};
    for (size_t i = 0; i < sizeof asked / sizeof asked[0]; i++) {
        nn_layer_statistics *st = poison(&s);
        st->struct_size = asked[i];
        NN_ASSERT_OK(nn_model_layer_statistics(model, 0, i % 2, st));
        assert_int_equal(st->struct_size, STATISTICS_0_3);
        assert_int_equal(st->layer, i % 2);
        assert_poisoned(&s, STATISTICS_0_3, sizeof s.bytes);
    }
    nn_model_free(model);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(first_sizes_are_todays),
    cmocka_unit_test(init_writes_the_callers_size_only),
    cmocka_unit_test(init_sized_fills_the_defaults),
    cmocka_unit_test(sizes_outside_the_known_range_are_refused),
    cmocka_unit_test(layer_statistics_write_the_first_size),
};

NN_TEST_MAIN("abi", tests)
