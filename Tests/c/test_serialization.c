/*
 * Saving and loading: nn_model_save, nn_model_save_to_buffer,
 * nn_model_load, nn_model_load_from_buffer, nn_model_load_weights,
 * nn_model_load_weights_from_buffer and nn_model_config (nn.h, "Saving and
 * loading").
 *
 * Round trips through a file and a buffer (predictions, weights, summary
 * and the bytes themselves identical), the safetensors layout with
 * PyTorch's state_dict names, exact resume with NN_SAVE_INCLUDE_OPTIMIZER,
 * buffer sizes, bad arguments, I/O errors, hostile files (truncated,
 * corrupted, misshapen, random byte flips), weights written by hand in
 * PyTorch's layout, saves killed with SIGKILL halfway, and the model's
 * configuration as JSON (nn_model_config).
 *
 * Files go to a fresh directory made with mkdtemp under $TMPDIR (or /tmp),
 * removed at the end of each test.
 */
#include "nn_test.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* ------------------------------------------------------------------------ */
/* Bytes, files and directories                                             */
/* ------------------------------------------------------------------------ */

/* A malloc'd byte string. */
typedef struct bytes {
    unsigned char *data;
    size_t size;
} bytes;

static bytes bytes_copy(const void *data, size_t size) {
    bytes b = {malloc(size ? size : 1), size};
    assert_non_null(b.data);
    if (size) memcpy(b.data, data, size);
    return b;
}

static void bytes_free(bytes *b) {
    free(b->data);
    b->data = NULL;
    b->size = 0;
}

/* The model as nn_model_save_to_buffer serializes it (asks the size first). */
static bytes save_buffer(const nn_model *model, unsigned int flags) {
    size_t size = 0;
    NN_ASSERT_OK(nn_model_save_to_buffer(model, flags, NULL, 0, &size));
    assert_true(size > 8);
    bytes b = {malloc(size), size};
    assert_non_null(b.data);
    size_t written = 0;
    NN_ASSERT_OK(nn_model_save_to_buffer(model, flags, b.data, size, &written));
    assert_int_equal(written, size);
    return b;
}

static int bytes_equal(const bytes *a, const bytes *b) {
    return a->size == b->size && memcmp(a->data, b->data, a->size) == 0;
}

/* A new empty directory (mkdtemp); remove it with remove_temp_dir. */
static void make_temp_dir(char *dir, size_t capacity) {
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0') base = "/tmp";
    snprintf(dir, capacity, "%s/nn_test_serialization.XXXXXX", base);
    assert_non_null(mkdtemp(dir));
}

static void join(char *out, size_t capacity, const char *dir, const char *name) {
    int n = snprintf(out, capacity, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < capacity);
}

/* Removes dir and everything in it (the tests make at most one level of
 * subdirectories). */
static void remove_tree(const char *dir, int depth) {
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char path[PATH_MAX];
            if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
            if (unlink(path) != 0 && depth < 4) remove_tree(path, depth + 1);
        }
        closedir(d);
    }
    rmdir(dir);
}

static void remove_temp_dir(const char *dir) { remove_tree(dir, 0); }

/* cmocka fixtures: *state is a fresh directory, removed (with what the
 * test left in it) even when the test fails. */
static int make_dir(void **state) {
    char *dir = malloc(PATH_MAX);
    if (dir == NULL) return -1;
    make_temp_dir(dir, PATH_MAX);
    *state = dir;
    return 0;
}

static int remove_dir(void **state) {
    remove_temp_dir(*state);
    free(*state);
    return 0;
}

/* Number of entries of dir (without . and ..); *names receives them,
 * separated by spaces, for messages. */
static size_t dir_entries(const char *dir, char *names, size_t capacity) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    if (names && capacity) names[0] = '\0';
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        n++;
        if (names && capacity) {
            size_t used = strlen(names);
            snprintf(names + used, capacity - used, "%s%s", used ? " " : "", e->d_name);
        }
    }
    closedir(d);
    return n;
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static bytes read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    bytes b = {NULL, 0};
    size_t capacity = 0;
    for (;;) {
        if (b.size == capacity) {
            capacity = capacity ? 2 * capacity : 4096;
            b.data = realloc(b.data, capacity);
            assert_non_null(b.data);
        }
        size_t n = fread(b.data + b.size, 1, capacity - b.size, f);
        if (n == 0) break;
        b.size += n;
    }
    assert_int_equal(ferror(f), 0);
    fclose(f);
    return b;
}

static void write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (size) assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------------------ */
/* Safetensors files by hand                                                */
/* ------------------------------------------------------------------------ */

static void put_u64le(unsigned char *out, uint64_t v) {
    for (int i = 0; i < 8; i++) out[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64le(const unsigned char *in) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)in[i] << (8 * i);
    return v;
}

/* 8 bytes of `declared` (little-endian), then the header text, then the data. */
static bytes st_raw(uint64_t declared, const char *header, const void *data, size_t data_size) {
    size_t h = strlen(header);
    bytes b = {malloc(8 + h + data_size + 1), 8 + h + data_size};
    assert_non_null(b.data);
    put_u64le(b.data, declared);
    memcpy(b.data + 8, header, h);
    if (data_size) memcpy(b.data + 8 + h, data, data_size);
    return b;
}

/* A well-formed file: the header's true length, the header, the data. */
static bytes st_file(const char *header, const void *data, size_t data_size) {
    return st_raw(strlen(header), header, data, data_size);
}

/* One tensor of st_build. */
typedef struct st_tensor {
    const char *name;
    const char *dtype;   /* "F32", "F64", "I32", "I64" */
    size_t ndim;         /* 0: a scalar */
    size_t dims[4];
    const void *data;
    size_t size;         /* bytes at data */
} st_tensor;

/* A safetensors file with the tensors stored one after the other in the
 * order given, and `metadata` (a JSON object text, or NULL) as __metadata__. */
static bytes st_build(const char *metadata, const st_tensor *tensors, size_t n) {
    size_t capacity = 512 + (metadata ? strlen(metadata) : 0) + n * 256, data_size = 0;
    char *header = malloc(capacity);
    assert_non_null(header);
    size_t used = (size_t)snprintf(header, capacity, "{");
    if (metadata) used += (size_t)snprintf(header + used, capacity - used, "\"__metadata__\":%s", metadata);
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(header + used, capacity - used, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[",
                                 (i || metadata) ? "," : "", tensors[i].name, tensors[i].dtype);
        for (size_t d = 0; d < tensors[i].ndim; d++)
            used += (size_t)snprintf(header + used, capacity - used, "%s%zu", d ? "," : "", tensors[i].dims[d]);
        used += (size_t)snprintf(header + used, capacity - used, "],\"data_offsets\":[%zu,%zu]}", data_size,
                                 data_size + tensors[i].size);
        data_size += tensors[i].size;
        assert_true(used < capacity);
    }
    used += (size_t)snprintf(header + used, capacity - used, "}");
    assert_true(used < capacity);
    unsigned char *data = malloc(data_size ? data_size : 1);
    assert_non_null(data);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (tensors[i].size) memcpy(data + at, tensors[i].data, tensors[i].size);
        at += tensors[i].size;
    }
    bytes b = st_file(header, data, data_size);
    free(header);
    free(data);
    return b;
}

/* The header of a file as a NUL-terminated string (malloc'd). */
static char *header_text(const bytes *file) {
    assert_true(file->size >= 8);
    uint64_t h = get_u64le(file->data);
    assert_true(h <= file->size - 8);
    char *text = malloc((size_t)h + 1);
    assert_non_null(text);
    memcpy(text, file->data + 8, (size_t)h);
    text[h] = '\0';
    return text;
}

/* The file with the first occurrence of `from` in its header replaced by
 * `to` (the header length adjusted, the data kept). */
static bytes edit_header(const bytes *file, const char *from, const char *to) {
    char *header = header_text(file);
    char *at = strstr(header, from);
    if (at == NULL) fail_msg("\"%s\" is not in the header %s", from, header);
    size_t h = strlen(header), data_size = file->size - 8 - h;
    size_t k = (size_t)(at - header), nf = strlen(from), nt = strlen(to);
    char *edited = malloc(h - nf + nt + 1);
    assert_non_null(edited);
    memcpy(edited, header, k);
    memcpy(edited + k, to, nt);
    memcpy(edited + k + nt, at + nf, h - k - nf + 1);
    bytes b = st_file(edited, file->data + 8 + h, data_size);
    free(header);
    free(edited);
    return b;
}

/* Where tensor `name` lies in a file libnn wrote, whose header lists it as
 * "name":{"dtype":"..","shape":[..],"data_offsets":[begin,end]}: dtype,
 * shape, and the absolute byte range in the file. Returns 0 if absent. */
typedef struct st_info {
    char dtype[16];
    size_t ndim;
    size_t dims[8];
    size_t begin, end; /* absolute offsets in the file */
} st_info;

static int find_tensor(const bytes *file, const char *name, st_info *info) {
    char *header = header_text(file);
    char key[128];
    snprintf(key, sizeof key, "\"%s\":{", name);
    char *at = strstr(header, key);
    if (at == NULL) {
        free(header);
        return 0;
    }
    at += strlen(key);
    memset(info, 0, sizeof *info);
    int consumed = 0;
    assert_int_equal(sscanf(at, "\"dtype\":\"%15[^\"]\",\"shape\":[%n", info->dtype, &consumed), 1);
    assert_true(consumed > 0);
    at += consumed;
    while (*at != ']') {
        char *next = NULL;
        assert_true(info->ndim < 8);
        info->dims[info->ndim++] = (size_t)strtoull(at, &next, 10);
        assert_true(next != at);
        at = next;
        if (*at == ',') at++;
    }
    size_t begin = 0, end = 0;
    assert_int_equal(sscanf(at, "],\"data_offsets\":[%zu,%zu]}", &begin, &end), 2);
    size_t data_start = 8 + strlen(header);
    info->begin = data_start + begin;
    info->end = data_start + end;
    assert_true(info->begin <= info->end && info->end <= file->size);
    free(header);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Models and data                                                          */
/* ------------------------------------------------------------------------ */

enum { IN = 6, HIDDEN = 8, CLASSES = 3, ROWS = 30, BATCH = 7 };

/* x [ROWS, IN] in [-1, 1) and one-hot y [ROWS, CLASSES]: the argmax of a
 * fixed linear map of x. */
static void classification_data(float *x, float *y, uint64_t seed) {
    nn_test_rng rng = {seed};
    nn_test_fill(&rng, x, ROWS * IN, -1.0f, 1.0f);
    for (size_t r = 0; r < ROWS; r++) {
        const float *xr = x + r * IN;
        float s[CLASSES] = {xr[0] - xr[3] + 0.2f * xr[5], xr[1] + 0.5f * xr[4] - xr[2], 0.3f * xr[2] + xr[5]};
        size_t best = 0;
        for (size_t c = 1; c < CLASSES; c++)
            if (s[c] > s[best]) best = c;
        for (size_t c = 0; c < CLASSES; c++) y[r * CLASSES + c] = c == best ? 1.0f : 0.0f;
    }
}

/* Sets an optimizer with its defaults except the ones that give it state
 * worth saving (momentum, centered, amsgrad). */
static void set_optimizer(nn_model *model, nn_optimizer kind) {
    nn_optimizer_options o;
    NN_ASSERT_OK(nn_optimizer_options_init(&o, kind));
    switch (kind) {
    case NN_OPTIMIZER_SGD:
        o.learning_rate = 0.05;
        o.momentum = 0.9;
        o.nesterov = 1;
        break;
    case NN_OPTIMIZER_ADAMW: o.amsgrad = 1; break;
    case NN_OPTIMIZER_RMSPROP:
        o.momentum = 0.5;
        o.centered = 1;
        break;
    default: break;
    }
    NN_ASSERT_OK(nn_model_set_optimizer(model, &o));
}

/* Every layer kind:
 *   Dense(8) with a he_normal kernel, a constant 0.1 bias and L2 1e-3 (module 0)
 *   BatchNormalization(momentum 0.1, epsilon 1e-3)                     (module 1)
 *   Activation(leaky_relu, slope 0.1)                                 (module 2)
 *   Dropout(0.25)                                                     (module 3)
 *   Dense(3, softmax)                                           (modules 4, 5)
 * compiled with categorical cross-entropy, the optimizer `kind`, two
 * metrics and an exponential learning-rate schedule. */
static nn_model *every_layer_model(uint64_t seed, nn_optimizer kind) {
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(IN, seed, &model));
    nn_dense_options d;
    nn_dense_options_init(&d, HIDDEN);
    d.kernel_initializer = NN_INIT_HE_NORMAL;
    d.bias_initializer = NN_INIT_CONSTANT;
    d.bias_initializer_value = 0.1;
    d.kernel_l2 = 1e-3;
    NN_ASSERT_OK(nn_model_add_dense_ex(model, &d));
    NN_ASSERT_OK(nn_model_add_batch_normalization(model, 0.1, 1e-3));
    NN_ASSERT_OK(nn_model_add_activation(model, NN_ACTIVATION_LEAKY_RELU, 0.1));
    NN_ASSERT_OK(nn_model_add_dropout(model, 0.25));
    NN_ASSERT_OK(nn_model_add_dense(model, CLASSES, NN_ACTIVATION_SOFTMAX));
    NN_ASSERT_OK(nn_model_set_loss(model, NN_LOSS_CATEGORICAL_CROSSENTROPY, 0));
    set_optimizer(model, kind);
    NN_ASSERT_OK(nn_model_add_metric(model, NN_METRIC_ACCURACY));
    NN_ASSERT_OK(nn_model_add_metric_ex(model, NN_METRIC_TOP_K_ACCURACY, 2));
    nn_schedule_options s;
    NN_ASSERT_OK(nn_schedule_options_init(&s, NN_SCHEDULE_EXPONENTIAL));
    s.gamma = 0.9;
    NN_ASSERT_OK(nn_model_set_lr_schedule(model, &s));
    return model;
}

