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
 * - Option structs start with struct_size and have an *_init macro that
 *   fills in the defaults and struct_size = sizeof in your nn.h. Always
 *   call it first: it lets a newer libnn append fields without breaking
 *   programs built against an older nn.h (see "ABI policy").
 *
 * Threading
 * ---------
 * Distinct handles may be used from different threads in parallel.
 * On one model, the inference calls - nn_model_predict, nn_model_evaluate,
 * nn_model_test_on_batch, nn_model_confusion_matrix, the input gradients - and the calls that only read it (its sizes,
 * layers, weights, metric names, summary, config, fit logs, save) may run
 * on any number of threads at once: each inference call computes in
 * scratch memory of its own (kept in a small per-model pool, so a steady
 * stream of calls allocates nothing) over the model's weights, which stay
 * unchanged while it runs. Every other call on the model (fit, set_weight,
 * load_weights, adding layers, compile settings, diagnose, ...) needs the
 * model to itself: made while any call runs on the model on another
 * thread, it does nothing and returns NN_ERROR_BUSY; a read-only call made
 * while such a call runs on another thread returns NN_ERROR_BUSY too. No
 * call ever waits for another, and none sees a half-changed model. The
 * callbacks of a call run on its thread and may use the model freely
 * (read it, predict, set weights), as the call that runs them allows.
 * nn_model_free may be called while other threads use the model: they
 * finish, and later calls get NN_ERROR_INVALID_HANDLE.
 * nn_last_error() is per thread. Callbacks run on the thread that called
 * the function that takes them.
 *
 * ABI policy
 * ----------
 * libnn follows semantic versioning, and the SONAME carries the major
 * version: libnn.so.0 for every 0.x.y (a 0.x minor version is held to the
 * same rules as a minor version after 1.0).
 * - A minor version (0.4 -> 0.5) only adds: new functions, new enum values,
 *   new macros, new fields appended at the end of an options struct. A
 *   program built against an older nn.h runs unchanged on a newer libnn.
 * - A patch version (0.4.0 -> 0.4.1) changes no declaration at all.
 * - Only a major version (a new SONAME, libnn.so.1) may remove or rename
 *   anything, reorder or retype a field, change a signature, an enum
 *   value's meaning or a documented default.
 * - Options structs grow at the end. Each *_init macro passes sizeof the
 *   struct as your nn.h declares it to an *_init_sized function, which
 *   writes only that many bytes; every call that takes the struct accepts
 *   any struct_size from the struct's size in nn.h 0.3.0 up to its size in
 *   the running library, and gives the fields past your struct_size their
 *   documented defaults. A struct_size larger than the library knows (a
 *   program built against a newer nn.h than the library it runs on) is
 *   refused with NN_ERROR_INVALID_ARGUMENT and a message. An appended field
 *   starts at or after the struct's previous size, never in its padding.
 * - Result structs that libnn fills (nn_gradient_check_result,
 *   nn_finding, nn_layer_statistics) never change within a major version;
 *   new results come with new functions.
 * - The plain nn_X_init functions (the ones the macros hide; reached with
 *   (nn_X_init)(...), through a function pointer, dlsym or a binding such
 *   as ctypes) always fill the 0.3.0 layout, for programs built against
 *   nn.h 0.3.0. Code that bypasses the macros calls
 *   nn_X_init_sized(options, sizeof(nn_X), ...) itself, or fields added
 *   after 0.3.0 keep their defaults whatever it sets.
 * - Versions: NN_VERSION_MAJOR/MINOR/PATCH describe the header a program was
 *   compiled with, nn_version() the library it runs on. A program runs on
 *   any library with the same major version and a minor version at least
 *   its header's: check at start-up with
 *       unsigned maj, min; sscanf(nn_version(), "%u.%u", &maj, &min);
 *       ok = maj == NN_VERSION_MAJOR && min >= NN_VERSION_MINOR;
 *   (the loader already refuses another major version: it looks for
 *   libnn.so.<major>).
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
#define NN_VERSION_MINOR 8
#define NN_VERSION_PATCH 0
/** The same version as a string literal, "MAJOR.MINOR.PATCH". */
#define NN_VERSION_STRING "0.8.0"

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
    NN_ERROR_INTERNAL = 8,          /**< a bug in libnn; please report it with the message */
    NN_ERROR_IO = 9,                /**< a file could not be opened, read, written or renamed */
    NN_ERROR_INVALID_FILE = 10,     /**< not a valid model file: truncated, corrupted, an unknown
                                         layer kind or version, a missing or misshapen tensor */
    NN_ERROR_BUSY = 11,             /**< another thread is using the model in a way this call may
                                         not overlap (see "Threading"); nothing was done: retry
                                         once that call has returned (since 0.6) */
    NN_ERROR_COMMUNICATION = 12     /**< data-parallel training: the all-reduce callback failed,
                                         or another process failed during the step (since 0.7) */
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
    NN_ACTIVATION_SOFTMAX = 4,  /**< f(z)_i = exp(z_i) / sum_j exp(z_j), per row */
    NN_ACTIVATION_LEAKY_RELU = 5, /**< f(z) = z for z > 0, else slope * z; parameter: slope >= 0, default 0.2 (keras.activations.leaky_relu; PyTorch's LeakyReLU uses 0.01) */
    NN_ACTIVATION_ELU = 6,      /**< f(z) = z for z > 0, else alpha (exp(z) - 1); parameter: alpha > 0, default 1 */
    NN_ACTIVATION_GELU = 7,     /**< f(z) = z * Phi(z), Phi the standard normal CDF (exact form, PyTorch's default) */
    NN_ACTIVATION_SOFTPLUS = 8, /**< f(z) = log(1 + exp(z)) */
    NN_ACTIVATION_STEP = 9,     /**< f(z) = 1 for z > 0, else 0: perceptron threshold for inference; fit refuses to train through it (its derivative is 0 almost everywhere) */
    NN_ACTIVATION_MISH = 10     /**< f(z) = z * tanh(softplus(z)) (PyTorch's Mish, Keras's mish; libnn 0.5) */
} nn_activation;

/** Weight initializers, with Keras's formulas (fan_in = inputs, fan_out = units). */
typedef enum nn_initializer {
    NN_INIT_DEFAULT = 0,         /**< glorot_uniform for kernels, zeros for biases */
    NN_INIT_GLOROT_UNIFORM = 1,  /**< U(-l, l), l = sqrt(6 / (fan_in + fan_out)) */
    NN_INIT_GLOROT_NORMAL = 2,   /**< truncated normal, stddev sqrt(2 / (fan_in + fan_out)) */
    NN_INIT_HE_UNIFORM = 3,      /**< U(-l, l), l = sqrt(6 / fan_in) */
    NN_INIT_HE_NORMAL = 4,       /**< truncated normal, stddev sqrt(2 / fan_in) */
    NN_INIT_ZEROS = 5,           /**< all 0 */
    NN_INIT_ONES = 6,            /**< all 1 */
    NN_INIT_LECUN_UNIFORM = 7,   /**< U(-l, l), l = sqrt(3 / fan_in) */
    NN_INIT_LECUN_NORMAL = 8,    /**< truncated normal, stddev sqrt(1 / fan_in) */
    NN_INIT_CONSTANT = 9         /**< all equal to the options' *_initializer_value */
} nn_initializer;

/** Loss functions. Every loss is the mean over the samples of a batch.
 *  Targets (y) are float arrays: one column per output, except for
 *  NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, whose single column holds the
 *  class index (0, 1, 2, ...) of each sample. */
typedef enum nn_loss {
    NN_LOSS_MEAN_SQUARED_ERROR = 1,               /**< mean over outputs of (y - p)^2 (Keras MeanSquaredError, PyTorch MSELoss) */
    NN_LOSS_BINARY_CROSSENTROPY = 2,              /**< mean over outputs of -(y log p + (1-y) log(1-p)); targets in [0, 1] */
    NN_LOSS_CATEGORICAL_CROSSENTROPY = 3,         /**< -sum_i y_i log p_i; targets are one-hot or probability rows */
    NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY = 4,  /**< -log p_label; target column holds the class index */
    NN_LOSS_MEAN_ABSOLUTE_ERROR = 5,              /**< mean over outputs of |y - p| (Keras MeanAbsoluteError, PyTorch L1Loss) */
    NN_LOSS_HUBER = 6                             /**< mean over outputs of d^2/2 if |d| <= delta else delta (|d| - delta/2), d = p - y (Keras Huber, PyTorch HuberLoss); delta default 1 */
} nn_loss;

