/*
 * nn.h — the C interface of libnn, a small neural-network library.
 *
 * This header is the contract and the reference documentation of libnn.
 * Everything a C program (or a binding) can do with the library is declared
 * here; nothing else is exported from libnn.so.
 *
 * Conventions
 * -----------
 * - Every fallible function returns an nn_status. NN_OK (0) means success;
 *   any other value names the cause, and nn_last_error() returns a message
 *   for people (for example "expected 20 input columns, got 19").
 *   Results go through out-parameters, which come last. An out-parameter
 *   is written only on success.
 * - Matrices are row-major float32 arrays described by a pointer, a number
 *   of rows and a number of columns. Sizes are size_t. A row count times a
 *   column count that overflows size_t is an NN_ERROR_SHAPE_MISMATCH.
 * - Ownership: the caller owns every buffer it passes. libnn keeps no
 *   pointer to a caller's buffer after a call returns, unless the
 *   declaration says otherwise. Handles (nn_model) are owned by the caller
 *   from the moment a *_create or *_load call returns them until the
 *   matching *_free. Every *_free accepts NULL.
 * - Handles are checked: a pointer that is not a live handle of the right
 *   kind (never created, already freed) gives NN_ERROR_INVALID_HANDLE
 *   instead of undefined behaviour.
 * - Option structs start with struct_size and have an *_init function that
 *   fills in the defaults. Always call the init function first: it lets a
 *   newer libnn append fields without breaking programs built against an
 *   older nn.h.
 *
 * Threading
 * ---------
 * One handle is used by one thread at a time; distinct handles may be used
 * from different threads in parallel. nn_last_error() is per thread.
 * Callbacks run on the thread that called the function that takes them.
 *
 * Errors never abort the host process: bad input (NULL pointers, wrong
 * sizes, unknown enum values, NaN or infinity in training data, calls in the
 * wrong order) is reported through the returned status.
 */
#ifndef NN_H
#define NN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

/** Version of this header. Compare with nn_version() to detect a mismatch
 *  between the header a program was built with and the library it runs on. */
#define NN_VERSION_MAJOR 0
#define NN_VERSION_MINOR 1
#define NN_VERSION_PATCH 0
/** The same version as a string literal, "MAJOR.MINOR.PATCH". */
#define NN_VERSION_STRING "0.1.0"

/** Marks a function whose status result must not be ignored. */
#if defined(__cplusplus) && __cplusplus >= 201703L
#define NN_NODISCARD [[nodiscard]]
#elif defined(__GNUC__) || defined(__clang__)
#define NN_NODISCARD __attribute__((warn_unused_result))
#else
#define NN_NODISCARD
#endif

/** The version of the library that is running, as "MAJOR.MINOR.PATCH".
 *  The string is static; never free it. */
const char *nn_version(void);

/* ------------------------------------------------------------------------ */
/* Status and errors                                                        */
/* ------------------------------------------------------------------------ */

/** Result of every fallible call. */
typedef enum nn_status {
    NN_OK = 0,                      /**< success */
    NN_ERROR_NULL_POINTER = 1,      /**< a required pointer argument was NULL */
    NN_ERROR_INVALID_ARGUMENT = 2,  /**< a value is out of range or an enum value is unknown */
    NN_ERROR_SHAPE_MISMATCH = 3,    /**< a size is zero, does not match the model, or overflows */
    NN_ERROR_INVALID_HANDLE = 4,    /**< the handle is not a live handle of the expected kind */
    NN_ERROR_INVALID_STATE = 5,     /**< the call is not allowed now (e.g. fit before a loss is set) */
    NN_ERROR_NON_FINITE = 6,        /**< NaN or infinity in data that must be finite */
    NN_ERROR_OUT_OF_MEMORY = 7,     /**< an allocation failed or would be unreasonably large */
    NN_ERROR_INTERNAL = 8           /**< a bug in libnn; please report it with the message */
} nn_status;

/** The message of the most recent failed call on the calling thread, or ""
 *  if no call on this thread has failed. Never NULL. The string belongs to
 *  libnn and stays valid until the calling thread's next call into libnn. */
const char *nn_last_error(void);

/** A short static description of a status code ("invalid argument", ...);
 *  "unknown status" for values outside the enum. Never NULL. */
const char *nn_status_string(nn_status status);

/* ------------------------------------------------------------------------ */
/* Enumerations                                                             */
/* ------------------------------------------------------------------------ */