static void train(nn_model *model, size_t epochs, nn_test_history *history) {
    float x[ROWS * IN], y[ROWS * CLASSES];
    classification_data(x, y, 99);
    nn_fit_options o = nn_test_fit_options(epochs, BATCH, 1);
    if (history) nn_test_record_into(&o, history);
    NN_ASSERT_OK(nn_model_fit(model, x, y, ROWS, IN, CLASSES, &o));
}

/* every_layer_model trained 3 epochs with Adam. */
static nn_model *trained_model(uint64_t seed) {
    nn_model *model = every_layer_model(seed, NN_OPTIMIZER_ADAM);
    train(model, 3, NULL);
    return model;
}

/* 3 -> Dense(4, relu) -> Dense(2): PyTorch's nn.Sequential(Linear(3, 4),
 * ReLU(), Linear(4, 2)), tensors 0.weight [4,3], 0.bias, 2.weight [2,4], 2.bias. */
static nn_model *small_model(uint64_t seed) {
    const nn_test_layer layers[] = {{4, NN_ACTIVATION_RELU}, {2, NN_ACTIVATION_LINEAR}};
    return nn_test_model(3, seed, 2, layers);
}

/* small_model compiled with MSE and Adam and trained 2 epochs, so that a
 * save with NN_SAVE_INCLUDE_OPTIMIZER holds Adam's moments. */
static nn_model *trained_small_model(uint64_t seed) {
    nn_model *model = small_model(seed);
    nn_test_compile(model, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_ADAM, 0.01);
    float x[8 * 3], y[8 * 2];
    nn_test_rng rng = {seed};
    nn_test_fill(&rng, x, 24, -1.0f, 1.0f);
    nn_test_fill(&rng, y, 16, -1.0f, 1.0f);
    nn_fit_options o = nn_test_fit_options(2, 3, 1);
    NN_ASSERT_OK(nn_model_fit(model, x, y, 8, 3, 2, &o));
    return model;
}

static char *summary_text(const nn_model *model) {
    size_t length = 0;
    NN_ASSERT_OK(nn_model_summary(model, NULL, 0, &length));
    char *text = malloc(length + 1);
    assert_non_null(text);
    NN_ASSERT_OK(nn_model_summary(model, text, length + 1, &length));
    return text;
}

static void test_inputs(float *x, size_t rows) {
    nn_test_rng rng = {2024};
    nn_test_fill(&rng, x, rows * IN, -1.5f, 1.5f);
}

/* Everything a caller can observe of two models is the same: predictions
 * and evaluation (bit for bit), weights, summary, layers, metrics, and
 * (with same_learning_rate) the current learning rate, which is part of
 * the optimizer's state: a model saved without it restarts from the
 * optimizer's configured rate. */
static void assert_same_model(nn_model *a, nn_model *b, int same_learning_rate) {
    enum { N = 17 };
    float x[N * IN];
    test_inputs(x, N);
    float *pa = nn_test_predict(a, x, N, IN), *pb = nn_test_predict(b, x, N, IN);
    size_t outputs = 0;
    NN_ASSERT_OK(nn_model_output_dim(a, &outputs));
    assert_memory_equal(pa, pb, N * outputs * sizeof(float));
    free(pa);
    free(pb);
    assert_true(nn_test_same_weights(a, b));

    char *sa = summary_text(a), *sb = summary_text(b);
    assert_string_equal(sa, sb);
    free(sa);
    free(sb);

    size_t va = 0, vb = 0;
    NN_ASSERT_OK(nn_model_input_dim(a, &va));
    NN_ASSERT_OK(nn_model_input_dim(b, &vb));
    assert_int_equal(va, vb);
    NN_ASSERT_OK(nn_model_output_dim(b, &vb));
    assert_int_equal(outputs, vb);
    NN_ASSERT_OK(nn_model_parameter_count(a, &va));
    NN_ASSERT_OK(nn_model_parameter_count(b, &vb));
    assert_int_equal(va, vb);
    size_t layers = 0;
    NN_ASSERT_OK(nn_model_layer_count(a, &layers));
    NN_ASSERT_OK(nn_model_layer_count(b, &vb));
    assert_int_equal(layers, vb);
    for (size_t i = 0; i < layers; i++) {
        nn_layer_kind ka, kb;
        NN_ASSERT_OK(nn_model_layer_kind(a, i, &ka));
        NN_ASSERT_OK(nn_model_layer_kind(b, i, &kb));
        assert_int_equal(ka, kb);
        size_t ua = 0, ub = 0;
        nn_activation aa, ab;
        NN_ASSERT_OK(nn_model_layer_info(a, i, &ua, &aa));
        NN_ASSERT_OK(nn_model_layer_info(b, i, &ub, &ab));
        assert_int_equal(ua, ub);
        assert_int_equal(aa, ab);
    }
    size_t metrics = 0;
    NN_ASSERT_OK(nn_model_metric_count(a, &metrics));
    NN_ASSERT_OK(nn_model_metric_count(b, &vb));
    assert_int_equal(metrics, vb);
    for (size_t i = 0; i < metrics; i++) {
        const char *na = NULL, *nb = NULL;
        NN_ASSERT_OK(nn_model_metric_name(a, i, &na));
        NN_ASSERT_OK(nn_model_metric_name(b, i, &nb));
        assert_string_equal(na, nb);
    }
    double la = 0, lb = 0;
    nn_status sa_status = nn_model_learning_rate(a, &la);
    nn_status sb_status = nn_model_learning_rate(b, &lb);
    assert_int_equal(sa_status, sb_status);
    if (sa_status == NN_OK && same_learning_rate && la != lb)
        fail_msg("learning rate %.17g, after loading %.17g", la, lb);

    if (outputs == CLASSES && metrics == 3) {
        float xe[ROWS * IN], ye[ROWS * CLASSES];
        classification_data(xe, ye, 5);
        double ea[3], eb[3];
        NN_ASSERT_OK(nn_model_evaluate(a, xe, ye, ROWS, IN, CLASSES, ea, 3));
        NN_ASSERT_OK(nn_model_evaluate(b, xe, ye, ROWS, IN, CLASSES, eb, 3));
        assert_memory_equal(ea, eb, sizeof ea);
    }
}

/* ------------------------------------------------------------------------ */
/* Round trips                                                              */
/* ------------------------------------------------------------------------ */

/* A trained model with every layer kind, saved to a file and loaded back,
 * is the same model; the file holds exactly the bytes save_to_buffer gives,
 * no temporary file is left beside it, and the loaded model serializes to
 * the same bytes again. A second save replaces the file. */
static void round_trip_through_file(void **state) {
    const char *dir = *state; /* made by make_dir, removed by remove_dir */
    char path[PATH_MAX], names[1024];
    join(path, sizeof path, dir, "model.nn");
    nn_model *model = trained_model(11);

    NN_ASSERT_OK(nn_model_save(model, path, NN_SAVE_INCLUDE_OPTIMIZER));
    assert_int_equal(dir_entries(dir, names, sizeof names), 1);
    assert_string_equal(names, "model.nn");
    bytes file = read_file(path);
    bytes with_optimizer = save_buffer(model, NN_SAVE_INCLUDE_OPTIMIZER);
    bytes without_optimizer = save_buffer(model, 0);
    assert_true(bytes_equal(&file, &with_optimizer));
    /* The optimizer's state makes the file larger. */
    assert_true(without_optimizer.size < with_optimizer.size);

    nn_model *loaded = NULL;
    NN_ASSERT_OK(nn_model_load(path, &loaded));
    assert_non_null(loaded);
    assert_ptr_not_equal(loaded, model);
    assert_same_model(model, loaded, 1);
    bytes again = save_buffer(loaded, NN_SAVE_INCLUDE_OPTIMIZER);
    assert_true(bytes_equal(&again, &with_optimizer));
    bytes_free(&again);
    again = save_buffer(loaded, 0);
    assert_true(bytes_equal(&again, &without_optimizer));
    bytes_free(&again);

    /* Saved without the optimizer's state: the same model otherwise. */
    NN_ASSERT_OK(nn_model_save(model, path, 0));
    bytes_free(&file);
    file = read_file(path);
    assert_true(bytes_equal(&file, &without_optimizer));
    nn_model *plain = NULL;
    NN_ASSERT_OK(nn_model_load(path, &plain));
    assert_same_model(model, plain, 0);
    /* ... except the optimizer's state: it starts afresh, at the configured rate. */
    double lr_plain = 0;
    NN_ASSERT_OK(nn_model_learning_rate(plain, &lr_plain));
    assert_true(lr_plain == 0.001);
    again = save_buffer(plain, 0);
    assert_true(bytes_equal(&again, &without_optimizer));
    bytes_free(&again);

    /* Saving another model over the file replaces it. */
    nn_model *other = trained_model(12);
    assert_false(nn_test_same_weights(model, other));
    NN_ASSERT_OK(nn_model_save(other, path, 0));
    nn_model *reloaded = NULL;
    NN_ASSERT_OK(nn_model_load(path, &reloaded));
    assert_same_model(other, reloaded, 0);
    assert_int_equal(dir_entries(dir, names, sizeof names), 1);

    nn_model_free(model);
    nn_model_free(loaded);
    nn_model_free(plain);
    nn_model_free(other);
    nn_model_free(reloaded);
    bytes_free(&file);
    bytes_free(&with_optimizer);
    bytes_free(&without_optimizer);
}

/* The same through a buffer; the caller's buffer is not kept (it is
 * overwritten right after the load). An untrained, uncompiled model round
 * trips too, and may still grow; a trained one may not, as before saving. */