/** Optimizers. Update rules and defaults are PyTorch's (torch.optim). */
typedef enum nn_optimizer {
    NN_OPTIMIZER_SGD = 1,     /**< torch.optim.SGD: momentum, dampening, Nesterov, weight decay */
    NN_OPTIMIZER_ADAM = 2,    /**< torch.optim.Adam: bias-corrected moments, weight decay (L2), amsgrad */
    NN_OPTIMIZER_ADAMW = 3,   /**< torch.optim.AdamW: Adam with decoupled weight decay (default 0.01) */
    NN_OPTIMIZER_RMSPROP = 4, /**< torch.optim.RMSprop: alpha, momentum, centered */
    NN_OPTIMIZER_ADAGRAD = 5, /**< torch.optim.Adagrad: lr_decay, initial accumulator */
    NN_OPTIMIZER_RPROP = 6,   /**< torch.optim.Rprop: per-weight steps from gradient signs (FANN's default algorithm) */
    NN_OPTIMIZER_ADAMAX = 7   /**< torch.optim.Adamax: m = beta1 m + (1-beta1) g, u = max(beta2 u, |g| + eps),
                                   w -= lr / (1 - beta1^t) * m / u; weight decay (L2); default lr 0.002 (libnn 0.5) */
} nn_optimizer;

/** Metrics reported by fit and evaluate beside the loss. */
typedef enum nn_metric {
    /** Keras "accuracy": binary accuracy (threshold 0.5, or 0 for logits)
     *  for binary cross-entropy and for one-output models, sparse
     *  categorical accuracy for sparse categorical cross-entropy, and
     *  categorical accuracy (argmax of prediction == argmax of target)
     *  otherwise. Reported under the name "accuracy". */
    NN_METRIC_ACCURACY = 1,
    /** "binary_accuracy": mean over all outputs of (p > threshold) == y; parameter: threshold, default 0.5 */
    NN_METRIC_BINARY_ACCURACY = 2,
    /** "categorical_accuracy": argmax(p) == argmax(y) (or the class index for sparse targets) */
    NN_METRIC_CATEGORICAL_ACCURACY = 3,
    /** "sparse_categorical_accuracy": argmax(p) == the class index in y */
    NN_METRIC_SPARSE_CATEGORICAL_ACCURACY = 4,
    /** "precision": TP / (TP + FP) of binary decisions p > threshold (keras.metrics.Precision); parameter: threshold */
    NN_METRIC_PRECISION = 5,
    /** "recall": TP / (TP + FN) of binary decisions p > threshold (keras.metrics.Recall); parameter: threshold */
    NN_METRIC_RECALL = 6,
    /** "f1_score": 2 P R / (P + R) of binary decisions; parameter: threshold */
    NN_METRIC_F1_SCORE = 7,
    /** "f1_macro": mean over classes of each class's F1 (scikit-learn's average='macro') */
    NN_METRIC_F1_MACRO = 8,
    /** "top_k_accuracy": the true class is among the k highest outputs; parameter: k, default 5 */
    NN_METRIC_TOP_K_ACCURACY = 9,
    /** "mean_absolute_error": mean over outputs of |y - p| */
    NN_METRIC_MEAN_ABSOLUTE_ERROR = 10
} nn_metric;

/** Kinds of layers (nn_model_layer_kind). */
typedef enum nn_layer_kind {
    NN_LAYER_DENSE = 1,                /**< nn_model_add_dense */
    NN_LAYER_DROPOUT = 2,              /**< nn_model_add_dropout */
    NN_LAYER_BATCH_NORMALIZATION = 3,  /**< nn_model_add_batch_normalization */
    NN_LAYER_ACTIVATION = 4            /**< nn_model_add_activation */
} nn_layer_kind;

/** Whether a monitored log improves downwards or upwards. */
typedef enum nn_monitor_mode {
    NN_MONITOR_AUTO = 0,  /**< "max" for names containing acc, precision, recall, f1 or auc, else "min" (Keras's rule) */
    NN_MONITOR_MIN = 1,
    NN_MONITOR_MAX = 2
} nn_monitor_mode;

/** The enumerations nn_enum_name can name. */
typedef enum nn_enum {
    NN_ENUM_ACTIVATION = 1,   /**< nn_activation */
    NN_ENUM_INITIALIZER = 2,  /**< nn_initializer */
    NN_ENUM_LOSS = 3,         /**< nn_loss */
    NN_ENUM_OPTIMIZER = 4,    /**< nn_optimizer */
    NN_ENUM_METRIC = 5,       /**< nn_metric */
    NN_ENUM_LAYER_KIND = 6    /**< nn_layer_kind */
} nn_enum;

/** The name libnn gives value `value` of enumeration `enumeration`: the
 *  Keras/PyTorch identifier used in model files, messages, metric logs and
 *  the Python binding ("relu", "glorot_uniform", "mean_squared_error",
 *  "adam", "accuracy"); for a layer kind, the Keras default name of such a
 *  layer ("dense", "batch_normalization": a model's layers are named dense,
 *  dense_1, ...). NN_INIT_DEFAULT is "default". NULL for an unknown
 *  enumeration or value, so that a binding can list every value libnn
 *  knows. The string is static; never free it. Sets no error. */
const char *nn_enum_name(nn_enum enumeration, int value);

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
    double activation_parameter;     /**< leaky_relu's slope or elu's alpha; NaN (default) for the activation's default */
    double kernel_initializer_value; /**< the value of NN_INIT_CONSTANT for the kernel; default 0 */
    double bias_initializer_value;   /**< the value of NN_INIT_CONSTANT for the bias; default 0 */
    double kernel_l1;                /**< L1 penalty on the kernel, l1 * sum |w|, added to the loss (Keras kernel_regularizer); >= 0, default 0 */
    double kernel_l2;                /**< L2 penalty on the kernel, l2 * sum w^2, added to the loss; >= 0, default 0 */
} nn_dense_options;

/** Fills the first `size` bytes of *options (size = sizeof(nn_dense_options)
 *  in the caller's nn.h) with the defaults for a Dense layer of `units` outputs,
 *  and struct_size with size. Does nothing if options is NULL. Call it
 *  through the macro nn_dense_options_init(options, units), which passes
 *  the size (see "ABI policy" above). */
void nn_dense_options_init_sized(nn_dense_options *options, size_t size, size_t units);
/** The same for programs built against nn.h 0.3.0 (fills the 0.3.0 layout). */
void nn_dense_options_init(nn_dense_options *options, size_t units);
#define nn_dense_options_init(options, units) \
    nn_dense_options_init_sized((options), sizeof(nn_dense_options), (units))

/** Appends a fully connected layer, output = activation(input · W + b),
 *  with W of shape [inputs, units] (Keras's kernel layout) and b of [units].
 *  Its weights are initialized at once from the model's generator.
 *  Returns NN_ERROR_SHAPE_MISMATCH for 0 units, NN_ERROR_INVALID_ARGUMENT
 *  for an unknown activation, NN_ERROR_INVALID_STATE once the model has
 *  been trained (layers cannot be added after fit). */
NN_NODISCARD nn_status nn_model_add_dense(nn_model *model, size_t units, nn_activation activation);

/** As nn_model_add_dense, with every option of nn_dense_options
 *  (initializers, activation parameter, kernel regularization). Returns
 *  NN_ERROR_INVALID_ARGUMENT for an unknown initializer, a parameter out of
 *  range (the message names it) or a struct_size this library does not know. */
NN_NODISCARD nn_status nn_model_add_dense_ex(nn_model *model, const nn_dense_options *options);

/** Appends a dropout layer (Keras Dropout, PyTorch nn.Dropout): while
 *  training, each input is zeroed with probability rate and the others are
 *  scaled by 1 / (1 - rate); in evaluate and predict it passes inputs
 *  through. Masks come from the model's generator. Returns
 *  NN_ERROR_INVALID_ARGUMENT unless 0 <= rate < 1, NN_ERROR_INVALID_STATE
 *  for a trained model. */
