/* Shared helpers of the cmocka suites; see nn_test.h. */
#include "nn_test.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

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

nn_model *nn_test_reload(const nn_model *model) {
    size_t size = 0;
    NN_ASSERT_OK(nn_model_save_to_buffer(model, NN_SAVE_INCLUDE_OPTIMIZER, NULL, 0, &size));
    void *file = malloc(size);
    assert_non_null(file);
    NN_ASSERT_OK(nn_model_save_to_buffer(model, NN_SAVE_INCLUDE_OPTIMIZER, file, size, &size));
    nn_model *loaded = NULL;
    NN_ASSERT_OK(nn_model_load_from_buffer(file, size, &loaded));
    free(file);
    return loaded;
}

int nn_test_same_weights(const nn_model *a, const nn_model *b) {
    size_t na = 0, nb = 0;
    float *wa = nn_test_weights(a, &na), *wb = nn_test_weights(b, &nb);
    int equal = na == nb && memcmp(wa, wb, na * sizeof *wa) == 0;
    free(wa);
    free(wb);
    return equal;
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

void nn_test_one_hot(nn_test_rng *rng, float *y, size_t rows, size_t classes) {
    memset(y, 0, rows * classes * sizeof *y);
    for (size_t r = 0; r < rows; r++) y[r * classes + nn_test_next(rng) % classes] = 1.0f;
}

/* ------------------------------------------------------------------------ */
/* Instruction-set levels                                                   */
/* ------------------------------------------------------------------------ */

/* The canonical name of a kernel level written in any case, or NULL. */
static const char *level_name(const char *text) {
    static const char *const levels[] = {"baseline", "avx2", "avx512"};
    if (text == NULL) return NULL;
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        size_t j = 0;
        while (levels[i][j] != '\0' && tolower((unsigned char)text[j]) == levels[i][j]) j++;
        if (levels[i][j] == '\0' && text[j] == '\0') return levels[i];
    }
    return NULL;
}

/* Appends ", item" (or "item" to an empty text). */
static void append_item(char *text, size_t size, const char *item) {
    size_t used = strlen(text);
    if (used < size) snprintf(text + used, size - used, "%s%s", used ? ", " : "", item);
}

#if defined(__x86_64__)
/* XCR0: the register state the OS saves on a context switch (XGETBV with
 * ECX = 0); 0 when CPUID says OSXSAVE is off, where XGETBV would fault. */
