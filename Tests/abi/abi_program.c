/*
 * A program as its users write it, used by scripts/test-abi-growth.sh to
 * check nn.h's ABI policy the way it will be exercised: this file is
 * compiled against today's nn.h ("old") and run on a libnn whose options
 * structs have grown (a test-only build whose nn.h appends a field to every
 * options struct), and compiled against that grown header ("new") too.
 *
 * Every options struct is initialized with its *_init macro inside a buffer
 * poisoned past sizeof(struct): init must not write past the caller's
 * struct, and no call may read past it (the test-only library refuses any
 * options struct whose appended field is not its default, so a read of the
 * poison fails the call). Built against nn.h 0.3.0, which has no init
 * macros, it calls the plain init functions, as 0.3.0 binaries do. It trains XOR with every options
 * struct in play and prints the predictions as exact hex floats, so the
 * script can compare old and new builds bit for bit.
 *
 * With NN_ABI_SET_APPENDED (the "new" build only) it also sets the appended
 * field to a non-default value and expects the library to see it.
 */
#include <nn.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POISON 0xA5
#define TAIL 64

#define CHECK(call) do { nn_status s_ = (call); if (s_ != NN_OK) { \
    fprintf(stderr, "FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, #call, nn_last_error()); exit(1); } } while (0)
#define EXPECT(cond) do { if (!(cond)) { \
    fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); exit(1); } } while (0)

/* A struct at the start of a buffer whose bytes past it are poisoned. */
typedef struct { alignas(16) unsigned char bytes[512]; } slot;

static void *poisoned(slot *s, size_t size) {
    EXPECT(size + TAIL <= sizeof s->bytes);
    memset(s->bytes, POISON, sizeof s->bytes);
    return s->bytes;
}

static void tail_intact(const slot *s, size_t size, const char *what) {
    for (size_t i = size; i < size + TAIL; i++) {
        if (s->bytes[i] != POISON) {
            fprintf(stderr, "FAIL: byte %zu past %s (sizeof %zu) was overwritten\n", i - size, what, size);
            exit(1);
        }
    }
}