NN_NODISCARD nn_status nn_model_add_dropout(nn_model *model, double rate);

/** Appends batch normalization with PyTorch BatchNorm1d's semantics:
 *  training normalizes each feature with the batch mean and biased
 *  variance and updates running estimates, r = (1 - momentum) r +
 *  momentum * batch value (the unbiased variance for the running variance);
 *  evaluate and predict use the running estimates. Learnable scale gamma
 *  (starts at 1) and shift beta (starts at 0). momentum in [0, 1] is
 *  PyTorch's (default 0.1, the weight of the new batch; Keras's 0.99 means
 *  the opposite), epsilon > 0 (default 1e-5). Its weights, in order:
 *  gamma, beta (trainable), moving_mean, moving_variance (not trainable).
 *  Returns NN_ERROR_INVALID_ARGUMENT for values out of range,
 *  NN_ERROR_INVALID_STATE for a trained model. */
NN_NODISCARD nn_status nn_model_add_batch_normalization(nn_model *model, double momentum, double epsilon);

/** Appends an activation on its own (Keras Activation layer), e.g. after a
 *  batch normalization that follows a linear Dense. parameter: as
 *  nn_dense_options.activation_parameter (NaN for the default). */
NN_NODISCARD nn_status nn_model_add_activation(nn_model *model, nn_activation activation, double parameter);

/** Sets the loss (Huber with delta 1). from_logits (0 or 1, as in Keras),
 *  for the cross-entropy losses only, says the last layer
 *  outputs raw scores rather than probabilities: binary cross-entropy then
 *  applies a sigmoid and the categorical losses a softmax inside the loss,
 *  in a numerically stable form. Cross-entropy after a softmax (or a
 *  sigmoid) layer is always computed from that layer's logits, stably.
 *  Otherwise (probabilities from another activation), as in Keras,
 *  categorical rows are normalized to sum to 1 and probabilities are
 *  clipped to [1e-7, 1 - 1e-7] before the logarithm.
 *  Returns NN_ERROR_INVALID_ARGUMENT for an unknown loss, a from_logits
 *  other than 0 or 1, or from_logits with a loss that is not a
 *  cross-entropy. Whether the loss fits the last layer is checked when
 *  training or evaluation starts. */
NN_NODISCARD nn_status nn_model_set_loss(nn_model *model, nn_loss loss, int from_logits);

/** Options of a loss. Initialize with nn_loss_options_init. */
typedef struct nn_loss_options {
    size_t struct_size;   /**< sizeof(nn_loss_options), set by nn_loss_options_init */
    nn_loss loss;         /**< which loss */
    int from_logits;      /**< 0 or 1, as nn_model_set_loss; default 0 */
    double huber_delta;   /**< Huber's delta > 0; default 1 */
} nn_loss_options;

/** Fills the first `size` bytes of *options with the defaults for `loss`
 *  (struct_size = size). Does nothing if options is NULL. Call it through
 *  the macro nn_loss_options_init(options, loss). */
void nn_loss_options_init_sized(nn_loss_options *options, size_t size, nn_loss loss);
/** The same for programs built against nn.h 0.3.0 (fills the 0.3.0 layout). */
void nn_loss_options_init(nn_loss_options *options, nn_loss loss);
#define nn_loss_options_init(options, loss) \
    nn_loss_options_init_sized((options), sizeof(nn_loss_options), (loss))

/** As nn_model_set_loss, with every option. Also returns
 *  NN_ERROR_INVALID_ARGUMENT for huber_delta <= 0 or an unknown struct_size. */
NN_NODISCARD nn_status nn_model_set_loss_ex(nn_model *model, const nn_loss_options *options);

/** Hyper-parameters of an optimizer. Initialize with nn_optimizer_options_init. */
typedef struct nn_optimizer_options {
    size_t struct_size;       /**< sizeof(nn_optimizer_options), set by the init function */
    nn_optimizer kind;        /**< which optimizer */
    double learning_rate;     /**< > 0; default 0.01 for SGD (Keras), 0.001 for Adam and AdamW, 0.01 for RMSprop, Adagrad and Rprop (Rprop: the initial step), 0.002 for Adamax */
    double momentum;          /**< SGD, RMSprop: >= 0; default 0 */
    int nesterov;             /**< SGD only, 0 or 1; needs momentum > 0 and dampening 0; default 0 */
    double beta1;             /**< Adam, AdamW, Adamax: in [0, 1); default 0.9 */
    double beta2;             /**< Adam, AdamW, Adamax: in [0, 1); default 0.999 */
    double epsilon;           /**< Adam, AdamW, Adamax, RMSprop, Adagrad: > 0; default 1e-8 (Adagrad 1e-10) */
    double weight_decay;      /**< L2 penalty added to the gradient (PyTorch's weight_decay; AdamW: decoupled decay), >= 0; default 0 (AdamW 0.01); Rprop takes none (must be 0) */
    double dampening;         /**< SGD: dampening of the momentum, >= 0; default 0 */
    int amsgrad;              /**< Adam, AdamW: 0 or 1, use the maximum of past second moments; default 0 */
    double alpha;             /**< RMSprop: smoothing constant in [0, 1); default 0.99 */
    int centered;             /**< RMSprop: 0 or 1, normalize by the gradient's estimated variance; default 0 */
    double lr_decay;          /**< Adagrad: learning-rate decay >= 0; default 0 */
    double initial_accumulator_value; /**< Adagrad: start of the sum of squares, >= 0; default 0 */
    double eta_minus;         /**< Rprop: step decrease factor in (0, 1); default 0.5 */
    double eta_plus;          /**< Rprop: step increase factor > 1; default 1.2 */
    double step_size_min;     /**< Rprop: smallest step > 0; default 1e-6 */
    double step_size_max;     /**< Rprop: largest step >= step_size_min; default 50 */
    double clip_value;        /**< clip each gradient element to [-clip_value, clip_value] (Keras clipvalue); 0 (default) disables */
    double clip_norm;         /**< rescale each weight array's gradient to norm <= clip_norm (Keras clipnorm); 0 disables */
    double global_clip_norm;  /**< rescale the whole gradient to norm <= global_clip_norm (Keras global_clipnorm); 0 disables. At most one of the three clipping options may be set, as in Keras */
} nn_optimizer_options;

/** Fills the first `size` bytes of *options with the defaults of optimizer
 *  `kind` (struct_size = size). Call it through the macro
 *  nn_optimizer_options_init(options, kind).
 *  Returns NN_ERROR_NULL_POINTER or NN_ERROR_INVALID_ARGUMENT (unknown kind). */
NN_NODISCARD nn_status nn_optimizer_options_init_sized(nn_optimizer_options *options, size_t size,
                                                       nn_optimizer kind);
/** The same for programs built against nn.h 0.3.0 (fills the 0.3.0 layout). */
NN_NODISCARD nn_status nn_optimizer_options_init(nn_optimizer_options *options, nn_optimizer kind);
#define nn_optimizer_options_init(options, kind) \
    nn_optimizer_options_init_sized((options), sizeof(nn_optimizer_options), (kind))

/** Sets the optimizer (a copy of *options is taken) and resets its state.
 *  The optimizer's state (moments, step counts) belongs to the model: it is
 *  kept across fits and across nn_model_set_weight.
 *  Returns NN_ERROR_INVALID_ARGUMENT for an unknown kind, a
 *  hyper-parameter out of range (the message names it) or an unknown
 *  struct_size. */
NN_NODISCARD nn_status nn_model_set_optimizer(nn_model *model, const nn_optimizer_options *options);

/** Adds a metric, reported after the loss by fit and evaluate. Adding the
 *  same metric twice has no effect. Returns NN_ERROR_INVALID_ARGUMENT for
 *  an unknown metric. Whether the metric fits the loss and the outputs is
 *  checked when fit or evaluate starts (NN_ERROR_INVALID_STATE). */
NN_NODISCARD nn_status nn_model_add_metric(nn_model *model, nn_metric metric);

/** As nn_model_add_metric, with the metric's parameter: k of top-k accuracy
 *  (a whole number >= 1, default 5), the threshold of binary accuracy,
 *  precision, recall, f1_score, and of f1_macro on one-output models (in
 *  (0, 1), default 0.5); NaN for the default. Returns NN_ERROR_INVALID_ARGUMENT for a parameter out of range
 *  or given to a metric that takes none. */
