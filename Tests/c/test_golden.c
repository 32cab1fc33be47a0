/*
 * The golden oracle shared with swift test and pytest (Tests/golden, format
 * in Tests/golden/README.md): for every .txt file in Tests/golden, build the model
 * through the C ABI, set its initial weights, and compare
 *   - nn_model_predict with `out`             (1e-5 relative and absolute)
 *   - nn_model_evaluate's loss with `loss`    (1e-5 relative and absolute)
 *   - the weights after one SGD epoch with *_step (absolute 1e-5): learning
 *     rate from the file, momentum 0, batch_size = rows, no shuffling.
 *
 * The directory is $NN_GOLDEN_DIR, else the one CMake compiled in. Each file
 * is one cmocka test, named after the file.
 */
#include "nn_test.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef NN_GOLDEN_DIR
#define NN_GOLDEN_DIR "Tests/golden"
#endif

enum { MAX_LAYERS = 16, MAX_TENSORS = 64, NAME_LEN = 64 };

typedef struct tensor {
    char name[NAME_LEN];
    size_t rows, cols;
    float *f;     /* values read as float32 (exact for the inputs) */
    double *d;    /* values read as double (for the expected results) */
} tensor;

typedef struct golden {
    char path[1024];
    size_t input_dim;
    size_t n_layers;
    size_t units[MAX_LAYERS];
    nn_activation activation[MAX_LAYERS];
    nn_loss loss;
    int have_loss, have_lr, have_scalar_loss;
    double lr;
    double scalar_loss;
    size_t n_tensors;
    tensor tensors[MAX_TENSORS];
} golden;

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */
/* ------------------------------------------------------------------------ */

static int parse_activation(const char *s, nn_activation *out) {
    static const struct {
        const char *name;
        nn_activation value;
    } table[] = {{"linear", NN_ACTIVATION_LINEAR}, {"sigmoid", NN_ACTIVATION_SIGMOID},
                 {"tanh", NN_ACTIVATION_TANH},     {"relu", NN_ACTIVATION_RELU},
                 {"softmax", NN_ACTIVATION_SOFTMAX}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(s, table[i].name) == 0) {
            *out = table[i].value;
            return 1;
        }
    return 0;
}

static int parse_loss(const char *s, nn_loss *out) {
    static const struct {
        const char *name;
        nn_loss value;
    } table[] = {{"mean_squared_error", NN_LOSS_MEAN_SQUARED_ERROR},
                 {"binary_crossentropy", NN_LOSS_BINARY_CROSSENTROPY},
                 {"categorical_crossentropy", NN_LOSS_CATEGORICAL_CROSSENTROPY},
                 {"sparse_categorical_crossentropy", NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(s, table[i].name) == 0) {
            *out = table[i].value;
            return 1;
        }
    return 0;
}

/* Reads one line (any length) into *buf; returns 0 at end of file. */
static int read_line(FILE *f, char **buf, size_t *cap) {
    size_t len = 0;
    int c;
    while ((c = fgetc(f)) != EOF && c != '\n') {
        if (len + 2 > *cap) {
            *cap = *cap ? 2 * *cap : 256;
            *buf = realloc(*buf, *cap);
            assert_non_null(*buf);
        }
        (*buf)[len++] = (char)c;
    }
    if (c == EOF && len == 0) return 0;
    if (*cap == 0) {
        *cap = 256;
        *buf = realloc(*buf, *cap);
        assert_non_null(*buf);
    }
    (*buf)[len] = '\0';
    if (len > 0 && (*buf)[len - 1] == '\r') (*buf)[len - 1] = '\0';
    return 1;
}

static void parse_file(golden *g, const char *path) {
    memset(g, 0, sizeof *g);
    snprintf(g->path, sizeof g->path, "%s", path);
    FILE *f = fopen(path, "r");
    if (f == NULL) fail_msg("cannot open %s", path);
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    while (read_line(f, &line, &cap)) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '\0' || *p == '#') continue;
        char key[32], a[NAME_LEN], b[NAME_LEN];
        size_t r = 0, c = 0;
        if (sscanf(p, "%31s", key) != 1) fail_msg("%s:%d: unreadable line", path, lineno);
        if (strcmp(key, "input_dim") == 0) {
            if (sscanf(p, "%*s %zu", &g->input_dim) != 1) fail_msg("%s:%d: bad input_dim", path, lineno);
        } else if (strcmp(key, "layer") == 0) {
            if (g->n_layers == MAX_LAYERS) fail_msg("%s:%d: too many layers", path, lineno);
            if (sscanf(p, "%*s %zu %63s", &g->units[g->n_layers], a) != 2 ||
                !parse_activation(a, &g->activation[g->n_layers]))
                fail_msg("%s:%d: bad layer line", path, lineno);
            g->n_layers++;
        } else if (strcmp(key, "loss") == 0) {
            if (sscanf(p, "%*s %63s", a) != 1 || !parse_loss(a, &g->loss))
                fail_msg("%s:%d: bad loss", path, lineno);
            g->have_loss = 1;
        } else if (strcmp(key, "lr") == 0) {
            if (sscanf(p, "%*s %lf", &g->lr) != 1) fail_msg("%s:%d: bad lr", path, lineno);
            g->have_lr = 1;
        } else if (strcmp(key, "scalar") == 0) {
            if (sscanf(p, "%*s %63s %63s", a, b) != 2) fail_msg("%s:%d: bad scalar", path, lineno);
            if (strcmp(a, "loss") != 0) fail_msg("%s:%d: unknown scalar %s", path, lineno, a);
            char *end = NULL;
            g->scalar_loss = strtod(b, &end);
            if (end == b || *end != '\0') fail_msg("%s:%d: bad scalar value", path, lineno);
            g->have_scalar_loss = 1;
        } else if (strcmp(key, "tensor") == 0) {
            if (sscanf(p, "%*s %63s %zu %zu", a, &r, &c) != 3 || r == 0 || c == 0)
                fail_msg("%s:%d: bad tensor header", path, lineno);
            if (g->n_tensors == MAX_TENSORS) fail_msg("%s:%d: too many tensors", path, lineno);
            tensor *t = &g->tensors[g->n_tensors++];
            snprintf(t->name, sizeof t->name, "%s", a);
            t->rows = r;
            t->cols = c;
            t->f = malloc(r * c * sizeof *t->f);
            t->d = malloc(r * c * sizeof *t->d);
            assert_non_null(t->f);
            assert_non_null(t->d);
            if (!read_line(f, &line, &cap)) fail_msg("%s: tensor %s has no values", path, a);
            lineno++;
            char *s = line;
            for (size_t i = 0; i < r * c; i++) {
                char *end = NULL;
                t->d[i] = strtod(s, &end);
                if (end == s) fail_msg("%s:%d: tensor %s: value %zu missing", path, lineno, a, i);
                t->f[i] = strtof(s, NULL);
                s = end;
            }
            while (*s == ' ' || *s == '\t') s++;
            if (*s != '\0') fail_msg("%s:%d: tensor %s has more than %zu values", path, lineno, a, r * c);
        } else {
            fail_msg("%s:%d: unknown keyword '%s'", path, lineno, key);
        }
    }
    free(line);
    fclose(f);
    if (g->input_dim == 0 || g->n_layers == 0 || !g->have_loss || !g->have_lr ||
        !g->have_scalar_loss)
        fail_msg("%s: missing input_dim, layer, loss, lr or scalar loss", path);
}