/** Activation applied to a layer's output. Formulas as in Keras/PyTorch. */
typedef enum nn_activation {
    NN_ACTIVATION_LINEAR = 0,   /**< f(z) = z (Keras None / "linear") */
    NN_ACTIVATION_SIGMOID = 1,  /**< f(z) = 1 / (1 + exp(-z)) */
    NN_ACTIVATION_TANH = 2,     /**< f(z) = tanh(z) */
    NN_ACTIVATION_RELU = 3,     /**< f(z) = max(z, 0) */
    NN_ACTIVATION_SOFTMAX = 4   /**< f(z)_i = exp(z_i) / sum_j exp(z_j), per row */
} nn_activation;

/** Weight initializers, with Keras's formulas (fan_in = inputs, fan_out = units). */
typedef enum nn_initializer {
    NN_INIT_DEFAULT = 0,         /**< glorot_uniform for kernels, zeros for biases */
    NN_INIT_GLOROT_UNIFORM = 1,  /**< U(-l, l), l = sqrt(6 / (fan_in + fan_out)) */
    NN_INIT_GLOROT_NORMAL = 2,   /**< truncated normal, stddev sqrt(2 / (fan_in + fan_out)) */
    NN_INIT_HE_UNIFORM = 3,      /**< U(-l, l), l = sqrt(6 / fan_in) */
    NN_INIT_HE_NORMAL = 4,       /**< truncated normal, stddev sqrt(2 / fan_in) */
    NN_INIT_ZEROS = 5,           /**< all 0 */
    NN_INIT_ONES = 6             /**< all 1 */
} nn_initializer;

/** Loss functions. Every loss is the mean over the samples of a batch.
 *  Targets (y) are float arrays: one column per output, except for
 *  NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, whose single column holds the
 *  class index (0, 1, 2, ...) of each sample. */
typedef enum nn_loss {
    NN_LOSS_MEAN_SQUARED_ERROR = 1,               /**< mean over outputs of (y - p)^2 (Keras MeanSquaredError, PyTorch MSELoss) */
    NN_LOSS_BINARY_CROSSENTROPY = 2,              /**< mean over outputs of -(y log p + (1-y) log(1-p)); targets in [0, 1] */
    NN_LOSS_CATEGORICAL_CROSSENTROPY = 3,         /**< -sum_i y_i log p_i; targets are one-hot or probability rows */
    NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY = 4   /**< -log p_label; target column holds the class index */
} nn_loss;

/** Optimizers. Update rules and defaults are PyTorch's (torch.optim). */
typedef enum nn_optimizer {
    NN_OPTIMIZER_SGD = 1,   /**< torch.optim.SGD: momentum, Nesterov, weight decay */
    NN_OPTIMIZER_ADAM = 2   /**< torch.optim.Adam: bias-corrected moments, weight decay (L2) */
} nn_optimizer;

/** Metrics reported by fit and evaluate beside the loss. */
typedef enum nn_metric {
    /** Keras "accuracy": binary accuracy (threshold 0.5, or 0 for logits)
     *  for binary cross-entropy and for one-output models, sparse
     *  categorical accuracy for sparse categorical cross-entropy, and
     *  categorical accuracy (argmax of prediction == argmax of target)
     *  otherwise. Reported under the name "accuracy". */
    NN_METRIC_ACCURACY = 1
} nn_metric;

/* ------------------------------------------------------------------------ */
/* Models                                                                   */
/* ------------------------------------------------------------------------ */

/** A sequential model: a stack of layers, a loss, an optimizer, metrics,
 *  its parameters, the optimizer's state and its random generator. */
typedef struct nn_model nn_model;

/** Creates an empty sequential model that takes rows of input_dim floats.
 *  seed seeds the model's random generator, which initializes weights and
 *  shuffles batches: the same seed and the same calls give bit-identical
 *  results.
 *  Returns NN_ERROR_NULL_POINTER if out is NULL, NN_ERROR_SHAPE_MISMATCH if
 *  input_dim is 0. On success *out is a new handle; free it with
 *  nn_model_free. */
NN_NODISCARD nn_status nn_model_create(size_t input_dim, uint64_t seed, nn_model **out);

/** Frees a model and everything it owns. NULL is ignored, and so is a
 *  pointer that is not a live model handle (nothing is freed twice). */
void nn_model_free(nn_model *model);

/** Options of a Dense layer. Initialize with nn_dense_options_init. */
typedef struct nn_dense_options {
    size_t struct_size;              /**< sizeof(nn_dense_options), set by nn_dense_options_init */
    size_t units;                    /**< number of outputs (> 0) */
    nn_activation activation;        /**< default NN_ACTIVATION_LINEAR */
    nn_initializer kernel_initializer; /**< default NN_INIT_DEFAULT (glorot_uniform) */
    nn_initializer bias_initializer;   /**< default NN_INIT_DEFAULT (zeros) */
} nn_dense_options;