NN_NODISCARD nn_status nn_model_add_metric_ex(nn_model *model, nn_metric metric, double parameter);

/** Removes every metric. */
NN_NODISCARD nn_status nn_model_clear_metrics(nn_model *model);

/** Learning-rate schedules (applied between epochs, PyTorch's formulas;
 *  epoch e counts every epoch the model has trained, from 0; lr0 is the
 *  optimizer's learning_rate). */
typedef enum nn_schedule {
    NN_SCHEDULE_NONE = 0,              /**< constant learning rate */
    NN_SCHEDULE_STEP = 1,              /**< lr0 * gamma^floor(e / step_size) (StepLR) */
    NN_SCHEDULE_EXPONENTIAL = 2,       /**< lr0 * gamma^e (ExponentialLR) */
    NN_SCHEDULE_COSINE = 3,            /**< eta_min + (lr0 - eta_min)(1 + cos(pi e / t_max)) / 2 (CosineAnnealingLR) */
    NN_SCHEDULE_REDUCE_ON_PLATEAU = 4  /**< times factor after patience epochs without improvement of monitor (Keras ReduceLROnPlateau) */
} nn_schedule;

/** Options of a learning-rate schedule. Initialize with nn_schedule_options_init. */
typedef struct nn_schedule_options {
    size_t struct_size;     /**< sizeof(nn_schedule_options), set by the init function */
    nn_schedule kind;       /**< which schedule */
    size_t step_size;       /**< STEP: epochs between decays, >= 1; default 10 */
    double gamma;           /**< STEP, EXPONENTIAL: decay factor > 0; default 0.1 (STEP), 0.95 (EXPONENTIAL) */
    size_t t_max;           /**< COSINE: half period in epochs, >= 1; default 50 */
    double eta_min;         /**< COSINE: lowest rate >= 0; default 0 */
    const char *monitor;    /**< REDUCE_ON_PLATEAU: log name to watch; default "val_loss"; copied by the call */
    double factor;          /**< REDUCE_ON_PLATEAU: in (0, 1); default 0.1 */
    size_t patience;        /**< REDUCE_ON_PLATEAU: epochs without improvement; default 10 */
    double min_delta;       /**< REDUCE_ON_PLATEAU: smallest improvement, >= 0; default 1e-4 */
    size_t cooldown;        /**< REDUCE_ON_PLATEAU: epochs to wait after a reduction; default 0 */
    double min_lr;          /**< REDUCE_ON_PLATEAU: lower bound >= 0; default 0 */
    nn_monitor_mode mode;   /**< REDUCE_ON_PLATEAU: default NN_MONITOR_AUTO */
} nn_schedule_options;

/** Fills the first `size` bytes of *options with the defaults of `kind`
 *  (struct_size = size). Call it through the macro
 *  nn_schedule_options_init(options, kind). Returns NN_ERROR_NULL_POINTER
 *  or NN_ERROR_INVALID_ARGUMENT (unknown kind). */
NN_NODISCARD nn_status nn_schedule_options_init_sized(nn_schedule_options *options, size_t size,
                                                      nn_schedule kind);
/** The same for programs built against nn.h 0.3.0 (fills the 0.3.0 layout). */
NN_NODISCARD nn_status nn_schedule_options_init(nn_schedule_options *options, nn_schedule kind);
#define nn_schedule_options_init(options, kind) \
    nn_schedule_options_init_sized((options), sizeof(nn_schedule_options), (kind))

/** Sets the learning-rate schedule (NULL or kind NN_SCHEDULE_NONE removes
 *  it). The current rate is kept: a rate a plateau reduced stays reduced;
 *  the epoch schedules compute theirs from learning_rate at the next epoch. While a schedule is set, fit logs the rate each epoch used under
 *  "learning_rate". Returns NN_ERROR_INVALID_ARGUMENT for values out of
 *  range (the message names them); a monitor that fit does not log is
 *  reported when fit starts. Set from an epoch callback during fit, it
 *  takes effect at the next nn_model_fit (since 0.5). */
NN_NODISCARD nn_status nn_model_set_lr_schedule(nn_model *model, const nn_schedule_options *options);

/** The optimizer's current learning rate (after any schedule).
 *  Returns NN_ERROR_INVALID_STATE if no optimizer is set. */
NN_NODISCARD nn_status nn_model_learning_rate(const nn_model *model, double *out);

/** Sets the optimizer's current learning rate (>= 0 and finite, else
 *  NN_ERROR_INVALID_ARGUMENT; NN_ERROR_INVALID_STATE without an
 *  optimizer). It is used from the optimizer's next update on, also when
 *  set from an epoch or batch callback during fit (this is how a binding
 *  steps a per-batch schedule, Keras's LearningRateSchedule objects, which
 *  may reach 0). Without a schedule, or with a plateau schedule, a rate
 *  > 0 also becomes the optimizer's configured learning_rate (config,
 *  files; a configured rate is > 0); an epoch schedule
 *  keeps its base and sets its own rate again at the next epoch. The
 *  optimizer's state is kept (Rprop takes the rate as its initial step
 *  sizes only when its state is made, as PyTorch's). Since 0.8. */
NN_NODISCARD nn_status nn_model_set_learning_rate(nn_model *model, double learning_rate);

/** *out = the updates the optimizer has made since it was set (Keras's
 *  optimizer.iterations, PyTorch's state "step"): every training step of
 *  fit and nn_model_train_on_batch counts one; a new optimizer starts at 0;
 *  saving with the optimizer keeps it. NN_ERROR_INVALID_STATE without an
 *  optimizer. Since 0.8. */
NN_NODISCARD nn_status nn_model_optimizer_iterations(const nn_model *model, size_t *out);

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

/** Kind of layer `index`. Returns NN_ERROR_INVALID_ARGUMENT if index is out
 *  of range. */
NN_NODISCARD nn_status nn_model_layer_kind(const nn_model *model, size_t index, nn_layer_kind *out);

/** Output width and activation of layer `index` (0 is the first layer;
 *  NN_ACTIVATION_LINEAR for layers without one).
 *  Either out-pointer may be NULL. Returns NN_ERROR_INVALID_ARGUMENT if
 *  index is out of range. */
NN_NODISCARD nn_status nn_model_layer_info(const nn_model *model, size_t index,
                                           size_t *units, nn_activation *activation);

/** Total number of trainable scalars (kernels, biases, batch-normalization
 *  scales and shifts; not the running statistics). */
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
 *  layer its kernel [inputs, units], then its bias [units]; for each batch
 *  normalization gamma, beta, moving_mean, moving_variance [features]. */
NN_NODISCARD nn_status nn_model_weight_count(const nn_model *model, size_t *out);

/** Keras's name of weight array `index` ("kernel", "bias", "gamma", "beta",
 *  "moving_mean", "moving_variance"; static string) and whether it is
 *  trained (1) or a running statistic (0). Either out-pointer may be NULL.
 *  Returns NN_ERROR_INVALID_ARGUMENT for an index out of range. */
NN_NODISCARD nn_status nn_model_weight_info(const nn_model *model, size_t index, const char **name,
                                            int *trainable);

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
 *  finite (else NN_ERROR_NON_FINITE and the model is unchanged); a
 *  moving_variance must be >= 0. The optimizer's state is kept. */
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
 *  a new loss, optimizer, metric or learning-rate schedule set during fit
 *  takes effect at the next nn_model_fit (a schedule since 0.5: before, it
 *  applied from the next epoch). */
typedef int (*nn_epoch_callback)(void *user_data, size_t epoch, size_t n_logs,
                                 const char *const *names, const double *values);

/** Called by nn_model_fit after each batch when nn_fit_options.on_batch_end
 *  is set (Keras's on_train_batch_end; progress bars): epoch counts from 0
 *  within the call, batch from 0 within the epoch, of batches in it;
 *  names[i] and values[i] for i < n_logs are the epoch's logs so far - the
 *  mean loss and the metrics over its batches run so far, as Keras's - valid
 *  only during the call. Return 0 to go on, non-zero to end the epoch after
 *  this batch (its logs, validation and on_epoch_end then cover the batches
 *  run) and the fit after it. The callback may use the model as
 *  on_epoch_end may. Without it, fit calls nothing per batch. Since 0.6. */