static void round_trip_through_buffer(void **state) {
    (void)state;
    nn_model *model = trained_model(21);
    bytes saved = save_buffer(model, NN_SAVE_INCLUDE_OPTIMIZER);
    nn_model *loaded = NULL;
    NN_ASSERT_OK(nn_model_load_from_buffer(saved.data, saved.size, &loaded));
    assert_non_null(loaded);
    bytes kept = bytes_copy(saved.data, saved.size);
    memset(saved.data, 0xEE, saved.size);
    assert_same_model(model, loaded, 1);
    bytes again = save_buffer(loaded, NN_SAVE_INCLUDE_OPTIMIZER);
    assert_true(bytes_equal(&again, &kept));
    bytes_free(&again);
    NN_ASSERT_ERROR(nn_model_add_dense(loaded, 2, NN_ACTIVATION_LINEAR), NN_ERROR_INVALID_STATE,
                    "trained");

    /* A bare model: no loss, no optimizer, never trained. */
    nn_model *bare = small_model(22);
    bytes bare_bytes = save_buffer(bare, NN_SAVE_INCLUDE_OPTIMIZER);
    nn_model *bare_loaded = NULL;
    NN_ASSERT_OK(nn_model_load_from_buffer(bare_bytes.data, bare_bytes.size, &bare_loaded));
    float x[4 * 3] = {0.5f, -1.0f, 2.0f, 0.0f, 0.0f, 0.0f, -3.0f, 1.5f, 0.25f, 1.0f, 1.0f, -1.0f};
    float *pa = nn_test_predict(bare, x, 4, 3), *pb = nn_test_predict(bare_loaded, x, 4, 3);
    assert_memory_equal(pa, pb, 4 * 2 * sizeof(float));
    free(pa);
    free(pb);
    assert_true(nn_test_same_weights(bare, bare_loaded));
    double lr = 0;
    NN_ASSERT_ERROR(nn_model_learning_rate(bare_loaded, &lr), NN_ERROR_INVALID_STATE, "optimizer");
    again = save_buffer(bare_loaded, NN_SAVE_INCLUDE_OPTIMIZER);
    assert_true(bytes_equal(&again, &bare_bytes));
    bytes_free(&again);
    NN_ASSERT_OK(nn_model_add_dense(bare_loaded, 1, NN_ACTIVATION_SIGMOID));

    nn_model_free(model);
    nn_model_free(loaded);
    nn_model_free(bare);
    nn_model_free(bare_loaded);
    bytes_free(&saved);
    bytes_free(&kept);
    bytes_free(&bare_bytes);
}

/* The file is safetensors with PyTorch's state_dict names: Linear weights
 * [units, inputs] (the Keras kernel transposed), activation and dropout
 * modules counted but without tensors, BatchNorm1d's five tensors
 * (num_batches_tracked an I64 scalar), the optimizer's state under
 * "optimizer." only with NN_SAVE_INCLUDE_OPTIMIZER, and the metadata
 * strings nn.h lists. */
static void file_layout_is_a_pytorch_state_dict(void **state) {
    (void)state;
    nn_model *model = trained_model(31);
    bytes file = save_buffer(model, NN_SAVE_INCLUDE_OPTIMIZER);
    char *header = header_text(&file);
    assert_int_equal(header[0], '{');
    assert_non_null(strstr(header, "\"__metadata__\":{"));
    assert_non_null(strstr(header, "\"format\":\"libnn\""));
    assert_non_null(strstr(header, "\"format_version\":\"1\""));
    assert_non_null(strstr(header, "\"architecture\":\""));
    assert_non_null(strstr(header, "\"compile\":\""));
    assert_non_null(strstr(header, "\"training\":\""));

    static const struct {
        const char *name;
        const char *dtype;
        size_t ndim, dims[2];
    } expected[] = {
        {"0.weight", "F32", 2, {HIDDEN, IN}},   {"0.bias", "F32", 1, {HIDDEN, 0}},
        {"1.weight", "F32", 1, {HIDDEN, 0}},    {"1.bias", "F32", 1, {HIDDEN, 0}},
        {"1.running_mean", "F32", 1, {HIDDEN, 0}}, {"1.running_var", "F32", 1, {HIDDEN, 0}},
        {"1.num_batches_tracked", "I64", 0, {0, 0}},
        {"4.weight", "F32", 2, {CLASSES, HIDDEN}}, {"4.bias", "F32", 1, {CLASSES, 0}},
        {"optimizer.0.weight.exp_avg", "F32", 2, {HIDDEN, IN}},
        {"optimizer.0.weight.exp_avg_sq", "F32", 2, {HIDDEN, IN}},
        {"optimizer.4.bias.exp_avg_sq", "F32", 1, {CLASSES, 0}},
    };
    for (size_t t = 0; t < sizeof expected / sizeof expected[0]; t++) {
        st_info info;
        if (!find_tensor(&file, expected[t].name, &info)) fail_msg("no tensor %s in %s", expected[t].name, header);
        assert_string_equal(info.dtype, expected[t].dtype);
        assert_int_equal(info.ndim, expected[t].ndim);
        for (size_t d = 0; d < info.ndim; d++) assert_int_equal(info.dims[d], expected[t].dims[d]);
    }
    /* Activation, dropout and softmax modules (2, 3, 5) have no tensors. */
    assert_null(strstr(header, "\"2."));
    assert_null(strstr(header, "\"3."));
    assert_null(strstr(header, "\"5."));

    /* 0.weight[u][i] is the Keras kernel's [i][u]; the data is little-endian F32. */
    st_info info;
    assert_true(find_tensor(&file, "0.weight", &info));
    assert_int_equal(info.end - info.begin, HIDDEN * IN * sizeof(float));
    float kernel[IN * HIDDEN], stored[HIDDEN * IN];
    NN_ASSERT_OK(nn_model_get_weight(model, 0, kernel, IN * HIDDEN));
    memcpy(stored, file.data + info.begin, sizeof stored);
    for (size_t u = 0; u < HIDDEN; u++)
        for (size_t i = 0; i < IN; i++) assert_true(stored[u * IN + i] == kernel[i * HIDDEN + u]);
    /* 4.weight likewise; running_var is the moving_variance (weight 5). */
    float kernel4[HIDDEN * CLASSES], stored4[CLASSES * HIDDEN], var[HIDDEN], stored_var[HIDDEN];
    NN_ASSERT_OK(nn_model_get_weight(model, 6, kernel4, HIDDEN * CLASSES));
    assert_true(find_tensor(&file, "4.weight", &info));
    memcpy(stored4, file.data + info.begin, sizeof stored4);
    for (size_t u = 0; u < CLASSES; u++)
        for (size_t i = 0; i < HIDDEN; i++) assert_true(stored4[u * HIDDEN + i] == kernel4[i * CLASSES + u]);
    NN_ASSERT_OK(nn_model_get_weight(model, 5, var, HIDDEN));
    assert_true(find_tensor(&file, "1.running_var", &info));
    memcpy(stored_var, file.data + info.begin, sizeof stored_var);
    assert_memory_equal(stored_var, var, sizeof var);
    /* num_batches_tracked counts the training batches: 3 epochs of ceil(30 / 7) = 5. */
    assert_true(find_tensor(&file, "1.num_batches_tracked", &info));
    assert_int_equal(info.end - info.begin, 8);
    assert_int_equal(get_u64le(file.data + info.begin), 3 * 5);
    free(header);

    /* Without the flag: no optimizer tensors. */
    bytes plain = save_buffer(model, 0);
    header = header_text(&plain);
    assert_null(strstr(header, "optimizer.0"));
    assert_true(find_tensor(&plain, "0.weight", &info));
    free(header);

    bytes_free(&file);
    bytes_free(&plain);
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Exact resume                                                             */
/* ------------------------------------------------------------------------ */

/* Training 10 epochs equals training 5, saving with
 * NN_SAVE_INCLUDE_OPTIMIZER, freeing, loading and training 5 more, bit for
 * bit (shuffling, dropout, a last batch of 2 rows, batch normalization, an
 * exponential schedule), for every optimizer with state. Without the flag
 * the optimizer restarts and the weights differ. */
static void resume_is_exact_with_optimizer_state(void **state) {
    const char *dir = *state; /* made by make_dir, removed by remove_dir */
    char path[PATH_MAX];
    join(path, sizeof path, dir, "checkpoint.safetensors");
    const nn_optimizer kinds[] = {NN_OPTIMIZER_ADAM, NN_OPTIMIZER_SGD, NN_OPTIMIZER_ADAMW,
                                  NN_OPTIMIZER_RMSPROP, NN_OPTIMIZER_ADAGRAD, NN_OPTIMIZER_RPROP};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        nn_test_history whole, first, second, restarted;
        nn_test_history_init(&whole);
        nn_test_history_init(&first);
        nn_test_history_init(&second);
        nn_test_history_init(&restarted);

        nn_model *reference = every_layer_model(41, kinds[k]);
        train(reference, 10, &whole);

        nn_model *model = every_layer_model(41, kinds[k]);
        train(model, 5, &first);
        NN_ASSERT_OK(nn_model_save(model, path, NN_SAVE_INCLUDE_OPTIMIZER));
        bytes without = save_buffer(model, 0);
        nn_model_free(model);

        nn_model *resumed = NULL;
        NN_ASSERT_OK(nn_model_load(path, &resumed));
        train(resumed, 5, &second);
        if (!nn_test_same_weights(reference, resumed)) fail_msg("optimizer %d: resumed training differs", (int)kinds[k]);
        assert_int_equal(second.epochs, 5);
        for (size_t e = 0; e < 5; e++) {
            assert_true(nn_test_log(&first, e, "loss") == nn_test_log(&whole, e, "loss"));
            assert_true(nn_test_log(&second, e, "loss") == nn_test_log(&whole, 5 + e, "loss"));
            assert_true(nn_test_log(&second, e, "learning_rate") ==
                        nn_test_log(&whole, 5 + e, "learning_rate"));
        }
        double lr_reference = 0, lr_resumed = 0;
        NN_ASSERT_OK(nn_model_learning_rate(reference, &lr_reference));
        NN_ASSERT_OK(nn_model_learning_rate(resumed, &lr_resumed));
        assert_true(lr_reference == lr_resumed);

        /* Without the optimizer's state the optimizer starts afresh. */
        nn_model *fresh = NULL;
        NN_ASSERT_OK(nn_model_load_from_buffer(without.data, without.size, &fresh));
        train(fresh, 5, &restarted);
        if (nn_test_same_weights(reference, fresh))
            fail_msg("optimizer %d: a restarted optimizer gave the same weights", (int)kinds[k]);

        nn_model_free(reference);
        nn_model_free(resumed);
        nn_model_free(fresh);
        bytes_free(&without);
    }
}

/* ------------------------------------------------------------------------ */
/* nn_model_save_to_buffer                                                  */
/* ------------------------------------------------------------------------ */