/** Fills *options with the defaults for a Dense layer of `units` outputs.
 *  Does nothing if options is NULL. */
void nn_dense_options_init(nn_dense_options *options, size_t units);

/** Appends a fully connected layer, output = activation(input · W + b),
 *  with W of shape [inputs, units] (Keras's kernel layout) and b of [units].
 *  Its weights are initialized at once from the model's generator.
 *  Returns NN_ERROR_SHAPE_MISMATCH for 0 units, NN_ERROR_INVALID_ARGUMENT
 *  for an unknown activation, NN_ERROR_INVALID_STATE once the model has
 *  been trained (layers cannot be added after fit). */
NN_NODISCARD nn_status nn_model_add_dense(nn_model *model, size_t units, nn_activation activation);

/** As nn_model_add_dense, with every option of nn_dense_options
 *  (initializers). Returns NN_ERROR_INVALID_ARGUMENT for an unknown
 *  initializer or a struct_size this library does not know. */
NN_NODISCARD nn_status nn_model_add_dense_ex(nn_model *model, const nn_dense_options *options);

/** Sets the loss. from_logits (0 or 1, as in Keras) says the last layer
 *  outputs raw scores rather than probabilities: binary cross-entropy then
 *  applies a sigmoid and the categorical losses a softmax inside the loss,
 *  in a numerically stable form. Cross-entropy after a softmax (or a
 *  sigmoid) layer is always computed from that layer's logits, stably.
 *  Otherwise (probabilities from another activation), as in Keras,
 *  categorical rows are normalized to sum to 1 and probabilities are
 *  clipped to [1e-7, 1 - 1e-7] before the logarithm.
 *  Returns NN_ERROR_INVALID_ARGUMENT for an unknown loss or a from_logits
 *  other than 0 or 1. Whether the loss fits the last layer is checked when
 *  training or evaluation starts. */
NN_NODISCARD nn_status nn_model_set_loss(nn_model *model, nn_loss loss, int from_logits);

/** Hyper-parameters of an optimizer. Initialize with nn_optimizer_options_init. */
typedef struct nn_optimizer_options {
    size_t struct_size;       /**< sizeof(nn_optimizer_options), set by the init function */
    nn_optimizer kind;        /**< which optimizer */
    double learning_rate;     /**< > 0; default 0.01 for SGD (Keras), 0.001 for Adam */
    double momentum;          /**< SGD only, >= 0; default 0 */
    int nesterov;             /**< SGD only, 0 or 1; needs momentum > 0; default 0 */
    double beta1;             /**< Adam only, in [0, 1); default 0.9 */
    double beta2;             /**< Adam only, in [0, 1); default 0.999 */
    double epsilon;           /**< Adam only, > 0; default 1e-8 */
    double weight_decay;      /**< L2 penalty added to the gradient (PyTorch's weight_decay), >= 0; default 0 */
} nn_optimizer_options;

/** Fills *options with the defaults of optimizer `kind`.
 *  Returns NN_ERROR_NULL_POINTER or NN_ERROR_INVALID_ARGUMENT (unknown kind). */
NN_NODISCARD nn_status nn_optimizer_options_init(nn_optimizer_options *options, nn_optimizer kind);

/** Sets the optimizer (a copy of *options is taken) and resets its state.
 *  Returns NN_ERROR_INVALID_ARGUMENT for an unknown kind, a
 *  hyper-parameter out of range (the message names it) or an unknown
 *  struct_size. */
NN_NODISCARD nn_status nn_model_set_optimizer(nn_model *model, const nn_optimizer_options *options);

/** Adds a metric, reported after the loss by fit and evaluate. Adding the
 *  same metric twice has no effect. Returns NN_ERROR_INVALID_ARGUMENT for
 *  an unknown metric. */
NN_NODISCARD nn_status nn_model_add_metric(nn_model *model, nn_metric metric);

/** Number of values that evaluate reports: 1 (the loss) plus the metrics. */
NN_NODISCARD nn_status nn_model_metric_count(const nn_model *model, size_t *out);

/** Name of value `index` of evaluate's result: "loss" for index 0, then
 *  the metrics in the order added ("accuracy"). The string is owned by
 *  libnn and lives as long as the model. Returns NN_ERROR_INVALID_ARGUMENT
 *  if index >= nn_model_metric_count. */
NN_NODISCARD nn_status nn_model_metric_name(const nn_model *model, size_t index, const char **out);

/* ------------------------------------------------------------------------ */
/* Inspection                                                               */
/* ------------------------------------------------------------------------ */