static void free_golden(golden *g) {
    for (size_t i = 0; i < g->n_tensors; i++) {
        free(g->tensors[i].f);
        free(g->tensors[i].d);
    }
}

static const tensor *find(const golden *g, const char *name, size_t rows, size_t cols) {
    for (size_t i = 0; i < g->n_tensors; i++) {
        const tensor *t = &g->tensors[i];
        if (strcmp(t->name, name) == 0) {
            if (t->rows != rows || t->cols != cols)
                fail_msg("%s: tensor %s is %zux%zu, expected %zux%zu", g->path, name, t->rows,
                         t->cols, rows, cols);
            return t;
        }
    }
    fail_msg("%s: no tensor %s", g->path, name);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* The checks                                                               */
/* ------------------------------------------------------------------------ */

static void check_golden(void **state) {
    const char *path = *state;
    golden *g = malloc(sizeof *g);
    assert_non_null(g);
    parse_file(g, path);

    const size_t outputs = g->units[g->n_layers - 1];
    const tensor *x = NULL;
    for (size_t i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, "x") == 0) x = &g->tensors[i];
    if (x == NULL) fail_msg("%s: no tensor x", path);
    const size_t rows = x->rows;
    find(g, "x", rows, g->input_dim);
    const size_t y_cols =
        g->loss == NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? 1 : outputs;
    const tensor *y = find(g, "y", rows, y_cols);
    const tensor *out = find(g, "out", rows, outputs);

    /* The model. */
    nn_model *model = NULL;
    NN_ASSERT_OK(nn_model_create(g->input_dim, 1, &model));
    for (size_t l = 0; l < g->n_layers; l++)
        NN_ASSERT_OK(nn_model_add_dense(model, g->units[l], g->activation[l]));
    NN_ASSERT_OK(nn_model_set_loss(model, g->loss, 0));
    nn_optimizer_options sgd;
    NN_ASSERT_OK(nn_optimizer_options_init(&sgd, NN_OPTIMIZER_SGD));
    sgd.learning_rate = g->lr;
    sgd.momentum = 0;
    NN_ASSERT_OK(nn_model_set_optimizer(model, &sgd));

    /* Initial weights w<i>, b<i>, checked against the model's shapes. */
    size_t in = g->input_dim;
    for (size_t l = 0; l < g->n_layers; l++) {
        char name[NAME_LEN];
        snprintf(name, sizeof name, "w%zu", l);
        const tensor *w = find(g, name, in, g->units[l]);
        snprintf(name, sizeof name, "b%zu", l);
        const tensor *b = find(g, name, 1, g->units[l]);
        assert_int_equal(nn_test_weight_size(model, 2 * l), in * g->units[l]);
        assert_int_equal(nn_test_weight_size(model, 2 * l + 1), g->units[l]);
        NN_ASSERT_OK(nn_model_set_weight(model, 2 * l, w->f, in * g->units[l]));
        NN_ASSERT_OK(nn_model_set_weight(model, 2 * l + 1, b->f, g->units[l]));
        in = g->units[l];
    }

    /* predict */
    float *p = malloc(rows * outputs * sizeof *p);
    assert_non_null(p);
    NN_ASSERT_OK(nn_model_predict(model, x->f, rows, g->input_dim, p, rows * outputs));
    for (size_t i = 0; i < rows * outputs; i++) {
        double want = out->d[i];
        if (!(fabs(p[i] - want) <= 1e-5 + 1e-5 * fabs(want)))
            fail_msg("%s: out[%zu][%zu] = %.9g, golden %.9g", path, i / outputs, i % outputs,
                     (double)p[i], want);
    }
    free(p);

    /* evaluate */
    double loss = 0;
    NN_ASSERT_OK(nn_model_evaluate(model, x->f, y->f, rows, g->input_dim, y_cols, &loss, 1));
    if (!(fabs(loss - g->scalar_loss) <= 1e-5 + 1e-5 * fabs(g->scalar_loss)))
        fail_msg("%s: loss %.9g, golden %.9g", path, loss, g->scalar_loss);

    /* One SGD step on the whole batch. */
    nn_fit_options fit;
    nn_fit_options_init(&fit);
    fit.epochs = 1;
    fit.batch_size = rows;
    fit.shuffle = 0;
    NN_ASSERT_OK(nn_model_fit(model, x->f, y->f, rows, g->input_dim, y_cols, &fit));
    in = g->input_dim;
    for (size_t l = 0; l < g->n_layers; l++) {
        for (int is_bias = 0; is_bias <= 1; is_bias++) {
            char name[NAME_LEN];
            snprintf(name, sizeof name, "%c%zu_step", is_bias ? 'b' : 'w', l);
            size_t r = is_bias ? 1 : in, c = g->units[l];
            const tensor *want = find(g, name, r, c);
            float *got = malloc(r * c * sizeof *got);
            assert_non_null(got);
            NN_ASSERT_OK(nn_model_get_weight(model, 2 * l + (size_t)is_bias, got, r * c));
            for (size_t i = 0; i < r * c; i++)
                if (!(fabs(got[i] - want->d[i]) <= 1e-5))
                    fail_msg("%s: %s[%zu] = %.9g after one SGD step, golden %.9g", path, name, i,
                             (double)got[i], want->d[i]);
            free(got);
        }
        in = g->units[l];
    }

    nn_model_free(model);
    free_golden(g);
    free(g);
}