static void save_to_buffer_sizes(void **state) {
    (void)state;
    nn_model *model = trained_model(51);
    size_t size = 0;
    NN_ASSERT_OK(nn_model_save_to_buffer(model, 0, NULL, 0, &size));
    assert_true(size > 8);
    size_t size_opt = 0;
    NN_ASSERT_OK(nn_model_save_to_buffer(model, NN_SAVE_INCLUDE_OPTIMIZER, NULL, 0, &size_opt));
    assert_true(size_opt > size);

    /* One byte short: a shape mismatch naming both sizes, *size set, the
     * buffer untouched. */
    unsigned char *buffer = malloc(size + 64);
    assert_non_null(buffer);
    memset(buffer, 0xAB, size + 64);
    size_t got = 0;
    char want[32];
    snprintf(want, sizeof want, "%zu", size);
    NN_ASSERT_ERROR(nn_model_save_to_buffer(model, 0, buffer, size - 1, &got), NN_ERROR_SHAPE_MISMATCH,
                    want);
    assert_int_equal(got, size);
    for (size_t i = 0; i < size + 64; i++) assert_int_equal(buffer[i], 0xAB);
    got = 0;
    NN_ASSERT_ERROR(nn_model_save_to_buffer(model, 0, buffer, 1, &got), NN_ERROR_SHAPE_MISMATCH, want);
    assert_int_equal(got, size);
    /* A buffer of capacity 0 that is not NULL is too small, too. */
    got = 0;
    NN_ASSERT_ERROR(nn_model_save_to_buffer(model, 0, buffer, 0, &got), NN_ERROR_SHAPE_MISMATCH, want);
    assert_int_equal(got, size);

    /* Exactly the size works; a larger buffer gets the same bytes and
     * nothing after them. */
    got = 0;
    NN_ASSERT_OK(nn_model_save_to_buffer(model, 0, buffer, size, &got));
    assert_int_equal(got, size);
    bytes reference = save_buffer(model, 0);
    assert_memory_equal(buffer, reference.data, size);
    memset(buffer, 0xAB, size + 64);
    NN_ASSERT_OK(nn_model_save_to_buffer(model, 0, buffer, size + 64, &got));
    assert_int_equal(got, size);
    assert_memory_equal(buffer, reference.data, size);
    for (size_t i = size; i < size + 64; i++) assert_int_equal(buffer[i], 0xAB);
    /* A capacity of SIZE_MAX means "large enough". */
    NN_ASSERT_OK(nn_model_save_to_buffer(model, 0, buffer, SIZE_MAX, &got));
    assert_int_equal(got, size);
    assert_memory_equal(buffer, reference.data, size);

    /* Serializing twice gives the same bytes; a model that has not changed
     * serializes the same way after predict and evaluate. */
    float x[5 * IN];
    test_inputs(x, 5);
    free(nn_test_predict(model, x, 5, IN));
    bytes again = save_buffer(model, 0);
    assert_true(bytes_equal(&again, &reference));
    bytes_free(&again);
    /* Training changes them. */
    train(model, 1, NULL);
    again = save_buffer(model, 0);
    assert_false(bytes_equal(&again, &reference));
    bytes_free(&again);

    free(buffer);
    bytes_free(&reference);
    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Bad arguments                                                            */
/* ------------------------------------------------------------------------ */

static void save_rejects_bad_arguments(void **state) {
    const char *dir = *state; /* made by make_dir, removed by remove_dir */
    char path[PATH_MAX];
    join(path, sizeof path, dir, "model.nn");
    nn_model *model = small_model(61);
    nn_model *empty = NULL;
    NN_ASSERT_OK(nn_model_create(3, 1, &empty));
    nn_model *freed = nn_test_freed_handle();

    NN_ASSERT_ERROR(nn_model_save(NULL, path, 0), NN_ERROR_NULL_POINTER, "model");
    NN_ASSERT_ERROR(nn_model_save(freed, path, 0), NN_ERROR_INVALID_HANDLE, "model");
    NN_ASSERT_ERROR(nn_model_save(model, NULL, 0), NN_ERROR_NULL_POINTER, "path");
    NN_ASSERT_ERROR(nn_model_save(model, "", 0), NN_ERROR_INVALID_ARGUMENT, "path", "empty");
    NN_ASSERT_ERROR(nn_model_save(model, path, 2), NN_ERROR_INVALID_ARGUMENT, "flags", "0x2");
    NN_ASSERT_ERROR(nn_model_save(model, path, 3), NN_ERROR_INVALID_ARGUMENT, "flags");
    NN_ASSERT_ERROR(nn_model_save(model, path, 0x80000000u), NN_ERROR_INVALID_ARGUMENT, "flags",
                    "0x80000000", "NN_SAVE_INCLUDE_OPTIMIZER");
    NN_ASSERT_ERROR(nn_model_save(model, path, 0xFFFFFFFFu), NN_ERROR_INVALID_ARGUMENT, "flags");
    NN_ASSERT_ERROR(nn_model_save(empty, path, 0), NN_ERROR_INVALID_STATE, "layer");
    NN_ASSERT_ERROR(nn_model_save(empty, path, NN_SAVE_INCLUDE_OPTIMIZER), NN_ERROR_INVALID_STATE, "layer");
    /* None of them wrote anything. */
    assert_int_equal(dir_entries(dir, NULL, 0), 0);

    unsigned char buffer[64];
    size_t size = 12345;
    NN_ASSERT_ERROR(nn_model_save_to_buffer(NULL, 0, NULL, 0, &size), NN_ERROR_NULL_POINTER, "model");
    NN_ASSERT_ERROR(nn_model_save_to_buffer(freed, 0, NULL, 0, &size), NN_ERROR_INVALID_HANDLE, "model");
    NN_ASSERT_ERROR(nn_model_save_to_buffer(model, 0, NULL, 0, NULL), NN_ERROR_NULL_POINTER, "size");
    NN_ASSERT_ERROR(nn_model_save_to_buffer(model, 0, buffer, sizeof buffer, NULL), NN_ERROR_NULL_POINTER,
                    "size");
    NN_ASSERT_ERROR(nn_model_save_to_buffer(model, 0, NULL, 100, &size), NN_ERROR_NULL_POINTER, "buffer");
    NN_ASSERT_ERROR(nn_model_save_to_buffer(model, 2, NULL, 0, &size), NN_ERROR_INVALID_ARGUMENT, "flags");
    NN_ASSERT_ERROR(nn_model_save_to_buffer(model, 0x80000000u, NULL, 0, &size), NN_ERROR_INVALID_ARGUMENT,
                    "flags");
    NN_ASSERT_ERROR(nn_model_save_to_buffer(empty, 0, NULL, 0, &size), NN_ERROR_INVALID_STATE, "layer");
    assert_int_equal(size, 12345);

    nn_model_free(model);
    nn_model_free(empty);
}

static void load_rejects_bad_arguments(void **state) {
    const char *dir = *state; /* made by make_dir, removed by remove_dir */
    char path[PATH_MAX];
    join(path, sizeof path, dir, "model.nn");
    nn_model *model = small_model(71);
    NN_ASSERT_OK(nn_model_save(model, path, 0));
    bytes file = save_buffer(model, 0);
    nn_model *const sentinel = (nn_model *)&file;
    nn_model *out = sentinel;

    NN_ASSERT_ERROR(nn_model_load(NULL, &out), NN_ERROR_NULL_POINTER, "path");
    NN_ASSERT_ERROR(nn_model_load("", &out), NN_ERROR_INVALID_ARGUMENT, "path", "empty");
    NN_ASSERT_ERROR(nn_model_load(path, NULL), NN_ERROR_NULL_POINTER, "out");
    NN_ASSERT_ERROR(nn_model_load_from_buffer(NULL, file.size, &out), NN_ERROR_NULL_POINTER, "data");
    NN_ASSERT_ERROR(nn_model_load_from_buffer(file.data, file.size, NULL), NN_ERROR_NULL_POINTER, "out");
    /* No bytes are not a model file, whatever the pointer. */
    NN_ASSERT_ERROR(nn_model_load_from_buffer(file.data, 0, &out), NN_ERROR_INVALID_FILE, "0 bytes");
    NN_ASSERT_ERROR(nn_model_load_from_buffer(NULL, 0, &out), NN_ERROR_INVALID_FILE, "0 bytes");
    /* A size no buffer can have. */
    NN_ASSERT_ERROR(nn_model_load_from_buffer(file.data, SIZE_MAX, &out), NN_ERROR_SHAPE_MISMATCH,
                    "18446744073709551615");
    NN_ASSERT_ERROR(nn_model_load_from_buffer(file.data, (size_t)1 << 63, &out), NN_ERROR_SHAPE_MISMATCH,
                    "9223372036854775808");
    assert_ptr_equal(out, sentinel);

    /* load_weights */
    nn_model *freed = nn_test_freed_handle();
    nn_model *empty = NULL;
    NN_ASSERT_OK(nn_model_create(3, 1, &empty));
    NN_ASSERT_ERROR(nn_model_load_weights(NULL, path), NN_ERROR_NULL_POINTER, "model");
    NN_ASSERT_ERROR(nn_model_load_weights(freed, path), NN_ERROR_INVALID_HANDLE, "model");
    NN_ASSERT_ERROR(nn_model_load_weights(model, NULL), NN_ERROR_NULL_POINTER, "path");
    NN_ASSERT_ERROR(nn_model_load_weights(model, ""), NN_ERROR_INVALID_ARGUMENT, "path", "empty");
    NN_ASSERT_ERROR(nn_model_load_weights(empty, path), NN_ERROR_INVALID_STATE, "layer");
    NN_ASSERT_ERROR(nn_model_load_weights_from_buffer(NULL, file.data, file.size), NN_ERROR_NULL_POINTER,
                    "model");
    NN_ASSERT_ERROR(nn_model_load_weights_from_buffer(freed, file.data, file.size), NN_ERROR_INVALID_HANDLE,
                    "model");
    NN_ASSERT_ERROR(nn_model_load_weights_from_buffer(model, NULL, file.size), NN_ERROR_NULL_POINTER, "data");
    NN_ASSERT_ERROR(nn_model_load_weights_from_buffer(model, file.data, 0), NN_ERROR_INVALID_FILE, "0 bytes");
    NN_ASSERT_ERROR(nn_model_load_weights_from_buffer(model, NULL, 0), NN_ERROR_INVALID_FILE, "0 bytes");
    NN_ASSERT_ERROR(nn_model_load_weights_from_buffer(model, file.data, SIZE_MAX), NN_ERROR_SHAPE_MISMATCH,
                    "18446744073709551615");
    NN_ASSERT_ERROR(nn_model_load_weights_from_buffer(empty, file.data, file.size), NN_ERROR_INVALID_STATE,
                    "layer");
    /* The happy paths, for contrast. */
    NN_ASSERT_OK(nn_model_load_weights(model, path));
    NN_ASSERT_OK(nn_model_load_weights_from_buffer(model, file.data, file.size));
    NN_ASSERT_OK(nn_model_load(path, &out));
    assert_ptr_not_equal(out, sentinel);
    nn_model_free(out);

    nn_model_free(model);
    nn_model_free(empty);
    bytes_free(&file);
}

/* ------------------------------------------------------------------------ */
/* I/O errors                                                               */
/* ------------------------------------------------------------------------ */

static void io_errors_name_the_path(void **state) {
    const char *dir = *state; /* made by make_dir, removed by remove_dir */
    char path[PATH_MAX], missing_dir[PATH_MAX], names[1024];
    nn_model *model = small_model(81);
    nn_model *out = NULL;

    /* Into a directory that does not exist: the message names it and says why. */
    join(missing_dir, sizeof missing_dir, dir, "no_such_dir");
    join(path, sizeof path, missing_dir, "model.nn");
    NN_ASSERT_ERROR(nn_model_save(model, path, 0), NN_ERROR_IO, missing_dir, strerror(ENOENT));
    assert_int_equal(dir_entries(dir, NULL, 0), 0);
    /* Through a regular file. */
    char plain_file[PATH_MAX];
    join(plain_file, sizeof plain_file, dir, "plain.txt");
    write_file(plain_file, "text", 4);
    join(path, sizeof path, plain_file, "model.nn");
    NN_ASSERT_ERROR(nn_model_save(model, path, 0), NN_ERROR_IO, plain_file);
    /* A path that ends with a slash names a directory. */
    char slash[PATH_MAX + 2];
    snprintf(slash, sizeof slash, "%s/", dir);
    NN_ASSERT_ERROR(nn_model_save(model, slash, 0), NN_ERROR_IO, dir, "directory");
    /* Over an existing directory: the rename fails and the temporary file is removed. */
    char subdir[PATH_MAX];
    join(subdir, sizeof subdir, dir, "subdir");
    assert_int_equal(mkdir(subdir, 0700), 0);
    NN_ASSERT_ERROR(nn_model_save(model, subdir, 0), NN_ERROR_IO, subdir);
    assert_int_equal(dir_entries(dir, names, sizeof names), 2); /* plain.txt and subdir only */
    assert_non_null(strstr(names, "subdir"));
    assert_non_null(strstr(names, "plain.txt"));

    /* Loading a file that does not exist, and a directory. */
    join(path, sizeof path, dir, "missing.nn");
    NN_ASSERT_ERROR(nn_model_load(path, &out), NN_ERROR_IO, path, strerror(ENOENT));
    NN_ASSERT_ERROR(nn_model_load(dir, &out), NN_ERROR_IO, dir);
    NN_ASSERT_ERROR(nn_model_load(subdir, &out), NN_ERROR_IO, subdir);
    NN_ASSERT_ERROR(nn_model_load_weights(model, path), NN_ERROR_IO, path, strerror(ENOENT));
    NN_ASSERT_ERROR(nn_model_load_weights(model, dir), NN_ERROR_IO, dir);
    join(path, sizeof path, missing_dir, "model.nn");
    NN_ASSERT_ERROR(nn_model_load(path, &out), NN_ERROR_IO, path);
    assert_null(out);
    /* A file that exists but is not a model is invalid, not an I/O error. */
    NN_ASSERT_ERROR(nn_model_load(plain_file, &out), NN_ERROR_INVALID_FILE, "8-byte");
    assert_null(out);

    /* A relative path is relative to the working directory. */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(subdir), 0);
    nn_status saved = nn_model_save(model, "relative.nn", 0);
    nn_status loaded = saved == NN_OK ? nn_model_load("relative.nn", &out) : saved;
    assert_int_equal(chdir(cwd), 0);
    NN_ASSERT_OK(saved);
    NN_ASSERT_OK(loaded);
    assert_true(nn_test_same_weights(model, out));
    nn_model_free(out);
    join(path, sizeof path, subdir, "relative.nn");
    assert_true(file_exists(path));
    unlink(path);

    nn_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* Hostile files                                                            */
/* ------------------------------------------------------------------------ */

/* Fails unless loading `file` from a buffer gives NN_ERROR_INVALID_FILE with
 * a message naming `what`, leaves *out alone, and (when `target` is given)
 * nn_model_load_weights_from_buffer fails the same way without touching
 * target's weights. */
#define ASSERT_INVALID(file, what) assert_invalid(&(file), (what), NULL, #file, __FILE__, __LINE__)
#define ASSERT_INVALID_WEIGHTS(file, target, what) \
    assert_invalid(&(file), (what), (target), #file, __FILE__, __LINE__)

static void assert_invalid(const bytes *file, const char *what, nn_model *target, const char *expr,
                           const char *source, int line) {
    nn_model *const sentinel = (nn_model *)(void *)file;
    nn_model *out = sentinel;
    char label[256];
    snprintf(label, sizeof label, "nn_model_load_from_buffer(%s)", expr);
    if (target == NULL) {
        nn_test_assert_error(nn_model_load_from_buffer(file->data, file->size, &out), NN_ERROR_INVALID_FILE,
                             label, source, line, what, (const char *)NULL);
        if (out != sentinel) {
            print_error("%s wrote *out on failure\n", label);
            _fail(source, line);
        }
        return;
    }
    size_t n = 0;
    float *before = nn_test_weights(target, &n);
    snprintf(label, sizeof label, "nn_model_load_weights_from_buffer(%s)", expr);
    nn_test_assert_error(nn_model_load_weights_from_buffer(target, file->data, file->size),
                         NN_ERROR_INVALID_FILE, label, source, line, what, (const char *)NULL);
    float *after = nn_test_weights(target, NULL);
    if (memcmp(before, after, n * sizeof(float)) != 0) {
        print_error("%s changed the model's weights\n", label);
        _fail(source, line);
    }
    free(before);
    free(after);
}

/* Every proper prefix of a valid file is invalid, and the message says
 * which part is missing: the length, the header, or tensor data. */
static void truncated_files_are_invalid(void **state) {
    const char *dir = *state; /* made by make_dir, removed by remove_dir */
    char path[PATH_MAX];
    join(path, sizeof path, dir, "truncated.nn");
    nn_model *model = trained_small_model(91);
    bytes file = save_buffer(model, NN_SAVE_INCLUDE_OPTIMIZER);
    uint64_t header = get_u64le(file.data);
    assert_true(8 + header < file.size);
    nn_model *target = small_model(92);
    for (size_t n = 0; n < file.size; n++) {
        bytes cut = bytes_copy(file.data, n);
        const char *what = n < 8 ? "8-byte" : n < 8 + header ? "claims" : "past the end";
        ASSERT_INVALID(cut, what);
        ASSERT_INVALID_WEIGHTS(cut, target, what);
        /* The same through a file, for a sample of lengths. */
        if (n % 97 == 0 || n == file.size - 1) {
            write_file(path, cut.data, cut.size);
            nn_model *out = NULL;
            NN_ASSERT_ERROR(nn_model_load(path, &out), NN_ERROR_INVALID_FILE, what);
            assert_null(out);
            NN_ASSERT_ERROR(nn_model_load_weights(target, path), NN_ERROR_INVALID_FILE, what);
        }
        bytes_free(&cut);
    }
    /* The whole file is fine. */
    write_file(path, file.data, file.size);
    nn_model *out = NULL;
    NN_ASSERT_OK(nn_model_load(path, &out));
    nn_model_free(out);
    bytes_free(&file);
    nn_model_free(model);
    nn_model_free(target);
}

/* The 8-byte header length and the header itself. */
static void hostile_headers_are_invalid(void **state) {
    (void)state;
    nn_model *target = small_model(101);
    const char *header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    const float one = 1.0f;

    bytes b = st_raw((uint64_t)1 << 60, "{}", NULL, 0);
    ASSERT_INVALID(b, "1152921504606846976");
    ASSERT_INVALID_WEIGHTS(b, target, "1152921504606846976");
    bytes_free(&b);
    b = st_raw(UINT64_MAX, "{}", NULL, 0);
    ASSERT_INVALID(b, "18446744073709551615");
    ASSERT_INVALID_WEIGHTS(b, target, "18446744073709551615");
    bytes_free(&b);
    b = st_raw((uint64_t)1 << 63, header, &one, 4);
    ASSERT_INVALID(b, "9223372036854775808");
    bytes_free(&b);
    /* One byte more than the file has after the length. */
    b = st_raw(strlen(header) + 5, header, &one, 4);
    ASSERT_INVALID(b, "claims");
    ASSERT_INVALID_WEIGHTS(b, target, "claims");
    bytes_free(&b);
    /* A length that swallows the data: the header then ends in the data's
     * bytes, which are not JSON. */
    b = st_raw(strlen(header) + 4, header, &one, 4);
    ASSERT_INVALID(b, "JSON");
    bytes_free(&b);
    /* Empty, not an object, not JSON, truncated JSON, duplicate keys. */
    b = st_raw(0, "", NULL, 0);
    ASSERT_INVALID(b, "empty");
    bytes_free(&b);
    b = st_file("[]", NULL, 0);
    ASSERT_INVALID(b, "'{'");
    bytes_free(&b);
    b = st_file("  {}", NULL, 0);
    ASSERT_INVALID(b, "'{'");
    bytes_free(&b);
    b = st_file("{\"a\":", NULL, 0);
    ASSERT_INVALID(b, "not valid JSON");
    ASSERT_INVALID_WEIGHTS(b, target, "not valid JSON");
    bytes_free(&b);
    b = st_file("{not json}", NULL, 0);
    ASSERT_INVALID(b, "not valid JSON");
    bytes_free(&b);
    b = st_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                &one, 4);
    ASSERT_INVALID(b, "not valid JSON");
    bytes_free(&b);
    b = st_file("{\"a\":[1,2]}", NULL, 0);
    ASSERT_INVALID(b, "\"a\"");
    bytes_free(&b);
    b = st_file("{\"__metadata__\":[]}", NULL, 0);
    ASSERT_INVALID(b, "__metadata__");
    bytes_free(&b);
    b = st_file("{\"__metadata__\":{\"format\":1}}", NULL, 0);
    ASSERT_INVALID(b, "__metadata__");
    bytes_free(&b);
    /* Deep nesting is refused, not recursed into. */
    char deep[4096];
    size_t at = 0;
    at += (size_t)snprintf(deep, sizeof deep, "{\"a\":");
    for (int i = 0; i < 1500; i++) deep[at++] = '[';
    for (int i = 0; i < 1500; i++) deep[at++] = ']';
    deep[at++] = '}';
    deep[at] = '\0';
    b = st_file(deep, NULL, 0);
    ASSERT_INVALID(b, "JSON");
    bytes_free(&b);
    nn_model_free(target);
}

/* data_offsets: overlaps, holes, ranges past the end, spans that do not
 * match dtype and shape, negative or huge numbers. */
static void hostile_offsets_are_invalid(void **state) {
    (void)state;
    nn_model *target = small_model(111);
    unsigned char data[64] = {0};
    static const struct {
        const char *header;
        size_t data_size;
        const char *what;
    } cases[] = {
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlaps"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "overlaps"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20, "not part of any tensor"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "not part of any tensor"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, "not part of any tensor"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "past the end"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 8, "past the end"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", 12, "span"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8, "negative"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.0]}}", 8, "data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,99999999999999999999]}}", 8,
         "too large"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2305843009213693952],"
         "\"data_offsets\":[0,9223372036854775807]}}", 8, "overflows"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8,
         "overflows"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "negative"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "shape"},
        {"{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype"},
        {"{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "F33"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8, "\"x\""},
        {"{\"\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "empty name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bytes b = st_file(cases[i].header, data, cases[i].data_size);
        ASSERT_INVALID(b, cases[i].what);
        ASSERT_INVALID_WEIGHTS(b, target, cases[i].what);
        bytes_free(&b);
    }
    nn_model_free(target);
}