/** Number of input columns the model takes. */
NN_NODISCARD nn_status nn_model_input_dim(const nn_model *model, size_t *out);

/** Number of output columns: the units of the last layer, or the input
 *  width if the model has no layer yet. */
NN_NODISCARD nn_status nn_model_output_dim(const nn_model *model, size_t *out);

/** Number of layers. */
NN_NODISCARD nn_status nn_model_layer_count(const nn_model *model, size_t *out);

/** Units and activation of layer `index` (0 is the first layer).
 *  Either out-pointer may be NULL. Returns NN_ERROR_INVALID_ARGUMENT if
 *  index is out of range. */
NN_NODISCARD nn_status nn_model_layer_info(const nn_model *model, size_t index,
                                           size_t *units, nn_activation *activation);

/** Total number of trainable scalars (all kernels and biases). */
NN_NODISCARD nn_status nn_model_parameter_count(const nn_model *model, size_t *out);

/** Writes a Keras-style text summary of the model (layers, output shapes,
 *  parameter counts) into buffer, truncated to capacity - 1 bytes and
 *  always NUL-terminated when capacity > 0. *length (if not NULL) receives
 *  the full length without the NUL, so a caller can call once with
 *  buffer NULL and capacity 0 to learn the size. */
NN_NODISCARD nn_status nn_model_summary(const nn_model *model, char *buffer, size_t capacity,
                                        size_t *length);

/* ------------------------------------------------------------------------ */
/* Weights                                                                  */
/* ------------------------------------------------------------------------ */

/** Largest number of dimensions of a weight array. */
#define NN_MAX_DIMS 4

/** Number of weight arrays, in Keras's get_weights() order: for each Dense
 *  layer its kernel [inputs, units], then its bias [units]. */
NN_NODISCARD nn_status nn_model_weight_count(const nn_model *model, size_t *out);

/** Shape of weight array `index`: *ndim receives the number of dimensions
 *  and dims[0 .. *ndim) the sizes. dims_capacity is the number of entries
 *  dims can hold (NN_MAX_DIMS always suffices). Returns
 *  NN_ERROR_INVALID_ARGUMENT for an index out of range and
 *  NN_ERROR_SHAPE_MISMATCH if dims_capacity is too small. */
NN_NODISCARD nn_status nn_model_weight_shape(const nn_model *model, size_t index, size_t *ndim,
                                             size_t *dims, size_t dims_capacity);

/** Copies weight array `index` (row-major) into out, which holds `count`
 *  floats; count must equal the array's element count. */
NN_NODISCARD nn_status nn_model_get_weight(const nn_model *model, size_t index, float *out,
                                           size_t count);

/** Replaces weight array `index` with `count` floats from values (row-major);
 *  count must equal the array's element count and every value must be
 *  finite (else NN_ERROR_NON_FINITE and the model is unchanged). */
NN_NODISCARD nn_status nn_model_set_weight(nn_model *model, size_t index, const float *values,
                                           size_t count);

/* ------------------------------------------------------------------------ */
/* Training, evaluation, prediction                                         */
/* ------------------------------------------------------------------------ */

/** Called by nn_model_fit after each epoch with that epoch's logs, as in
 *  Keras: names[i] and values[i] for i < n_logs ("loss", the metrics, then
 *  "val_loss" and "val_" + each metric when validation data is given).
 *  epoch counts from 0 within each nn_model_fit call. The arrays are valid
 *  only during the call.
 *  Return 0 to go on, non-zero to stop training after this epoch (fit then
 *  returns NN_OK).
 *  During the callback the model may be read and its weights replaced
 *  (nn_model_predict, nn_model_evaluate, nn_model_get_weight,
 *  nn_model_set_weight, ...): training resumes from the weights the model
 *  holds when the callback returns. The callback must not free the model;
 *  a new loss, optimizer or metric set during fit takes effect at the next
 *  nn_model_fit. */
typedef int (*nn_epoch_callback)(void *user_data, size_t epoch, size_t n_logs,
                                 const char *const *names, const double *values);

/** Options of nn_model_fit. Initialize with nn_fit_options_init. */
typedef struct nn_fit_options {
    size_t struct_size;            /**< sizeof(nn_fit_options), set by nn_fit_options_init */
    size_t epochs;                 /**< passes over the data; default 1; 0 trains nothing */
    size_t batch_size;             /**< samples per gradient step (> 0); default 32; the last batch may be smaller */
    int shuffle;                   /**< 0 or 1: reshuffle the samples before each epoch; default 1 */
    uint64_t seed;                 /**< seed of the shuffling for this call; 0 (default) continues the model's generator */
    const float *validation_x;     /**< optional validation inputs [validation_rows, x_cols], or NULL */
    const float *validation_y;     /**< validation targets [validation_rows, y_cols]; needed with validation_x */
    size_t validation_rows;        /**< rows of the validation arrays */
    nn_epoch_callback on_epoch_end; /**< optional per-epoch callback, or NULL */
    void *user_data;               /**< passed to on_epoch_end untouched */
} nn_fit_options;