typedef int (*nn_batch_callback)(void *user_data, size_t epoch, size_t batch, size_t batches,
                                 size_t n_logs, const char *const *names, const double *values);

/** Early stopping, as Keras's EarlyStopping callback. Initialize with
 *  nn_early_stopping_options_init. After each epoch the monitored log
 *  improves if it beats the best so far by more than min_delta; after
 *  patience epochs without improvement, fit stops. With
 *  restore_best_weights, the model ends fit (stopped or not) with the
 *  weights and normalization statistics of its best epoch. */
typedef struct nn_early_stopping_options {
    size_t struct_size;        /**< sizeof(nn_early_stopping_options), set by the init function */
    const char *monitor;       /**< log name to watch; default "val_loss"; fit fails with NN_ERROR_INVALID_ARGUMENT if it does not log it */
    double min_delta;          /**< smallest improvement, >= 0; default 0 */
    size_t patience;           /**< epochs without improvement before stopping; default 0 */
    nn_monitor_mode mode;      /**< default NN_MONITOR_AUTO */
    int restore_best_weights;  /**< 0 or 1; default 0 */
} nn_early_stopping_options;

/** Fills the first `size` bytes of *options with the defaults
 *  (struct_size = size). Does nothing if options is NULL. Call it through
 *  the macro nn_early_stopping_options_init(options). */
void nn_early_stopping_options_init_sized(nn_early_stopping_options *options, size_t size);
/** The same for programs built against nn.h 0.3.0 (fills the 0.3.0 layout). */
void nn_early_stopping_options_init(nn_early_stopping_options *options);
#define nn_early_stopping_options_init(options) \
    nn_early_stopping_options_init_sized((options), sizeof(nn_early_stopping_options))

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
    double validation_split;       /**< in [0, 1): hold out this fraction of the rows, taken from the end before shuffling (Keras); not with validation_x; default 0 */
    const float *sample_weights;   /**< optional [rows] weights >= 0: each row's loss is multiplied by its weight (Keras sample_weight: the weighted mean divides by the batch size; with validation_split the held-out rows' weights weigh val_loss), or NULL */
    const float *class_weights;    /**< optional [class_weight_count] weights >= 0 by class (Keras class_weight): class index, argmax of a one-hot row, or the 0/1 target of a one-output model; or NULL */
    size_t class_weight_count;     /**< entries of class_weights; must cover every class present */
    const nn_early_stopping_options *early_stopping; /**< optional early stopping, or NULL */
    nn_batch_callback on_batch_end; /**< optional per-batch callback, or NULL (default); gets user_data. Since 0.6 */
    const volatile int *stop_flag; /**< optional: read before each batch; once it is non-zero (set from another thread or a signal handler: Ctrl-C), fit returns NN_OK between two batches, the epoch in progress neither logged nor finished, the model with the weights of the last batch run; NULL (default): none. Since 0.6 */
} nn_fit_options;

/** Fills the first `size` bytes of *options with the defaults
 *  (struct_size = size). Does nothing if options is NULL. Call it through
 *  the macro nn_fit_options_init(options). */
void nn_fit_options_init_sized(nn_fit_options *options, size_t size);
/** The same for programs built against nn.h 0.3.0 (fills the 0.3.0 layout). */
void nn_fit_options_init(nn_fit_options *options);
#define nn_fit_options_init(options) nn_fit_options_init_sized((options), sizeof(nn_fit_options))

/** Trains the model on x [rows, x_cols] and targets y [rows, y_cols] by
 *  mini-batch gradient descent with the model's loss and optimizer.
 *  options may be NULL for the defaults. The arrays are read during the
 *  call only.
 *  Returns NN_ERROR_INVALID_STATE if the model has no layer, loss or
 *  optimizer, if the loss or a metric does not fit the last layer, or if a
 *  layer uses NN_ACTIVATION_STEP (no gradient passes through it);
 *  NN_ERROR_SHAPE_MISMATCH if rows is 0 or x_cols or y_cols do not match
 *  the model; NN_ERROR_NON_FINITE if x or y holds NaN or infinity;
 *  NN_ERROR_INVALID_ARGUMENT for targets the loss cannot take (a class
 *  index out of range, a binary target outside [0, 1]) or bad options;
 *  NN_ERROR_NON_FINITE also if the loss becomes NaN or infinite during
 *  training (the message names the epoch and batch; the weights then hold
 *  the values of that step); NN_ERROR_NULL_POINTER if only one of
 *  validation_x and validation_y is set, or class_weights is NULL with a
 *  class_weight_count > 0. */
NN_NODISCARD nn_status nn_model_fit(nn_model *model, const float *x, const float *y, size_t rows,
                                    size_t x_cols, size_t y_cols, const nn_fit_options *options);

/** The logs of the most recent nn_model_fit on this model, kept so that a
 *  caller needs no per-epoch callback to learn them (a binding that fills
 *  a History once at the end: one call per log instead of one per epoch):
 *  *epochs = the epochs it ran (after early stopping or a callback's stop,
 *  fewer than asked; after a fit that failed while training, those it
 *  completed; after one refused before training, 0), *logs = the number of
 *  log names (those the callback receives, in its order; every epoch of a
 *  fit logs the same names). Both 0 before any fit. Since 0.5.
 *  Returns NN_ERROR_NULL_POINTER for a NULL argument. */
NN_NODISCARD nn_status nn_model_fit_logs(const nn_model *model, size_t *epochs, size_t *logs);

/** Log `index` (< *logs of nn_model_fit_logs) of the most recent fit: its
 *  name (*name; the string belongs to the model and lives as long as it)
 *  and its value at each epoch into values[0 .. epochs); capacity must be
 *  >= epochs (values may be NULL when epochs is 0). Since 0.5.
 *  Returns NN_ERROR_INVALID_ARGUMENT for an index out of range,
 *  NN_ERROR_SHAPE_MISMATCH for a capacity below epochs,
 *  NN_ERROR_NULL_POINTER for a NULL name or values. */
NN_NODISCARD nn_status nn_model_fit_log(const nn_model *model, size_t index, const char **name,
                                        double *values, size_t capacity);

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

/** One gradient step on one batch x [rows, x_cols], y [rows, y_cols], as
 *  Keras's train_on_batch, for a training loop of your own (data streamed
 *  from disk or a network, FANN-style online learning): the very step
 *  nn_model_fit takes for a batch - training mode (dropout on, batch
 *  normalization's batch statistics and moving averages), the model's
 *  optimizer and its state, gradient clipping, regularization, anomaly
 *  detection - with no epoch around it: the rows are used in their order,
 *  the learning-rate schedule does not step (set the rate between calls
 *  with nn_model_set_lr_schedule or nn_model_set_optimizer), and neither
 *  the history, the fit logs nor the layer statistics change.
 *  sample_weights: NULL, or rows weights >= 0 (as nn_fit_options).
 *  values receives the batch's loss (its mean over the rows, with the
 *  regularization penalty, as fit's "loss") and the metrics of the
 *  outputs the step computed before updating the weights (as Keras), in
 *  nn_model_metric_name order: capacity >= nn_model_metric_count. Errors
 *  as nn_model_fit; nothing is changed when the step is refused, and a step
 *  whose loss is not finite fails with NN_ERROR_NON_FINITE (the weights
 *  keep their values from before it). Since 0.6. */
NN_NODISCARD nn_status nn_model_train_on_batch(nn_model *model, const float *x, const float *y,
                                               size_t rows, size_t x_cols, size_t y_cols,
                                               const float *sample_weights, double *values,
                                               size_t capacity);

/** The loss and metrics of one batch in inference mode, as Keras's
 *  test_on_batch: nn_model_evaluate on it, the loss weighted by
 *  sample_weights (NULL, or rows weights >= 0; a weighted loss is the mean
 *  over the rows of weight x loss, as fit's val_loss), the metrics
 *  unweighted. An inference call (see "Threading"). Errors as
 *  nn_model_evaluate. Since 0.6. */
NN_NODISCARD nn_status nn_model_test_on_batch(nn_model *model, const float *x, const float *y,
                                              size_t rows, size_t x_cols, size_t y_cols,
                                              const float *sample_weights, double *values,
                                              size_t capacity);