/* Tensors that do not fit the model: a wrong dtype or shape, a missing or
 * an extra tensor, NaN, through nn_model_load (editing a file libnn wrote)
 * and nn_model_load_weights (a file made by hand). */
static void hostile_tensors_are_invalid(void **state) {
    (void)state;
    nn_model *model = trained_small_model(121);
    bytes valid = save_buffer(model, NN_SAVE_INCLUDE_OPTIMIZER);
    nn_model *out = NULL;
    NN_ASSERT_OK(nn_model_load_from_buffer(valid.data, valid.size, &out));
    nn_model_free(out);

    /* Edits that keep every byte count, so only the model's checks can fail. */
    static const struct {
        const char *from, *to, *what;
    } edits[] = {
        {"\"0.weight\":{\"dtype\":\"F32\",\"shape\":[4,3]", "\"0.weight\":{\"dtype\":\"F32\",\"shape\":[3,4]",
         "[3, 4]"},
        {"\"0.weight\":{\"dtype\":\"F32\",\"shape\":[4,3]", "\"0.weight\":{\"dtype\":\"F32\",\"shape\":[12]",
         "0.weight"},
        {"\"0.weight\":{\"dtype\":\"F32\",\"shape\":[4,3]", "\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,2,3]",
         "0.weight"},
        {"\"0.bias\":{\"dtype\":\"F32\"", "\"0.bias\":{\"dtype\":\"I32\"", "I32"},
        {"\"0.bias\":{\"dtype\":\"F32\",\"shape\":[4]", "\"0.bias\":{\"dtype\":\"F64\",\"shape\":[2]", "F64"},
        {"\"0.bias\":{\"dtype\":\"F32\",\"shape\":[4]", "\"0.bias\":{\"dtype\":\"U8\",\"shape\":[16]", "U8"},
        {"\"2.bias\":", "\"7.bias\":", "2.bias"},
        {"\"0.weight\":", "\"0.kernel\":", "0.weight"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        bytes b = edit_header(&valid, edits[i].from, edits[i].to);
        ASSERT_INVALID(b, edits[i].what);
        bytes_free(&b);
    }
    /* An extra tensor (of zero bytes, so the data still tiles). */
    bytes extra = edit_header(&valid, "\"0.weight\":",
                              "\"extra.weight\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                              "\"0.weight\":");
    ASSERT_INVALID(extra, "extra.weight");
    bytes_free(&extra);
    /* Optimizer state for a tensor the model does not have. */
    extra = edit_header(&valid, "\"0.weight\":",
                        "\"optimizer.9.weight.exp_avg\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                        "\"0.weight\":");
    ASSERT_INVALID(extra, "optimizer.9.weight.exp_avg");
    bytes_free(&extra);
    /* NaN and infinity in a weight, NaN in the optimizer's state. */
    st_info info;
    const uint32_t nan_bits = 0x7FC00000u, inf_bits = 0x7F800000u;
    assert_true(find_tensor(&valid, "0.bias", &info));
    bytes b = bytes_copy(valid.data, valid.size);
    memcpy(b.data + info.begin + 4, &nan_bits, 4);
    ASSERT_INVALID(b, "0.bias");
    memcpy(b.data + info.begin + 4, &inf_bits, 4);
    ASSERT_INVALID(b, "0.bias");
    bytes_free(&b);
    assert_true(find_tensor(&valid, "optimizer.2.weight.exp_avg_sq", &info));
    b = bytes_copy(valid.data, valid.size);
    memcpy(b.data + info.end - 4, &nan_bits, 4);
    ASSERT_INVALID(b, "optimizer.2.weight.exp_avg_sq");
    bytes_free(&b);

    /* By hand, for load_weights: 0.weight [4,3], 0.bias [4], 2.weight [2,4], 2.bias [2]. */
    nn_model *target = small_model(122);
    float w0[12] = {0}, b0[4] = {0}, w2[8] = {0}, b2[2] = {0};
    double w0d[12] = {0};
    int32_t w0i[12] = {0};
    const st_tensor good[] = {
        {"0.weight", "F32", 2, {4, 3}, w0, sizeof w0}, {"0.bias", "F32", 1, {4}, b0, sizeof b0},
        {"2.weight", "F32", 2, {2, 4}, w2, sizeof w2}, {"2.bias", "F32", 1, {2}, b2, sizeof b2},
    };
    bytes ok = st_build(NULL, good, 4);
    NN_ASSERT_OK(nn_model_load_weights_from_buffer(target, ok.data, ok.size));
    bytes_free(&ok);
    NN_ASSERT_OK(nn_model_load_weights_from_buffer(target, valid.data, valid.size)); /* back to the model's */

    st_tensor t[5];
    memcpy(t, good, sizeof good);
    t[0] = (st_tensor){"0.weight", "F64", 2, {4, 3}, w0d, sizeof w0d};
    b = st_build(NULL, t, 4);
    ASSERT_INVALID_WEIGHTS(b, target, "F64");
    bytes_free(&b);
    t[0] = (st_tensor){"0.weight", "I32", 2, {4, 3}, w0i, sizeof w0i};
    b = st_build(NULL, t, 4);
    ASSERT_INVALID_WEIGHTS(b, target, "I32");
    bytes_free(&b);
    t[0] = (st_tensor){"0.weight", "F32", 2, {3, 4}, w0, sizeof w0};
    b = st_build(NULL, t, 4);
    ASSERT_INVALID_WEIGHTS(b, target, "[3, 4]");
    bytes_free(&b);
    t[0] = good[0];
    b = st_build(NULL, t, 3); /* no 2.bias */
    ASSERT_INVALID_WEIGHTS(b, target, "2.bias");
    bytes_free(&b);
    t[4] = (st_tensor){"4.weight", "F32", 1, {2}, b2, sizeof b2};
    b = st_build(NULL, t, 5);
    ASSERT_INVALID_WEIGHTS(b, target, "4.weight");
    bytes_free(&b);

    bytes_free(&valid);
    nn_model_free(model);
    nn_model_free(target);
}

/* Metadata: an unknown layer kind, a newer format, a file that is not
 * libnn's, broken JSON in a metadata string, missing fields. */
static void hostile_metadata_is_invalid(void **state) {
    (void)state;
    nn_model *model = trained_small_model(131);
    bytes valid = save_buffer(model, NN_SAVE_INCLUDE_OPTIMIZER);
    static const struct {
        const char *from, *to, *what;
    } edits[] = {
        {"\\\"kind\\\":\\\"Dense\\\"", "\\\"kind\\\":\\\"Conv2D\\\"", "Conv2D"},
        {"\"format_version\":\"1\"", "\"format_version\":\"2\"", "format version 2"},
        {"\"format_version\":\"1\"", "\"format_version\":\"x\"", "format_version"},
        {"\"format_version\":\"1\"", "\"format_versio\":\"1\"", "format_version"},
        {"\"format\":\"libnn\"", "\"format\":\"torch\"", "not a libnn model file"},
        {"\"format\":\"libnn\",", "", "not a libnn model file"},
        {"\"architecture\":\"{", "\"architecture\":\"{{", "architecture"},
        {"\"architecture\":", "\"architectur\":", "architecture"},
        {"\"compile\":\"{", "\"compile\":\"[", "compile"},
        {"\\\"units\\\":4", "\\\"units\\\":5", "0.weight"},
        {"\\\"units\\\":4", "\\\"units\\\":0", "units"},
        {"\\\"units\\\":4", "\\\"units\\\":4000000000", "units"},
        {"\\\"input_dim\\\":3", "\\\"input_dim\\\":-3", "input_dim"},
        {"\\\"name\\\":\\\"relu\\\"", "\\\"name\\\":\\\"swish\\\"", "swish"},
        {"\\\"kind\\\":\\\"adam\\\"", "\\\"kind\\\":\\\"lion\\\"", "lion"},
        {"\\\"kind\\\":\\\"mean_squared_error\\\"", "\\\"kind\\\":\\\"hinge\\\"", "hinge"},
        {"\\\"rng\\\":[", "\\\"rng\\\":[\\\"zz\\\",", "rng"},
        {"\\\"optimizer_step\\\":", "\\\"optimizer_steps\\\":", "optimizer_step"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        bytes b = edit_header(&valid, edits[i].from, edits[i].to);
        ASSERT_INVALID(b, edits[i].what);
        bytes_free(&b);
    }
    /* The weights of a file that is not a libnn model still load into a
     * model built to match; the model itself does not. */
    float w0[12] = {0}, b0[4] = {0}, w2[8] = {0}, b2[2] = {0};
    const st_tensor tensors[] = {
        {"0.weight", "F32", 2, {4, 3}, w0, sizeof w0}, {"0.bias", "F32", 1, {4}, b0, sizeof b0},
        {"2.weight", "F32", 2, {2, 4}, w2, sizeof w2}, {"2.bias", "F32", 1, {2}, b2, sizeof b2},
    };
    bytes torch = st_build(NULL, tensors, 4);
    ASSERT_INVALID(torch, "not a libnn model file");
    bytes_free(&torch);
    torch = st_build("{\"format\":\"pt\"}", tensors, 4);
    ASSERT_INVALID(torch, "not a libnn model file");
    NN_ASSERT_OK(nn_model_load_weights_from_buffer(model, torch.data, torch.size));
    bytes_free(&torch);
    bytes_free(&valid);
    nn_model_free(model);
}

/* 20000 copies of a valid file with 1 to 4 random bytes changed each: every
 * load gives NN_OK (a model that then predicts) or NN_ERROR_INVALID_FILE,
 * never a crash or another status; load_weights adds NN_ERROR_NON_FINITE
 * and leaves the model alone on failure. */
static void random_byte_flips_never_crash(void **state) {
    (void)state;
    nn_model *model = trained_small_model(141);
    float x[2 * 3] = {0.5f, -0.25f, 1.0f, -1.0f, 0.0f, 2.0f};
    bytes valid = save_buffer(model, NN_SAVE_INCLUDE_OPTIMIZER);
    nn_model *target = small_model(142);
    size_t n = 0;
    float *before = nn_test_weights(target, &n);
    nn_test_rng rng = {0xF11Bu};
    size_t ok = 0, invalid = 0, weights_ok = 0;
    bytes b = bytes_copy(valid.data, valid.size);
    for (int trial = 0; trial < 20000; trial++) {
        memcpy(b.data, valid.data, valid.size);
        size_t flips = 1 + (size_t)(nn_test_next(&rng) % 4);
        for (size_t f = 0; f < flips; f++) {
            size_t at = (size_t)(nn_test_next(&rng) % valid.size);
            unsigned char x8 = (unsigned char)(1 + nn_test_next(&rng) % 255);
            b.data[at] ^= x8;
        }
        nn_model *out = NULL;
        nn_status s = nn_model_load_from_buffer(b.data, b.size, &out);
        if (s == NN_OK) {
            ok++;
            assert_non_null(out);
            float p[2 * 2];
            nn_status ps = nn_model_predict(out, x, 2, 3, p, 4);
            /* The layers may have changed (a flipped width); predict may then refuse the input. */
            assert_true(ps == NN_OK || ps == NN_ERROR_SHAPE_MISMATCH);
            nn_model_free(out);
        } else {
            if (s != NN_ERROR_INVALID_FILE)
                fail_msg("trial %d: status %d (%s): %s", trial, (int)s, nn_status_string(s), nn_last_error());
            assert_true(nn_last_error()[0] != '\0');
            assert_null(out);
            invalid++;
        }
        if (trial % 4 == 0) {
            s = nn_model_load_weights_from_buffer(target, b.data, b.size);
            if (s == NN_OK) {
                weights_ok++;
                NN_ASSERT_OK(nn_model_load_weights_from_buffer(target, valid.data, valid.size));
                free(before);
                before = nn_test_weights(target, NULL);
            } else {
                if (s != NN_ERROR_INVALID_FILE && s != NN_ERROR_NON_FINITE)
                    fail_msg("trial %d: load_weights status %d (%s): %s", trial, (int)s, nn_status_string(s),
                             nn_last_error());
                float *after = nn_test_weights(target, NULL);
                assert_memory_equal(before, after, n * sizeof(float));
                free(after);
            }
        }
    }
    print_message("random byte flips: %zu loaded, %zu invalid; load_weights: %zu loaded\n", ok, invalid,
                  weights_ok);
    assert_int_equal(ok + invalid, 20000);
    assert_true(ok > 0);
    assert_true(invalid > 0);
    free(before);
    bytes_free(&b);
    bytes_free(&valid);
    nn_model_free(model);
    nn_model_free(target);
}

/* ------------------------------------------------------------------------ */
/* Weights in PyTorch's layout                                              */
/* ------------------------------------------------------------------------ */

/* torch.nn.Sequential(Linear(3, 4), ReLU(), Linear(4, 2)).state_dict(),
 * written by hand: weights [out, in], row-major. */
static const float pt_w0[4][3] = {{0.5f, -1.0f, 0.25f}, {1.5f, 0.75f, -0.5f}, {-0.25f, 0.5f, 2.0f}, {0.1f, 0.2f, 0.3f}};
static const float pt_b0[4] = {0.1f, -0.2f, 0.0f, -1.0f};
static const float pt_w2[2][4] = {{1.0f, -2.0f, 0.5f, 0.25f}, {-0.5f, 0.3f, 1.25f, -1.0f}};
static const float pt_b2[2] = {0.05f, -0.15f};

static bytes pytorch_file(const float *b2_override) {
    const st_tensor tensors[] = {
        /* Stored in another order than the model's: the names decide. */
        {"2.bias", "F32", 1, {2}, b2_override ? b2_override : pt_b2, sizeof pt_b2},
        {"0.weight", "F32", 2, {4, 3}, pt_w0, sizeof pt_w0},
        {"2.weight", "F32", 2, {2, 4}, pt_w2, sizeof pt_w2},
        {"0.bias", "F32", 1, {4}, pt_b0, sizeof pt_b0},
    };
    return st_build(NULL, tensors, 4);
}

static void assert_pytorch_predictions(nn_model *model) {
    enum { N = 6 };
    const float x[N][3] = {{0, 0, 0}, {1, 2, 3}, {-1, 0.5f, 2}, {0.3f, -0.7f, 0.9f}, {-2, -2, -2}, {4, -1, 0.5f}};
    float *p = nn_test_predict(model, &x[0][0], N, 3);
    for (size_t r = 0; r < N; r++) {
        double h[4];
        for (size_t u = 0; u < 4; u++) {
            double z = pt_b0[u];
            for (size_t i = 0; i < 3; i++) z += (double)pt_w0[u][i] * x[r][i];
            h[u] = z > 0 ? z : 0;
        }
        for (size_t o = 0; o < 2; o++) {
            double z = pt_b2[o];
            for (size_t u = 0; u < 4; u++) z += (double)pt_w2[o][u] * h[u];
            NN_ASSERT_CLOSE(p[r * 2 + o], z, 1e-5, 1e-5);
        }
    }
    free(p);
    /* The Keras kernel is the transpose of PyTorch's weight. */
    float kernel[3 * 4];
    NN_ASSERT_OK(nn_model_get_weight(model, 0, kernel, 12));
    for (size_t i = 0; i < 3; i++)
        for (size_t u = 0; u < 4; u++) assert_true(kernel[i * 4 + u] == pt_w0[u][i]);
}

static void load_weights_in_pytorch_layout(void **state) {
    const char *dir = *state; /* made by make_dir, removed by remove_dir */
    char path[PATH_MAX];
    join(path, sizeof path, dir, "model.safetensors");
    bytes file = pytorch_file(NULL);
    write_file(path, file.data, file.size);

    nn_model *model = small_model(151);
    NN_ASSERT_OK(nn_model_load_weights(model, path));
    assert_pytorch_predictions(model);
    nn_model_free(model);

    model = small_model(152);
    NN_ASSERT_OK(nn_model_load_weights_from_buffer(model, file.data, file.size));
    assert_pytorch_predictions(model);

    /* The model's own file loads back into it; so do files with tensors
     * under "optimizer." (ignored) and with metadata. */
    nn_model *other = small_model(153);
    nn_test_compile(other, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_SGD, 0.1);
    bytes own = save_buffer(model, NN_SAVE_INCLUDE_OPTIMIZER);
    NN_ASSERT_OK(nn_model_load_weights_from_buffer(other, own.data, own.size));
    assert_true(nn_test_same_weights(model, other));
    float junk[4] = {1, 2, 3, 4};
    const st_tensor with_optimizer[] = {
        {"0.weight", "F32", 2, {4, 3}, pt_w0, sizeof pt_w0}, {"0.bias", "F32", 1, {4}, pt_b0, sizeof pt_b0},
        {"2.weight", "F32", 2, {2, 4}, pt_w2, sizeof pt_w2}, {"2.bias", "F32", 1, {2}, pt_b2, sizeof pt_b2},
        {"optimizer.0.bias.momentum_buffer", "F32", 1, {4}, junk, sizeof junk},
        {"optimizer.whatever", "F32", 1, {2}, junk, 8},
    };
    bytes b = st_build("{\"source\":\"hand\"}", with_optimizer, 6);
    nn_model *third = small_model(154);
    NN_ASSERT_OK(nn_model_load_weights_from_buffer(third, b.data, b.size));
    assert_pytorch_predictions(third);
    bytes_free(&b);
    nn_model_free(third);

    nn_model_free(model);
    nn_model_free(other);
    bytes_free(&own);
    bytes_free(&file);
}

/* Any error leaves the model's weights as they were: a missing tensor, a
 * wrong shape, NaN or infinity (NN_ERROR_NON_FINITE) even in the last
 * tensor, a negative running variance, a model of another architecture. */
static void load_weights_is_all_or_nothing(void **state) {
    const char *dir = *state; /* made by make_dir, removed by remove_dir */
    char path[PATH_MAX];
    join(path, sizeof path, dir, "bad.safetensors");
    nn_model *model = small_model(161);
    size_t n = 0;
    float *before = nn_test_weights(model, &n);

    const float nan_b2[2] = {0.5f, NAN}, inf_b2[2] = {INFINITY, 0.0f}, ninf_b2[2] = {0.0f, -INFINITY};
    const float *bad[3] = {nan_b2, inf_b2, ninf_b2};
    for (int i = 0; i < 3; i++) {
        bytes b = pytorch_file(bad[i]);
        NN_ASSERT_ERROR(nn_model_load_weights_from_buffer(model, b.data, b.size), NN_ERROR_NON_FINITE, "2.bias",
                        "finite");
        write_file(path, b.data, b.size);
        NN_ASSERT_ERROR(nn_model_load_weights(model, path), NN_ERROR_NON_FINITE, "2.bias");
        bytes_free(&b);
        float *after = nn_test_weights(model, NULL);
        assert_memory_equal(before, after, n * sizeof(float));
        free(after);
    }
    const st_tensor missing[] = {
        {"0.weight", "F32", 2, {4, 3}, pt_w0, sizeof pt_w0}, {"0.bias", "F32", 1, {4}, pt_b0, sizeof pt_b0},
        {"2.weight", "F32", 2, {2, 4}, pt_w2, sizeof pt_w2},
    };
    bytes b = st_build(NULL, missing, 3);
    ASSERT_INVALID_WEIGHTS(b, model, "2.bias");
    write_file(path, b.data, b.size);
    NN_ASSERT_ERROR(nn_model_load_weights(model, path), NN_ERROR_INVALID_FILE, "2.bias");
    bytes_free(&b);
    const st_tensor misshapen[] = {
        {"0.weight", "F32", 2, {4, 3}, pt_w0, sizeof pt_w0}, {"0.bias", "F32", 1, {4}, pt_b0, sizeof pt_b0},
        {"2.weight", "F32", 2, {4, 2}, pt_w2, sizeof pt_w2}, {"2.bias", "F32", 1, {2}, pt_b2, sizeof pt_b2},
    };
    b = st_build(NULL, misshapen, 4);
    ASSERT_INVALID_WEIGHTS(b, model, "2.weight");
    bytes_free(&b);
    /* A 3 -> 5 -> 2 model's file into the 3 -> 4 -> 2 model. */
    const nn_test_layer wider_layers[] = {{5, NN_ACTIVATION_RELU}, {2, NN_ACTIVATION_LINEAR}};
    nn_model *wider = nn_test_model(3, 162, 2, wider_layers);
    bytes wide = save_buffer(wider, 0);
    ASSERT_INVALID_WEIGHTS(wide, model, "0.weight");
    bytes_free(&wide);
    nn_model_free(wider);
    /* Without the ReLU the module indices differ: "1.weight" is unknown and "2.weight" missing. */
    const nn_test_layer linear_layers[] = {{4, NN_ACTIVATION_LINEAR}, {2, NN_ACTIVATION_LINEAR}};
    nn_model *linear = nn_test_model(3, 163, 2, linear_layers);
    bytes lin = save_buffer(linear, 0);
    ASSERT_INVALID_WEIGHTS(lin, model, "2.weight");
    bytes_free(&lin);
    nn_model_free(linear);

    /* Batch normalization: a negative running variance and a num_batches_tracked that is not I64. */
    nn_model *norm = NULL;
    NN_ASSERT_OK(nn_model_create(2, 164, &norm));
    NN_ASSERT_OK(nn_model_add_batch_normalization(norm, 0.1, 1e-5));
    float *norm_before = nn_test_weights(norm, NULL);
    const float gamma[2] = {1, 2}, beta[2] = {0, 1}, mean[2] = {0.5f, -0.5f}, var[2] = {1.0f, -0.25f};
    const float good_var[2] = {1.0f, 0.25f};
    const int64_t batches = 7;
    const double batches_f64 = 7;
    st_tensor bn[] = {
        {"0.weight", "F32", 1, {2}, gamma, 8},       {"0.bias", "F32", 1, {2}, beta, 8},
        {"0.running_mean", "F32", 1, {2}, mean, 8},  {"0.running_var", "F32", 1, {2}, var, 8},
        {"0.num_batches_tracked", "I64", 0, {0}, &batches, 8},
    };
    b = st_build(NULL, bn, 5);
    ASSERT_INVALID_WEIGHTS(b, norm, "0.running_var");
    bytes_free(&b);
    bn[3].data = good_var;
    bn[4] = (st_tensor){"0.num_batches_tracked", "F64", 0, {0}, &batches_f64, 8};
    b = st_build(NULL, bn, 5);
    ASSERT_INVALID_WEIGHTS(b, norm, "num_batches_tracked");
    bytes_free(&b);
    float *norm_after = nn_test_weights(norm, NULL);
    assert_memory_equal(norm_before, norm_after, 8 * sizeof(float));
    free(norm_after);
    /* num_batches_tracked is optional for load_weights; with both it works. */
    b = st_build(NULL, bn, 4);
    NN_ASSERT_OK(nn_model_load_weights_from_buffer(norm, b.data, b.size));
    bytes_free(&b);
    bn[4] = (st_tensor){"0.num_batches_tracked", "I64", 0, {0}, &batches, 8};
    b = st_build(NULL, bn, 5);
    NN_ASSERT_OK(nn_model_load_weights_from_buffer(norm, b.data, b.size));
    bytes_free(&b);
    float stats[2];
    NN_ASSERT_OK(nn_model_get_weight(norm, 3, stats, 2));
    assert_memory_equal(stats, good_var, sizeof stats);
    free(norm_before);
    nn_model_free(norm);

    float *after = nn_test_weights(model, NULL);
    assert_memory_equal(before, after, n * sizeof(float));
    free(after);
    free(before);
    nn_model_free(model);
}

/* load_weights keeps the optimizer's state, as nn_model_set_weight does:
 * after replacing the weights, training continues exactly as a model
 * whose weights were set one by one, and differs from a fresh optimizer. */
static void load_weights_keeps_optimizer_state(void **state) {
    (void)state;
    float x[ROWS * 3], y[ROWS * 2];
    nn_test_rng rng = {171};
    nn_test_fill(&rng, x, ROWS * 3, -1.0f, 1.0f);
    nn_test_fill(&rng, y, ROWS * 2, -1.0f, 1.0f);
    nn_fit_options o = nn_test_fit_options(2, BATCH, 0);

    nn_model *a = small_model(172);
    nn_test_compile(a, NN_LOSS_MEAN_SQUARED_ERROR, 0, NN_OPTIMIZER_ADAM, 0.01);
    NN_ASSERT_OK(nn_model_fit(a, x, y, ROWS, 3, 2, &o));
    bytes early = save_buffer(a, 0);         /* weights after 2 epochs */
    NN_ASSERT_OK(nn_model_fit(a, x, y, ROWS, 3, 2, &o));
    bytes late = save_buffer(a, NN_SAVE_INCLUDE_OPTIMIZER); /* 4 epochs, with Adam's state */

    /* b: the late model, its weights replaced by load_weights. */
    nn_model *b = NULL;
    NN_ASSERT_OK(nn_model_load_from_buffer(late.data, late.size, &b));
    NN_ASSERT_OK(nn_model_load_weights_from_buffer(b, early.data, early.size));
    /* c: the late model, its weights replaced by set_weight. */
    nn_model *c = NULL, *e = NULL;
    NN_ASSERT_OK(nn_model_load_from_buffer(late.data, late.size, &c));
    NN_ASSERT_OK(nn_model_load_from_buffer(early.data, early.size, &e)); /* early weights, fresh Adam */
    for (size_t i = 0; i < 4; i++) {
        size_t count = nn_test_weight_size(e, i);
        float values[16];
        assert_true(count <= 16);
        NN_ASSERT_OK(nn_model_get_weight(e, i, values, count));
        nn_test_set_weight(c, i, values, count);
    }
    assert_true(nn_test_same_weights(b, c));
    assert_true(nn_test_same_weights(b, e));
    NN_ASSERT_OK(nn_model_fit(b, x, y, ROWS, 3, 2, &o));
    NN_ASSERT_OK(nn_model_fit(c, x, y, ROWS, 3, 2, &o));
    NN_ASSERT_OK(nn_model_fit(e, x, y, ROWS, 3, 2, &o));
    assert_true(nn_test_same_weights(b, c));
    assert_false(nn_test_same_weights(b, e));

    nn_model_free(a);
    nn_model_free(b);
    nn_model_free(c);
    nn_model_free(e);
    bytes_free(&early);
    bytes_free(&late);
}

/* ------------------------------------------------------------------------ */
/* Saves killed halfway                                                     */
/* ------------------------------------------------------------------------ */

/* 784 -> Dense(256, relu) -> Dense(10, softmax): about 800 KB, so a save
 * takes long enough to be interrupted. */
static nn_model *mnist_model(uint64_t seed) {
    const nn_test_layer layers[] = {{256, NN_ACTIVATION_RELU}, {10, NN_ACTIVATION_SOFTMAX}};
    return nn_test_model(784, seed, 2, layers);
}

/* Reads one byte from fd, waiting at most timeout_ms. 1: read; 0: end of
 * file (the writer is gone); -1: timeout or error. */
static int read_byte(int fd, int timeout_ms) {
    struct pollfd p = {fd, POLLIN, 0};
    int r;
    do r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r <= 0) return -1;
    char c;
    ssize_t n;
    do n = read(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    return n == 1 ? 1 : n == 0 ? 0 : -1;
}

/* A child process saves two different models to the same path, one after
 * the other, in a loop; the parent kills it with SIGKILL at a random moment
 * (after it has completed 0, 1 or 2 saves, plus a random delay). Each time
 * the file must load and hold one of the two models; only temporary files
 * named after the killed writer may be left beside it. */
static void killed_saves_leave_a_complete_file(void **state) {
    const char *dir = *state; /* made by make_dir, removed by remove_dir */
    enum { TRIALS = 30 };
    char path[PATH_MAX];
    join(path, sizeof path, dir, "model.nn");
    nn_model *models[2] = {mnist_model(181), mnist_model(182)};
    size_t n = 0;
    float *w[2] = {nn_test_weights(models[0], &n), nn_test_weights(models[1], NULL)};
    assert_true(memcmp(w[0], w[1], n * sizeof(float)) != 0);
    NN_ASSERT_OK(nn_model_save(models[0], path, 0));

    nn_test_rng rng = {0xC0FFEEu};
    size_t seen[2] = {0, 0}, leftovers = 0, completed_total = 0;
    for (int trial = 0; trial < TRIALS; trial++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            /* The child: no cmocka here, only _exit. */
            close(fds[0]);
            alarm(120); /* never outlives a stuck parent */
            for (unsigned long i = 0; i < 1000000; i++) {
                if (nn_model_save(models[(i + 1) % 2], path, 0) != NN_OK) _exit(3);
                char c = 's';
                if (write(fds[1], &c, 1) != 1) _exit(4);
            }
            _exit(0);
        }
        close(fds[1]);
        size_t want = (size_t)trial % 3, completed = 0;
        int alive = 1;
        while (completed < want) {
            int r = read_byte(fds[0], 60000);
            if (r != 1) {
                alive = 0;
                break;
            }
            completed++;
        }
        /* 200 microseconds to 5 milliseconds more. */
        long delay_ns = 200000 + (long)(nn_test_next(&rng) % 4800000);
        struct timespec ts = {0, delay_ns};
        if (alive) nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        pid_t waited;
        do waited = waitpid(pid, &status, 0);
        while (waited < 0 && errno == EINTR);
        assert_int_equal(waited, pid);
        /* Count the saves it completed (the pipe is at end of file now). */
        while (read_byte(fds[0], 1000) == 1) completed++;
        close(fds[0]);
        completed_total += completed;
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            fail_msg("trial %d: the saving child ended by itself (status 0x%x)", trial, status);

        nn_model *loaded = NULL;
        nn_status s = nn_model_load(path, &loaded);
        if (s != NN_OK)
            fail_msg("trial %d (killed after %zu saves and %ld ns): %s: %s", trial, completed, delay_ns,
                     nn_status_string(s), nn_last_error());
        size_t m = 0;
        float *got = nn_test_weights(loaded, &m);
        assert_int_equal(m, n);
        int which = memcmp(got, w[0], n * sizeof(float)) == 0 ? 0 : memcmp(got, w[1], n * sizeof(float)) == 0 ? 1 : -1;
        if (which < 0) fail_msg("trial %d: the file holds weights of neither model", trial);
        seen[which]++;
        free(got);
        nn_model_free(loaded);

        /* Only the target and the killed writer's temporary files: ".model.nn.<pid>.*.tmp". */
        char prefix[64];
        snprintf(prefix, sizeof prefix, ".model.nn.%ld.", (long)pid);
        DIR *d = opendir(dir);
        assert_non_null(d);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            const char *name = e->d_name;
            if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strcmp(name, "model.nn") == 0) continue;
            size_t len = strlen(name);
            if (strncmp(name, prefix, strlen(prefix)) != 0 || len < 4 || strcmp(name + len - 4, ".tmp") != 0)
                fail_msg("trial %d: unexpected file %s beside the model", trial, name);
            char leftover[PATH_MAX];
            join(leftover, sizeof leftover, dir, name);
            assert_int_equal(unlink(leftover), 0);
            leftovers++;
        }
        closedir(d);
    }
    print_message("killed saves: the file held model A %zu times, model B %zu times; %zu saves completed; "
                  "%zu temporary files left\n", seen[0], seen[1], completed_total, leftovers);
    assert_int_equal(seen[0] + seen[1], TRIALS);
    assert_true(completed_total >= TRIALS); /* 0 + 1 + 2 per 3 trials at least */
    free(w[0]);
    free(w[1]);
    nn_model_free(models[0]);
    nn_model_free(models[1]);
}