static uint64_t machine_xcr0(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

/* The levels' definitions are libnn's (Sources/NNCore/Kernels/CPUDispatch.swift):
 * avx2 is AVX2 + FMA with the YMM state enabled, avx512 adds AVX-512 F, CD,
 * BW, DQ and VL with the opmask and ZMM state enabled. The CPU's features
 * come from the compiler's own CPUID decoding (__builtin_cpu_supports), the
 * OS's part from XCR0 read here: nothing of libnn's detection is used, so a
 * libnn that refuses a level this machine has fails the suites. */
int nn_test_machine_has_level(const char *level, char *why, size_t why_size) {
    char text[256] = "";
    const char *name = level_name(level);
    int has = 0;
    if (name == NULL) {
        snprintf(text, sizeof text, "\"%s\" is not a kernel level (baseline, avx2, avx512)",
                 level ? level : "(null)");
    } else if (strcmp(name, "baseline") == 0) {
        has = 1; /* SSE2 on x86-64, NEON on arm64: part of the architecture */
    } else {
#if defined(__x86_64__)
        const int avx512 = strcmp(name, "avx512") == 0;
        char missing[160] = "";
        __builtin_cpu_init();
        if (!__builtin_cpu_supports("avx")) append_item(missing, sizeof missing, "avx");
        if (!__builtin_cpu_supports("avx2")) append_item(missing, sizeof missing, "avx2");
        if (!__builtin_cpu_supports("fma")) append_item(missing, sizeof missing, "fma");
        if (avx512) {
            if (!__builtin_cpu_supports("avx512f")) append_item(missing, sizeof missing, "avx512f");
            if (!__builtin_cpu_supports("avx512cd")) append_item(missing, sizeof missing, "avx512cd");
            if (!__builtin_cpu_supports("avx512bw")) append_item(missing, sizeof missing, "avx512bw");
            if (!__builtin_cpu_supports("avx512dq")) append_item(missing, sizeof missing, "avx512dq");
            if (!__builtin_cpu_supports("avx512vl")) append_item(missing, sizeof missing, "avx512vl");
        }
        /* XCR0 bits 1, 2 (SSE, AVX: YMM), and for AVX-512 5, 6, 7 (opmask,
         * ZMM_Hi256, Hi16_ZMM). */
        const uint64_t xcr0 = machine_xcr0(), need = avx512 ? 0xE6 : 0x06;
        if (missing[0] != '\0') snprintf(text, sizeof text, "CPUID has no %s", missing);
        if ((xcr0 & need) != need) {
            char os[96];
            snprintf(os, sizeof os, "the OS does not enable the %s register state (XCR0 = 0x%llx)",
                     avx512 ? "opmask/ZMM" : "YMM", (unsigned long long)xcr0);
            size_t used = strlen(text);
            snprintf(text + used, sizeof text - used, "%s%s", used ? "; " : "", os);
        }
        has = text[0] == '\0';
#else
        snprintf(text, sizeof text, "not an x86-64 CPU");
#endif
    }
    if (!has && why != NULL && why_size > 0) snprintf(why, why_size, "%s", text);
    return has;
}

const char *nn_test_machine_best_level(void) {
    if (nn_test_machine_has_level("avx512", NULL, 0)) return "avx512";
    if (nn_test_machine_has_level("avx2", NULL, 0)) return "avx2";
    return "baseline";
}

typedef enum { LEVEL_RUN, LEVEL_SKIP, LEVEL_FAIL } level_verdict;

/* What this run should do, from NN_CPU and NN_EXPECT_LEVEL and this machine.
 * *uses receives the level libnn must be using (also when the run is
 * skipped: the forced level, or its fallback, the machine's best); *note the
 * reason (run), the cause (skip) or the failure. */
static level_verdict level_plan(const char **uses, char *note, size_t size) {
    const char *forced_raw = getenv("NN_CPU"), *expect_raw = getenv("NN_EXPECT_LEVEL");
    if (forced_raw != NULL && forced_raw[0] == '\0') forced_raw = NULL;
    if (expect_raw != NULL && expect_raw[0] == '\0') expect_raw = NULL;
    const char *forced = level_name(forced_raw), *expect = level_name(expect_raw);
    const char *best = nn_test_machine_best_level();
    char why[256];
    /* libnn uses a forced level the machine has, else its best. */
    *uses = forced != NULL && nn_test_machine_has_level(forced, NULL, 0) ? forced : best;
    if (expect_raw != NULL && expect == NULL) {
        snprintf(note, size, "NN_EXPECT_LEVEL=%s is not a kernel level (baseline, avx2, avx512)",
                 expect_raw);
        return LEVEL_FAIL;
    }
    if (forced != NULL && !nn_test_machine_has_level(forced, why, sizeof why)) {
        snprintf(note, size, "this CPU lacks %s (%s), which NN_CPU=%s forces", forced, why,
                 forced_raw);
        return LEVEL_SKIP;
    }
    if (expect != NULL && !nn_test_machine_has_level(expect, why, sizeof why)) {
        snprintf(note, size, "this CPU lacks %s (%s), which NN_EXPECT_LEVEL=%s expects", expect,
                 why, expect_raw);
        return LEVEL_SKIP;
    }
    if (expect != NULL) {
        /* A contradiction with NN_CPU shows up as a failure. */
        *uses = expect;
        snprintf(note, size, "NN_EXPECT_LEVEL=%s, NN_CPU=%s", expect_raw,
                 forced_raw ? forced_raw : "(unset)");
    } else if (forced != NULL) {
        snprintf(note, size, "forced by NN_CPU=%s", forced_raw);
    } else if (forced_raw != NULL) {
        snprintf(note, size, "NN_CPU=%s is not a level name, so the best this CPU has", forced_raw);
    } else {
        snprintf(note, size, "the best this CPU has; NN_CPU is not set");
    }
    return LEVEL_RUN;
}

const char *nn_test_expected_level(void) {
    const char *uses = NULL;
    char note[512];
    return level_plan(&uses, note, sizeof note) == LEVEL_RUN ? uses : NULL;
}

int nn_test_check_level(const char *suite) {
    const char *uses = NULL;
    char note[512], why[256];
    const level_verdict verdict = level_plan(&uses, note, sizeof note);
    const char *in_use = nn_cpu_level();
    if (verdict == LEVEL_FAIL) {
        fprintf(stderr, "%s: FAILED: %s\n", suite, note);
        return 1;
    }
    if (in_use == NULL || level_name(in_use) == NULL) {
        fprintf(stderr, "%s: FAILED: nn_cpu_level() returned \"%s\", not a kernel level\n", suite,
                in_use ? in_use : "(null)");
        return 1;
    }
    if (!nn_test_machine_has_level(in_use, why, sizeof why)) {
        fprintf(stderr, "%s: FAILED: libnn uses %s, which this machine lacks (%s)\n", suite,
                in_use, why);
        return 1;
    }
    if (strcmp(in_use, uses) != 0) {
        fprintf(stderr, "%s: FAILED: libnn uses kernel level %s, expected %s (%s%s)\n", suite,
                in_use, uses, verdict == LEVEL_SKIP ? "the best this machine has, as " : "", note);
        return 1;
    }
    if (verdict == LEVEL_SKIP) {
        printf("%s: SKIPPED: %s; libnn rightly uses %s instead\n", suite, note, in_use);
        fflush(stdout);
        return NN_TEST_SKIPPED;
    }
    printf("%s: kernel level: %s (%s)\n", suite, in_use, note);
    fflush(stdout);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Running a suite                                                          */
/* ------------------------------------------------------------------------ */

int nn_test_main(int argc, char **argv, const char *suite, const struct CMUnitTest *tests,
                 size_t count) {
    const int level = nn_test_check_level(suite);
    if (level != 0) return level;
    if (argc > 1 && argv[1][0] != '\0') cmocka_set_test_filter(argv[1]);
    return _cmocka_run_group_tests(suite, tests, count, NULL, NULL) == 0 ? 0 : 1;
}