/* ---- Data-parallel training across processes (since 0.7) ----------------
 *
 * Every process (an MPI rank, say) holds the same model and calls
 * nn_model_fit with the same data and options; each global batch of
 * batch_size rows is cut into `size` contiguous shares, the process of rank
 * r training on share r; after each step's backward pass the processes'
 * gradients are summed by the callback below (libnn's gradients are one
 * contiguous block: one call per step) and every process takes the same
 * optimizer step, so the replicas stay identical. libnn links no
 * communication library: the callback is MPI_Allreduce, or anything that
 * sums float buffers across the processes
 * (bindings/c/examples/mpi_train.c, nn.distributed in Python).
 *
 *   - The shuffle is one permutation for all (the model's generator, or the
 *     fit's seed); Dropout's masks come from a generator of each process's
 *     own, seeded each epoch from the shared one's state and the rank:
 *     different, repeatable, and a fit resumed from a file saved between
 *     epochs continues exactly.
 *   - BatchNormalization normalizes with each process's own batch
 *     statistics (as PyTorch's DistributedDataParallel without
 *     SyncBatchNorm); at the end of each epoch every process takes rank 0's
 *     running statistics (as DDP's broadcast_buffers).
 *   - The epoch's loss and metrics are summed over the processes (whole
 *     counts exactly, up to 2^36 / size): every process's logs (and
 *     History) are the same, the global ones. Validation data is evaluated
 *     whole on every process (same weights, same values). Per-batch logs
 *     (on_batch_end) are the calling process's share.
 *   - Before the first epoch one all-reduce checks that the processes agree
 *     (fingerprints of the layers, the weights and running statistics, the
 *     loss, the optimizer with its state and learning rate, the metrics,
 *     the generator, the training and validation data and weights, and the
 *     fit's options and settings; the process count and ranks); otherwise
 *     every process returns NN_ERROR_INVALID_STATE naming what differs,
 *     and nothing has changed. A process whose checks refuse the fit (its
 *     arguments, its data) still takes part in that all-reduce, so the
 *     others return an error too instead of waiting for it (a call refused
 *     with NN_ERROR_BUSY, or NN_ERROR_NULL_POINTER / INVALID_HANDLE for the
 *     model itself, cannot: the others then wait). A step that fails on
 *     one process (a non-finite loss) fails on all of them, with
 *     NN_ERROR_COMMUNICATION on the others.
 *   - A stop asked by one process (its stop_flag; on_batch_end returning
 *     non-zero) reaches the others with the next step's all-reduce (or the
 *     epoch's): every process ends after that same step (a cancelled epoch
 *     takes rank 0's running statistics too). So a stop comes at most one
 *     step later than in one process. on_epoch_end sees the same logs
 *     everywhere and must decide alike (EarlyStopping does): a process that
 *     stops alone there leaves the others waiting in the next all-reduce.
 *   - nn_model_train_on_batch refuses a data-parallel model; evaluate and
 *     predict are local (this process's data).
 *
 * The callback sums count floats element-wise across the processes, in
 * place, with the same result on every process (MPI_Allreduce with
 * MPI_IN_PLACE, MPI_FLOAT, MPI_SUM), and returns 0; any other return value
 * fails the fit with NN_ERROR_COMMUNICATION (the message has the value). It
 * runs on the thread that called nn_model_fit. */
typedef int (*nn_allreduce_callback)(float *values, size_t count, void *user_data);

/** Makes the model's fits data-parallel: this process is `rank` of `size`
 *  (0 <= rank < size), and `allreduce` (with user_data, passed untouched)
 *  sums buffers across the processes. size 1 makes them one-process again
 *  (the default; allreduce may then be NULL). A call that changes the model
 *  (see "Threading"). Returns NN_ERROR_INVALID_ARGUMENT for size 0 or a
 *  rank >= size, NN_ERROR_NULL_POINTER for a NULL allreduce with size > 1.
 *  Since 0.7. */
NN_NODISCARD nn_status nn_model_set_data_parallel(nn_model *model, size_t rank, size_t size,
                                                  nn_allreduce_callback allreduce, void *user_data);

/** Runs the model on x [rows, x_cols] in inference mode and writes the
 *  outputs [rows, output_dim] into out, which holds out_capacity floats
 *  (at least rows * output_dim). Returns NN_ERROR_INVALID_STATE if the
 *  model has no layer, NN_ERROR_SHAPE_MISMATCH if rows is 0, for a wrong
 *  x_cols or a too-small out, NN_ERROR_NON_FINITE if x holds NaN or infinity. */
NN_NODISCARD nn_status nn_model_predict(nn_model *model, const float *x, size_t rows,
                                        size_t x_cols, float *out, size_t out_capacity);

/** The confusion matrix of the model's decisions on x [rows, x_cols] and
 *  y [rows, y_cols] (rows: true class, columns: predicted class, as
 *  scikit-learn): counts[t * classes + p]. One output gives 2 classes
 *  (threshold 0.5 on probabilities, 0 on logits); binary cross-entropy on
 *  several outputs pools the 2×2 counts of every output; otherwise one class
 *  per output, decided by argmax. *classes receives the number of classes;
 *  counts holds capacity entries (at least classes * classes; with counts
 *  NULL and capacity 0 only *classes is written). Needs a classification
 *  loss (NN_ERROR_INVALID_STATE otherwise); data errors as nn_model_evaluate. */
NN_NODISCARD nn_status nn_model_confusion_matrix(nn_model *model, const float *x, const float *y,
                                                 size_t rows, size_t x_cols, size_t y_cols,
                                                 size_t *counts, size_t capacity, size_t *classes);

/** Explanations: the gradient of the model's outputs with respect to its
 *  inputs, in inference mode (Dropout is the identity, BatchNorm uses its
 *  running statistics; every row is independent of the others), as
 *  torch.autograd.grad(model(x), x, grad_outputs=output_gradient) on a
 *  model in eval mode: for each row r,
 *      input_gradient[r, i] = sum_j output_gradient[r, j] * d out[r, j] / d x[r, i]
 *  where out = nn_model_predict(x) (after the last activation). A one-hot
 *  row of output_gradient selects d out_j / d x (a saliency map of output
 *  j). x is [rows, x_cols], output_gradient [rows, output_cols] with
 *  output_cols the model's output width; input_gradient receives
 *  [rows, x_cols] (input_capacity floats, at least rows * x_cols). An
 *  inference call: the model is not changed, and calls may run on many
 *  threads at once. Errors as nn_model_predict, plus
 *  NN_ERROR_SHAPE_MISMATCH for output_cols, NN_ERROR_NON_FINITE for
 *  output_gradient and NN_ERROR_INVALID_STATE for a layer with the step
 *  activation (no gradient passes through it). Since 0.8. */
NN_NODISCARD nn_status nn_model_input_gradient(nn_model *model, const float *x, size_t rows, size_t x_cols,
                                               const float *output_gradient, size_t output_cols,
                                               float *input_gradient, size_t input_capacity);

/** The gradient with respect to x [rows, x_cols] of the model's loss
 *  against y [rows, y_cols] as nn_model_evaluate computes it: the mean over
 *  the rows of each row's loss (PyTorch's reduction="mean"), in inference
 *  mode, without the regularization penalty (it does not depend on x). Row
 *  r of input_gradient is therefore d loss_r / d x[r] divided by rows
 *  (multiply by rows for per-sample gradients, e.g. adversarial examples).
 *  Needs a loss (NN_ERROR_INVALID_STATE otherwise); data errors as
 *  nn_model_evaluate, buffer and activation errors as
 *  nn_model_input_gradient. Since 0.8. */
NN_NODISCARD nn_status nn_model_loss_input_gradient(nn_model *model, const float *x, const float *y, size_t rows,
                                                    size_t x_cols, size_t y_cols,
                                                    float *input_gradient, size_t input_capacity);

/* ------------------------------------------------------------------------ */
/* Saving and loading                                                       */
/* ------------------------------------------------------------------------ */