int main(void) {
    printf("header %s, library %s; sizeof nn_fit_options %zu\n", NN_VERSION_STRING, nn_version(),
           sizeof(nn_fit_options));
    slot sd, sl, so, ss, se, sf, sg, st;
    float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, y[] = {0, 1, 1, 0}, p[4];

    nn_dense_options *dense = poisoned(&sd, sizeof *dense);
    nn_loss_options *loss = poisoned(&sl, sizeof *loss);
    nn_optimizer_options *opt = poisoned(&so, sizeof *opt);
    nn_schedule_options *sched = poisoned(&ss, sizeof *sched);
    nn_early_stopping_options *stop = poisoned(&se, sizeof *stop);
    nn_fit_options *fit = poisoned(&sf, sizeof *fit);
    nn_gradient_check_options *gc = poisoned(&sg, sizeof *gc);
    nn_layer_statistics *stats = poisoned(&st, sizeof *stats);

    nn_dense_options_init(dense, 8);
    nn_loss_options_init(loss, NN_LOSS_BINARY_CROSSENTROPY);
    CHECK(nn_optimizer_options_init(opt, NN_OPTIMIZER_ADAM));
    CHECK(nn_schedule_options_init(sched, NN_SCHEDULE_STEP));
    nn_early_stopping_options_init(stop);
    nn_fit_options_init(fit);
    nn_gradient_check_options_init(gc);
    EXPECT(dense->struct_size == sizeof *dense && loss->struct_size == sizeof *loss);
    EXPECT(opt->struct_size == sizeof *opt && sched->struct_size == sizeof *sched);
    EXPECT(stop->struct_size == sizeof *stop && fit->struct_size == sizeof *fit);
    EXPECT(gc->struct_size == sizeof *gc);
    /* The documented defaults arrived. */
    EXPECT(dense->units == 8 && dense->activation == NN_ACTIVATION_LINEAR && dense->kernel_l2 == 0);
    EXPECT(loss->huber_delta == 1 && loss->from_logits == 0);
    EXPECT(opt->learning_rate == 0.001 && opt->beta2 == 0.999 && opt->global_clip_norm == 0);
    EXPECT(sched->step_size == 10 && sched->gamma == 0.1);
    EXPECT(strcmp(stop->monitor, "val_loss") == 0 && stop->patience == 0);
    EXPECT(fit->epochs == 1 && fit->batch_size == 32 && fit->shuffle == 1 && fit->early_stopping == NULL);
    EXPECT(gc->max_checks_per_array == 64);
    tail_intact(&sd, sizeof *dense, "nn_dense_options");
    tail_intact(&sl, sizeof *loss, "nn_loss_options");
    tail_intact(&so, sizeof *opt, "nn_optimizer_options");
    tail_intact(&ss, sizeof *sched, "nn_schedule_options");
    tail_intact(&se, sizeof *stop, "nn_early_stopping_options");
    tail_intact(&sf, sizeof *fit, "nn_fit_options");
    tail_intact(&sg, sizeof *gc, "nn_gradient_check_options");

    nn_model *m;
    CHECK(nn_model_create(2, 42, &m));
    dense->activation = NN_ACTIVATION_TANH;
    CHECK(nn_model_add_dense_ex(m, dense));
    nn_dense_options_init(dense, 1);
    dense->activation = NN_ACTIVATION_SIGMOID;
    CHECK(nn_model_add_dense_ex(m, dense));
    CHECK(nn_model_set_loss_ex(m, loss));
    opt->learning_rate = 0.05;
    CHECK(nn_model_set_optimizer(m, opt));
    sched->step_size = 100;
    sched->gamma = 0.5;
    CHECK(nn_model_set_lr_schedule(m, sched));
    CHECK(nn_model_set_layer_statistics(m, 1));
    stop->monitor = "loss";
    stop->patience = 1000;
    fit->epochs = 300;
    fit->batch_size = 4;
    fit->early_stopping = stop;
#ifdef NN_ABI_SET_APPENDED
    /* The new field is read when the caller has it. */
    fit->appended_in_test = 0.5;
    nn_status s = nn_model_fit(m, x, y, 4, 2, 1, fit);
    EXPECT(s == NN_ERROR_INVALID_ARGUMENT && strstr(nn_last_error(), "appended_in_test of nn_fit_options is 0.5"));
    printf("new field read: %s\n", nn_last_error());
    fit->appended_in_test = 0.25;
#endif
    CHECK(nn_model_fit(m, x, y, 4, 2, 1, fit));
    CHECK(nn_model_predict(m, x, 4, 2, p, 4));

    nn_gradient_check_result results[2];
    size_t count = 0;
    CHECK(nn_model_gradient_check(m, x, y, 4, 2, 1, gc, results, 2, &count));
    EXPECT(count == 2 && results[0].relative_error < 1e-6);

    /* A result struct does not grow: libnn writes its 0.3.0 size (88). */
    CHECK(nn_model_layer_statistics(m, 0, 0, stats));
    EXPECT(stats->struct_size == 88 && stats->layer == 0 && stats->batches == 1);
    tail_intact(&st, 88, "nn_layer_statistics");
    /* Every tail is still poisoned after all the calls. */
    tail_intact(&sd, sizeof *dense, "nn_dense_options");
    tail_intact(&sf, sizeof *fit, "nn_fit_options");
    tail_intact(&se, sizeof *stop, "nn_early_stopping_options");

    printf("predictions %a %a %a %a\n", p[0], p[1], p[2], p[3]);
    EXPECT(p[0] < 0.5f && p[1] > 0.5f && p[2] > 0.5f && p[3] < 0.5f);
    nn_model_free(m);
    printf("PASS: every options struct initialized and read within its %s size\n",
#ifdef NN_ABI_SET_APPENDED
           "grown"
#else
           "own"
#endif
    );
    return 0;
}