/* ------------------------------------------------------------------------ */
/* The model's configuration (nn_model_config)                              */
/* ------------------------------------------------------------------------ */

/* nn_model_config's whole text, asked for as a binding does: the size first. */
static char *config_text(const nn_model *model) {
    size_t length = 0;
    NN_ASSERT_OK(nn_model_config(model, NULL, 0, &length));
    assert_true(length > 0);
    char *text = malloc(length + 1);
    assert_non_null(text);
    memset(text, 'x', length + 1);
    size_t again = 0;
    NN_ASSERT_OK(nn_model_config(model, text, length + 1, &again));
    assert_int_equal(again, length);
    assert_int_equal(strlen(text), length);
    return text;
}

static void assert_contains(const char *text, const char *needle) {
    if (!strstr(text, needle)) fail_msg("the configuration lacks %s:\n%s", needle, text);
}

/* The JSON lists every layer with its settings, the compile settings with
 * the optimizer's hyper-parameters, and the Keras layer names; training
 * does not change it, and a loaded model has the saved one's. */
static void config_describes_layers_and_compile_settings(void **state) {
    (void)state;
    nn_model *model = every_layer_model(41, NN_OPTIMIZER_SGD);
    char *text = config_text(model);
    /* Compact, members sorted: "architecture" comes first. */
    const char *start = "{\"architecture\":{\"input_dim\":6,\"layers\":[";
    assert_true(strncmp(text, start, strlen(start)) == 0);
    assert_true(text[strlen(text) - 1] == '}');
    assert_contains(text, "\"format\":1");
    assert_contains(text, "\"seed\":\"41\"");
    assert_contains(text, "\"bias_initializer\":{\"name\":\"constant\",\"value\":0.1}");
    assert_contains(text, "\"kernel_initializer\":{\"name\":\"he_normal\",\"value\":null}");
    assert_contains(text, "\"kernel_regularizer\":{\"l1\":0.0,\"l2\":0.001},\"kind\":\"Dense\",\"units\":8}");
    assert_contains(text, "{\"epsilon\":0.001,\"kind\":\"BatchNormalization\",\"momentum\":0.1}");
    assert_contains(text, "{\"activation\":{\"name\":\"leaky_relu\",\"parameter\":0.1},\"kind\":\"Activation\"}");
    assert_contains(text, "{\"kind\":\"Dropout\",\"rate\":0.25}");
    assert_contains(text, "{\"activation\":{\"name\":\"softmax\",\"parameter\":null}");
    assert_contains(text, "\"kind\":\"Dense\",\"units\":3}");
    assert_contains(text, "\"loss\":{\"delta\":1.0,\"from_logits\":false,\"kind\":\"categorical_crossentropy\"}");
    assert_contains(text, "\"metrics\":[{\"kind\":\"accuracy\",\"parameter\":null},"
                          "{\"kind\":\"top_k_accuracy\",\"parameter\":2.0}]");
    assert_contains(text, "\"kind\":\"sgd\",\"learning_rate\":0.05");
    assert_contains(text, "\"momentum\":0.9,\"nesterov\":true");
    assert_contains(text, "\"schedule\":{\"gamma\":0.9,\"kind\":\"exponential\"}");
    assert_contains(text, "\"layer_names\":[\"dense\",\"batch_normalization\",\"activation\","
                          "\"dropout\",\"dense_1\"]");
    assert_null(strstr(text, "training"));
    assert_null(strstr(text, "optimizer."));

    train(model, 2, NULL);
    char *trained = config_text(model);
    assert_string_equal(trained, text);
    bytes saved = save_buffer(model, NN_SAVE_INCLUDE_OPTIMIZER);
    nn_model *loaded = NULL;
    NN_ASSERT_OK(nn_model_load_from_buffer(saved.data, saved.size, &loaded));
    char *loaded_text = config_text(loaded);
    assert_string_equal(loaded_text, text);

    /* Not compiled and without layers: nulls and empty lists. */
    nn_model *bare = NULL;
    NN_ASSERT_OK(nn_model_create(3, 7, &bare));
    char *bare_text = config_text(bare);
    assert_string_equal(bare_text,
                        "{\"architecture\":{\"input_dim\":3,\"layers\":[],\"seed\":\"7\"},"
                        "\"compile\":{\"loss\":null,\"metrics\":[],\"optimizer\":null,\"schedule\":null},"
                        "\"format\":1,\"layer_names\":[]}");

    free(text);
    free(trained);
    free(loaded_text);
    free(bare_text);
    bytes_free(&saved);
    nn_model_free(model);
    nn_model_free(loaded);
    nn_model_free(bare);
}