/* A model file is a safetensors file (https://github.com/huggingface/safetensors),
 * read by the `safetensors` package, PyTorch, Keras and MLX. Its tensors are
 * named as PyTorch names the state_dict of the equivalent torch.nn.Sequential,
 * where a Dense layer with an activation is a Linear module followed by the
 * activation's module, so indices count both: "0.weight" [units, inputs]
 * (PyTorch's layout: the transpose of Keras's kernel), "0.bias", "2.weight",
 * ...; a batch normalization is "i.weight", "i.bias", "i.running_mean",
 * "i.running_var" (F32) and "i.num_batches_tracked" (I64 scalar). With
 * NN_SAVE_INCLUDE_OPTIMIZER the optimizer's state follows as
 * "optimizer.<tensor>.<state>" (for example "optimizer.0.weight.exp_avg",
 * named as in torch.optim's state_dict), so that a loaded model resumes
 * training exactly where the saved one stopped. The architecture, loss,
 * optimizer configuration, metrics, learning-rate schedule, seed, the state
 * of the model's random generator, the epoch count and the libnn version are
 * JSON strings in the header's "__metadata__". */

/** Flag of nn_model_save and nn_model_save_to_buffer: also store the
 *  optimizer's state (moments, step count, current learning rate), so that
 *  training N epochs equals training k, saving, loading and training N - k,
 *  bit for bit. Without it a loaded model keeps its optimizer configuration
 *  and starts with fresh optimizer state, as a newly compiled one. */
#define NN_SAVE_INCLUDE_OPTIMIZER 1u

/** Saves the model to the file at `path` (UTF-8). The bytes are written to a
 *  temporary file in the same directory, flushed to disk, and renamed over
 *  `path`, so a crash or a kill at any moment leaves either the previous
 *  file or the new one, never a truncated one. flags: 0 or
 *  NN_SAVE_INCLUDE_OPTIMIZER (other bits: NN_ERROR_INVALID_ARGUMENT). Needs
 *  at least one layer (NN_ERROR_INVALID_STATE). Returns NN_ERROR_IO, with
 *  the system's reason in the message, if the file cannot be written. */
NN_NODISCARD nn_status nn_model_save(const nn_model *model, const char *path, unsigned int flags);

/** Serializes the model, as nn_model_save would write it, into buffer, which
 *  holds capacity bytes. *size receives the file's size; with buffer NULL
 *  and capacity 0 only *size is written, so a caller can ask first. A
 *  non-NULL buffer smaller than the size gives NN_ERROR_SHAPE_MISMATCH (and
 *  *size). */
NN_NODISCARD nn_status nn_model_save_to_buffer(const nn_model *model, unsigned int flags, void *buffer,
                                               size_t capacity, size_t *size);

/** Loads a model file written by nn_model_save into a new model (*out; free
 *  it with nn_model_free): layers, weights, loss, optimizer (and its state
 *  if saved), metrics, schedule, seed and random-generator state. The file
 *  is treated as untrusted: a truncated or corrupted file, a header that
 *  claims more bytes than the file has, overlapping or out-of-range tensor
 *  offsets, a wrong dtype or shape, a missing tensor, an unknown layer kind
 *  or a newer format version each give NN_ERROR_INVALID_FILE with a message
 *  that says which; libnn allocates nothing beyond what the file's size
 *  justifies. NN_ERROR_IO if the file cannot be opened or read. *out is
 *  written only on success. */
NN_NODISCARD nn_status nn_model_load(const char *path, nn_model **out);

/** As nn_model_load, from the `size` bytes at data (which libnn does not keep). */
NN_NODISCARD nn_status nn_model_load_from_buffer(const void *data, size_t size, nn_model **out);

/** Replaces the weights of an existing model with the tensors of a
 *  safetensors file named as above ("0.weight" [units, inputs], "0.bias",
 *  ...; any other tool may have written it, PyTorch's
 *  safetensors.torch.save_file(module.state_dict(), path) for instance).
 *  Every weight of the model must be present with its exact shape and dtype
 *  F32 (num_batches_tracked: I64, or absent); tensors under "optimizer." are
 *  ignored; any other tensor is an error, as in PyTorch's strict
 *  load_state_dict. On any error (NN_ERROR_INVALID_FILE naming the tensor,
 *  NN_ERROR_NON_FINITE for NaN or infinity in a weight) the model is
 *  unchanged. The optimizer's state is kept. */
NN_NODISCARD nn_status nn_model_load_weights(nn_model *model, const char *path);

/** As nn_model_load_weights, from the `size` bytes at data. */
NN_NODISCARD nn_status nn_model_load_weights_from_buffer(nn_model *model, const void *data, size_t size);

/** Writes the model's configuration as UTF-8 JSON, for bindings that build
 *  their own objects around a model (Python's nn.load_model reads it instead
 *  of the file): {"format": 1, "architecture": {...}, "compile": {...},
 *  "layer_names": [...]}, where "architecture" (input_dim, seed, layers) and
 *  "compile" (loss, optimizer with its hyper-parameters, metrics, schedule;
 *  each null or empty until set) are the objects nn_model_save writes into
 *  the file's "__metadata__", and "layer_names" are the layers' Keras
 *  default names ("dense", "dense_1", "dropout", ...). Compact, with the
 *  members of each object sorted; no weights and no training state. Written
 *  as nn_model_summary writes its text: truncated to capacity - 1 bytes and
 *  NUL-terminated when capacity > 0, *length (if not NULL) the full length
 *  without the NUL, so buffer NULL and capacity 0 ask for the size first.
 *  Returns NN_ERROR_NULL_POINTER for a NULL model or a NULL buffer with
 *  capacity > 0. */
NN_NODISCARD nn_status nn_model_config(const nn_model *model, char *buffer, size_t capacity, size_t *length);

/* ------------------------------------------------------------------------ */
/* Seeing inside: gradient check, anomaly detection, layer statistics,      */
/* diagnosis                                                                */
/* ------------------------------------------------------------------------ */

/** Options of nn_model_gradient_check; fill with nn_gradient_check_options_init. */
typedef struct nn_gradient_check_options {
    size_t struct_size;            /**< sizeof(nn_gradient_check_options), set by the init function */
    int use_float;                 /**< 0 (default): the layers rebuilt in double precision over the
                                        generic reference kernels (a correct layer gives ~1e-9); 1: the
                                        float32 production kernels themselves (~1e-3 is normal) */
    double epsilon;                /**< finite-difference step h; 0 (default): 1e-6 in double, 1e-2 in float */
    size_t max_checks_per_array;   /**< at most this many elements of each weight array are checked
                                        (random ones from seed, plus the one of largest gradient);
                                        default 64; 0 checks all */
    uint64_t seed;                 /**< seeds the choice of elements and the Dropout masks (held
                                        fixed during the check); default 0 */
} nn_gradient_check_options;

/** One layer's result of nn_model_gradient_check. */
typedef struct nn_gradient_check_result {
    size_t layer;                  /**< index of the layer (0-based) */
    double relative_error;         /**< ||analytic - numeric|| / (||analytic|| + ||numeric||) over
                                        the checked elements of the layer */
    size_t weight_index;           /**< where |analytic - numeric| is largest: the weight array
                                        (nn_model_get_weight's index) ... */
    size_t element;                /**< ... and the element in it (row-major, Keras's layout) */
    double analytic;               /**< backpropagation's derivative there */
    double numeric;                /**< (L(w + h) - L(w - h)) / 2h there */
    size_t checked;                /**< elements compared in this layer */
    size_t below_resolution;       /**< elements left out because both derivatives are below what
                                        finite differences resolve (about 8·|L|·eps/h: 2e-9 for a
                                        loss near 1 in double); many in the first layers is itself
                                        a sign of vanishing gradients */
} nn_gradient_check_result;

/** Fills the first `size` bytes of *options with the defaults
 *  (struct_size = size). Does nothing if options is NULL. Call it through
 *  the macro nn_gradient_check_options_init(options). */
void nn_gradient_check_options_init_sized(nn_gradient_check_options *options, size_t size);
/** The same for programs built against nn.h 0.3.0 (fills the 0.3.0 layout). */
void nn_gradient_check_options_init(nn_gradient_check_options *options);
#define nn_gradient_check_options_init(options) \
    nn_gradient_check_options_init_sized((options), sizeof(nn_gradient_check_options))