/* ------------------------------------------------------------------------ */
/* Discovery                                                                */
/* ------------------------------------------------------------------------ */

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    const char *dir = getenv("NN_GOLDEN_DIR");
    if (dir == NULL || dir[0] == '\0') dir = NN_GOLDEN_DIR;
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "test_golden: cannot open the golden directory %s\n", dir);
        return 1;
    }
    size_t n = 0, cap = 16;
    char **files = malloc(cap * sizeof *files);
    struct dirent *e;
    while (files != NULL && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".txt") != 0) continue;
        if (n == cap) {
            cap *= 2;
            files = realloc(files, cap * sizeof *files);
            if (files == NULL) break;
        }
        files[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (files == NULL) return 1;
    if (n == 0) {
        fprintf(stderr, "test_golden: no *.txt golden files in %s\n", dir);
        return 1;
    }
    qsort(files, n, sizeof *files, by_name);

    struct CMUnitTest *tests = calloc(n, sizeof *tests);
    char **paths = calloc(n, sizeof *paths);
    if (tests == NULL || paths == NULL) return 1;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(dir) + strlen(files[i]) + 2;
        paths[i] = malloc(len);
        if (paths[i] == NULL) return 1;
        snprintf(paths[i], len, "%s/%s", dir, files[i]);
        tests[i].name = files[i];
        tests[i].test_func = check_golden;
        tests[i].initial_state = paths[i];
    }
    printf("golden files in %s: %zu\n", dir, n);
    int failed = nn_test_main(argc, argv, "golden", tests, n);
    for (size_t i = 0; i < n; i++) {
        free(paths[i]);
        free(files[i]);
    }
    free(paths);
    free(files);
    free(tests);
    return failed;
}