/* Written as nn_model_summary writes its text: truncated to capacity - 1
 * bytes and NUL-terminated, *length the full length (and optional); a NULL
 * model, a stale handle or a NULL buffer with room are errors that write
 * nothing. */
static void config_buffer_sizes_and_bad_arguments(void **state) {
    (void)state;
    nn_model *model = small_model(42);
    char *full = config_text(model);
    size_t length = strlen(full);
    char small[11];
    memset(small, 'x', sizeof small);
    size_t n = 0;
    NN_ASSERT_OK(nn_model_config(model, small, sizeof small, &n));
    assert_int_equal(n, length);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_true(strncmp(small, full, sizeof small - 1) == 0);
    char *short_by_one = malloc(length);
    assert_non_null(short_by_one);
    NN_ASSERT_OK(nn_model_config(model, short_by_one, length, &n));
    assert_int_equal(n, length);
    assert_int_equal(strlen(short_by_one), length - 1);
    assert_true(strncmp(short_by_one, full, length - 1) == 0);
    char one = 'x';
    NN_ASSERT_OK(nn_model_config(model, &one, 1, &n));
    assert_true(one == '\0');
    char *whole = malloc(length + 1);
    assert_non_null(whole);
    NN_ASSERT_OK(nn_model_config(model, whole, length + 1, NULL));
    assert_string_equal(whole, full);
    /* A capacity of 2^63 or more means "more than enough". */
    memset(whole, 'x', length + 1);
    NN_ASSERT_OK(nn_model_config(model, whole, SIZE_MAX, &n));
    assert_string_equal(whole, full);

    n = 12345;
    NN_ASSERT_ERROR(nn_model_config(model, NULL, 10, &n), NN_ERROR_NULL_POINTER, "buffer");
    NN_ASSERT_ERROR(nn_model_config(NULL, whole, length + 1, &n), NN_ERROR_NULL_POINTER, "model");
    NN_ASSERT_ERROR(nn_model_config(NULL, NULL, 0, NULL), NN_ERROR_NULL_POINTER, "model");
    NN_ASSERT_ERROR(nn_model_config(nn_test_freed_handle(), whole, length + 1, &n),
                    NN_ERROR_INVALID_HANDLE, "handle");
    assert_int_equal(n, 12345);
    assert_string_equal(whole, full);

    free(full);
    free(short_by_one);
    free(whole);
    nn_model_free(model);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(round_trip_through_file, make_dir, remove_dir),
    cmocka_unit_test(round_trip_through_buffer),
    cmocka_unit_test(file_layout_is_a_pytorch_state_dict),
    cmocka_unit_test_setup_teardown(resume_is_exact_with_optimizer_state, make_dir, remove_dir),
    cmocka_unit_test(save_to_buffer_sizes),
    cmocka_unit_test_setup_teardown(save_rejects_bad_arguments, make_dir, remove_dir),
    cmocka_unit_test_setup_teardown(load_rejects_bad_arguments, make_dir, remove_dir),
    cmocka_unit_test_setup_teardown(io_errors_name_the_path, make_dir, remove_dir),
    cmocka_unit_test_setup_teardown(truncated_files_are_invalid, make_dir, remove_dir),
    cmocka_unit_test(hostile_headers_are_invalid),
    cmocka_unit_test(hostile_offsets_are_invalid),
    cmocka_unit_test(hostile_tensors_are_invalid),
    cmocka_unit_test(hostile_metadata_is_invalid),
    cmocka_unit_test(random_byte_flips_never_crash),
    cmocka_unit_test_setup_teardown(load_weights_in_pytorch_layout, make_dir, remove_dir),
    cmocka_unit_test_setup_teardown(load_weights_is_all_or_nothing, make_dir, remove_dir),
    cmocka_unit_test(load_weights_keeps_optimizer_state),
    cmocka_unit_test_setup_teardown(killed_saves_leave_a_complete_file, make_dir, remove_dir),
    cmocka_unit_test(config_describes_layers_and_compile_settings),
    cmocka_unit_test(config_buffer_sizes_and_bad_arguments),
};

NN_TEST_MAIN("serialization", tests)