/** Checks the analytic gradient of every parameter against central finite
 *  differences of the training loss (loss + regularization, in training
 *  mode: Dropout masks held fixed, batch normalization on batch statistics)
 *  on x [rows, x_cols] and y [rows, y_cols], as PyTorch's gradcheck does for
 *  a function. Writes one result per layer that has parameters, in layer
 *  order, into results, which holds capacity entries (the number of layers,
 *  nn_model_layer_count, always suffices; fewer than needed gives
 *  NN_ERROR_SHAPE_MISMATCH); *count receives the number written. The model
 *  is not changed. options may be NULL for the defaults. Needs a loss
 *  (NN_ERROR_INVALID_STATE); data errors as nn_model_evaluate. */
NN_NODISCARD nn_status nn_model_gradient_check(nn_model *model, const float *x, const float *y, size_t rows,
                                               size_t x_cols, size_t y_cols,
                                               const nn_gradient_check_options *options,
                                               nn_gradient_check_result *results, size_t capacity,
                                               size_t *count);

/** Turns anomaly detection on (1) or off (0, the default). While on,
 *  nn_model_fit checks every layer's output (forward), every parameter and
 *  input gradient (backward) and every updated parameter (update) for NaN
 *  and infinity, and stops at the first one with NN_ERROR_NON_FINITE and a
 *  message naming the layer, the stage, the epoch, the batch and the
 *  element: "non-finite value (inf) in forward of layer 2 (dense_2, relu) at
 *  epoch 37, batch 12 (counting from 1), element [5, 17] of its output".
 *  Off, it costs nothing. */
NN_NODISCARD nn_status nn_model_set_anomaly_detection(nn_model *model, int enabled);

/** Collects per-layer statistics during nn_model_fit from every
 *  every_batches-th batch of each epoch (1: every batch); 0 (the default)
 *  collects none. Read them with nn_model_layer_statistics. */
NN_NODISCARD nn_status nn_model_set_layer_statistics(nn_model *model, size_t every_batches);

/** One layer's statistics over one epoch (over the sampled batches). */
typedef struct nn_layer_statistics {
    size_t struct_size;            /**< set by libnn to the size it wrote: this struct's size in nn.h
                                        0.3.0 (88 on LP64); it does not grow within a major version */
    size_t epoch;                  /**< the epoch (counting from 0 over all fits) */
    size_t layer;                  /**< index of the layer */
    size_t batches;                /**< batches sampled */
    double activation_mean;        /**< mean of the layer's outputs (logits for an output layer
                                        whose softmax/sigmoid the loss applies) */
    double activation_std;         /**< their standard deviation */
    double dead_fraction;          /**< ReLU layers: fraction of units never positive; else NaN */
    double saturated_fraction;     /**< sigmoid/tanh layers: fraction of outputs where the derivative
                                        is under 5% of its maximum; else NaN */
    double gradient_norm;          /**< mean L2 norm of the layer's parameter gradient; NaN without parameters */
    double weight_norm;            /**< L2 norm of the layer's parameters at the end of the epoch; NaN without */
    double update_ratio;           /**< mean ||update|| / ||parameters|| of one step; NaN without parameters */
} nn_layer_statistics;

/** Number of epochs that collected statistics so far (over all fits). */
NN_NODISCARD nn_status nn_model_layer_statistics_count(const nn_model *model, size_t *count);

/** The statistics of layer `layer` in entry `entry` (0 <= entry <
 *  nn_model_layer_statistics_count: epochs in order). Returns
 *  NN_ERROR_INVALID_ARGUMENT for an entry or layer out of range. */
NN_NODISCARD nn_status nn_model_layer_statistics(const nn_model *model, size_t entry, size_t layer,
                                                 nn_layer_statistics *out);

/** What nn_model_diagnose can find. */
typedef enum nn_finding_kind {
    NN_FINDING_VANISHING_GRADIENTS = 0, /**< the gradient shrinks by orders of magnitude towards the first layer */
    NN_FINDING_EXPLODING_GRADIENTS = 1, /**< it grows by orders of magnitude, or is huge or non-finite */
    NN_FINDING_DEAD_UNITS = 2,          /**< most units of a ReLU layer never fire */
    NN_FINDING_SATURATED_UNITS = 3,     /**< most outputs of a sigmoid/tanh layer sit on its flat tails */
    NN_FINDING_LEARNING_RATE_TOO_HIGH = 4, /**< the loss rises or becomes non-finite */
    NN_FINDING_UNSCALED_INPUTS = 5,     /**< input features differ in scale by orders of magnitude */
    NN_FINDING_LABEL_MISMATCH = 6,      /**< the targets do not fit the loss or the output layer */
    NN_FINDING_LOSS_AT_CHANCE = 7       /**< the loss stays at the value of guessing */
} nn_finding_kind;

/** One finding of nn_model_diagnose. */
typedef struct nn_finding {
    nn_finding_kind kind;
    int64_t layer;                 /**< the layer concerned, or -1 */
    double value;                  /**< the figure behind the finding (a gradient ratio, a fraction
                                        of dead units, a ratio of feature scales, ...) */
    const char *message;           /**< what was seen, with numbers */
    const char *suggestion;        /**< what to try */
} nn_finding;

/** Trains a copy of the model for `steps` (>= 2; 0: 20) mini-batches of
 *  batch_size (0: 32) rows drawn from x [rows, x_cols], y [rows, y_cols],
 *  watching gradients, activations and the loss, and keeps what it finds in
 *  the model: *count receives the number of findings (read them with
 *  nn_model_finding) and nn_model_diagnosis_report gives a readable report.
 *  The model's weights and optimizer state are not changed. Targets that
 *  the loss cannot train on at all (a wrong number of columns, class indices
 *  out of range) are a finding, NN_FINDING_LABEL_MISMATCH with value NaN,
 *  not an error: the steps are then skipped. A learning-rate schedule is
 *  not applied during the steps (the current rate is kept). Needs a
 *  compiled model (NN_ERROR_INVALID_STATE). */
NN_NODISCARD nn_status nn_model_diagnose(nn_model *model, const float *x, const float *y, size_t rows,
                                         size_t x_cols, size_t y_cols, size_t steps, size_t batch_size,
                                         size_t *count);

/** Finding `index` of the last nn_model_diagnose on this model. Its strings
 *  belong to the model and stay valid until the next nn_model_diagnose or
 *  nn_model_free. NN_ERROR_INVALID_STATE before any diagnosis,
 *  NN_ERROR_INVALID_ARGUMENT for an index out of range. */
NN_NODISCARD nn_status nn_model_finding(const nn_model *model, size_t index, nn_finding *out);

/** The report of the last nn_model_diagnose, written as nn_model_summary
 *  writes its text (truncated to capacity - 1 bytes, NUL-terminated,
 *  *length the full length). NN_ERROR_INVALID_STATE before any diagnosis. */
NN_NODISCARD nn_status nn_model_diagnosis_report(const nn_model *model, char *buffer, size_t capacity,
                                                 size_t *length);

/* ------------------------------------------------------------------------ */
/* Threads and kernels                                                      */
/* ------------------------------------------------------------------------ */

/** Sets the number of threads libnn's kernels use, process-wide (0 restores
 *  the default: the environment variable NN_NUM_THREADS if set, else the
 *  number of online CPUs). Small products always run on the calling thread,
 *  so tiny networks never slow down with more threads. Results are
 *  bit-identical for every thread count (fixed partitioning). Workers are
 *  created once and kept. Call it while no model is training. Returns
 *  NN_ERROR_INVALID_ARGUMENT above 256. */
NN_NODISCARD nn_status nn_set_num_threads(size_t threads);

/** The number of threads libnn's kernels use. */
NN_NODISCARD nn_status nn_num_threads(size_t *out);

/** The instruction-set level of the kernels in use: "avx512", "avx2" or
 *  "baseline" (SSE2 on x86-64, NEON on arm64). Chosen once, when libnn first
 *  needs its kernels, as the highest level that both the CPU (CPUID) and the
 *  OS (the register state it saves, XCR0) support; the environment variable
 *  NN_CPU=baseline|avx2|avx512 (read at that moment, in any case) forces a
 *  level instead. A forced level that this CPU or OS lacks, or an NN_CPU
 *  value that is not a level, is not an error: libnn writes one line to
 *  stderr (e.g. "libnn: NN_CPU=avx512: this CPU does not support avx512;
 *  using avx2") and uses the highest level available, which is what this
 *  function then returns. Static string; never NULL. */
const char *nn_cpu_level(void);

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