/** Fills *options with the defaults. Does nothing if options is NULL. */
void nn_fit_options_init(nn_fit_options *options);

/** Trains the model on x [rows, x_cols] and targets y [rows, y_cols] by
 *  mini-batch gradient descent with the model's loss and optimizer.
 *  options may be NULL for the defaults. The arrays are read during the
 *  call only.
 *  Returns NN_ERROR_INVALID_STATE if the model has no layer, loss or
 *  optimizer, or if the loss does not fit the last layer;
 *  NN_ERROR_SHAPE_MISMATCH if rows is 0 or x_cols or y_cols do not match
 *  the model; NN_ERROR_NON_FINITE if x or y holds NaN or infinity;
 *  NN_ERROR_INVALID_ARGUMENT for targets the loss cannot take (a class
 *  index out of range, a binary target outside [0, 1]) or bad options;
 *  NN_ERROR_NON_FINITE also if the loss becomes NaN or infinite during
 *  training (the message names the epoch and batch; the weights then hold
 *  the values of that step); NN_ERROR_NULL_POINTER if only one of
 *  validation_x and validation_y is set. */
NN_NODISCARD nn_status nn_model_fit(nn_model *model, const float *x, const float *y, size_t rows,
                                    size_t x_cols, size_t y_cols, const nn_fit_options *options);

/** Computes the loss and the metrics of the model on x [rows, x_cols] and
 *  y [rows, y_cols], in inference mode. values receives
 *  nn_model_metric_count numbers in the order of nn_model_metric_name;
 *  capacity is the number of doubles values can hold. Needs a loss but no
 *  optimizer. Returns NN_ERROR_INVALID_STATE without layers or loss, or if
 *  the loss does not fit the last layer; NN_ERROR_SHAPE_MISMATCH if rows is
 *  0, for widths that do not match the model, or if capacity is too small;
 *  NN_ERROR_NON_FINITE and NN_ERROR_INVALID_ARGUMENT for data as nn_model_fit. */
NN_NODISCARD nn_status nn_model_evaluate(nn_model *model, const float *x, const float *y,
                                         size_t rows, size_t x_cols, size_t y_cols, double *values,
                                         size_t capacity);

/** Runs the model on x [rows, x_cols] in inference mode and writes the
 *  outputs [rows, output_dim] into out, which holds out_capacity floats
 *  (at least rows * output_dim). Returns NN_ERROR_INVALID_STATE if the
 *  model has no layer, NN_ERROR_SHAPE_MISMATCH if rows is 0, for a wrong
 *  x_cols or a too-small out, NN_ERROR_NON_FINITE if x holds NaN or infinity. */
NN_NODISCARD nn_status nn_model_predict(nn_model *model, const float *x, size_t rows,
                                        size_t x_cols, float *out, size_t out_capacity);

/* ------------------------------------------------------------------------ */
/* Kernels                                                                  */
/* ------------------------------------------------------------------------ */

/** Single-precision matrix product, row-major, BLAS semantics:
 *      C = alpha * op(A) · op(B) + beta * C
 *  where op(A) is A (trans_a == 0) or its transpose (trans_a == 1), and
 *  op(A) is m×k, op(B) is k×n, C is m×n. lda, ldb and ldc are the row
 *  strides (in floats) of the arrays as stored: lda >= (trans_a ? m : k),
 *  ldb >= (trans_b ? k : n), ldc >= n. When beta is 0, C is not read
 *  (NaN in C is overwritten). m, n or k may be 0 (C is then only scaled
 *  by beta, or left alone when m or n is 0). This is the GEMM libnn uses
 *  for its own layers.
 *  Returns NN_ERROR_NULL_POINTER for a NULL array that would be read or
 *  written, NN_ERROR_INVALID_ARGUMENT for a transpose flag other than 0
 *  or 1, NN_ERROR_SHAPE_MISMATCH for a leading dimension that is too small
 *  or a size that overflows. */
NN_NODISCARD nn_status nn_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
                                float alpha, const float *a, size_t lda, const float *b,
                                size_t ldb, float beta, float *c, size_t ldc);

#ifdef __cplusplus
}
#endif

#endif /* NN_H */
