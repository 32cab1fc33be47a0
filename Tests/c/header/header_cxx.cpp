// nn.h compiled on its own as C++ (built as C++11 and as C++17) with
// -Wall -Wextra -Werror -pedantic. Linking against libnn proves that the
// extern "C" guards give the declarations C linkage; signatures.inc spells
// out every function's type, and a mismatch is a conversion error.
#include "nn.h"

#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(NN_OK == 0, "NN_OK is 0");
static_assert(NN_ERROR_INTERNAL == 8, "status values are ABI");
static_assert(NN_ERROR_INVALID_FILE == 10, "status values are ABI");
static_assert(NN_ERROR_BUSY == 11, "status values are ABI");
static_assert(NN_SAVE_INCLUDE_OPTIMIZER == 1u, "save flags are ABI");
static_assert(NN_ACTIVATION_STEP == 9, "activation values are ABI");
static_assert(NN_INIT_CONSTANT == 9, "initializer values are ABI");
static_assert(NN_LOSS_HUBER == 6, "loss values are ABI");
static_assert(NN_OPTIMIZER_RPROP == 6, "optimizer values are ABI");
static_assert(NN_METRIC_MEAN_ABSOLUTE_ERROR == 10, "metric values are ABI");
static_assert(NN_LAYER_ACTIVATION == 4, "layer kinds are ABI");
static_assert(NN_SCHEDULE_REDUCE_ON_PLATEAU == 4, "schedule values are ABI");
static_assert(NN_MONITOR_MAX == 2, "monitor modes are ABI");
static_assert(NN_FINDING_VANISHING_GRADIENTS == 0, "finding kinds are ABI");
static_assert(NN_FINDING_LOSS_AT_CHANCE == 7, "finding kinds are ABI");
static_assert(std::is_standard_layout<nn_fit_options>::value, "C struct");
static_assert(std::is_standard_layout<nn_optimizer_options>::value, "C struct");
static_assert(std::is_standard_layout<nn_dense_options>::value, "C struct");
static_assert(std::is_standard_layout<nn_loss_options>::value, "C struct");
static_assert(std::is_standard_layout<nn_schedule_options>::value, "C struct");
static_assert(std::is_standard_layout<nn_early_stopping_options>::value, "C struct");
static_assert(std::is_standard_layout<nn_gradient_check_options>::value, "C struct");
static_assert(std::is_standard_layout<nn_gradient_check_result>::value, "C struct");
static_assert(std::is_standard_layout<nn_layer_statistics>::value, "C struct");
static_assert(std::is_standard_layout<nn_finding>::value, "C struct");
static_assert(std::is_trivially_copyable<nn_gradient_check_result>::value, "C struct");
static_assert(std::is_trivially_copyable<nn_layer_statistics>::value, "C struct");
static_assert(std::is_trivially_copyable<nn_finding>::value, "C struct");
static_assert(std::is_trivially_copyable<nn_fit_options>::value, "C struct");
static_assert(std::is_trivially_copyable<nn_schedule_options>::value, "C struct");
static_assert(offsetof(nn_fit_options, struct_size) == 0, "struct_size first");
static_assert(offsetof(nn_dense_options, struct_size) == 0, "struct_size first");
static_assert(offsetof(nn_loss_options, struct_size) == 0, "struct_size first");
static_assert(offsetof(nn_optimizer_options, struct_size) == 0, "struct_size first");
static_assert(offsetof(nn_schedule_options, struct_size) == 0, "struct_size first");
static_assert(offsetof(nn_early_stopping_options, struct_size) == 0, "struct_size first");
static_assert(offsetof(nn_gradient_check_options, struct_size) == 0, "struct_size first");
static_assert(offsetof(nn_layer_statistics, struct_size) == 0, "struct_size first");

// The declared signatures, spelled out: a mismatch fails to compile.
#define NN_SIGNATURE(ret, name, params) static ret(*const sig_##name) params = name;
#include "signatures.inc"
#undef NN_SIGNATURE

namespace {

typedef void (*any_function)(void);
struct signature {
    const char *name;
    any_function function;
};
const signature signatures[] = {
#define NN_SIGNATURE(ret, name, params) {#name, reinterpret_cast<any_function>(sig_##name)},
#include "signatures.inc"
#undef NN_SIGNATURE
};

int failures = 0;

void check(bool ok, const char *what, int line) {
    if (!ok) {
        std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, line, what);
        failures++;
    }
}

#define CHECK(cond) check((cond), #cond, __LINE__)

// The callback type is usable from C++ code (a captureless function).
int stop_at_once(void *, size_t, size_t, const char *const *, const double *) {
    return 1;
}

}  // namespace

int main() {
    CHECK(std::strcmp(sig_nn_version(), NN_VERSION_STRING) == 0);
    CHECK(std::strcmp(nn_status_string(NN_ERROR_INVALID_ARGUMENT), "invalid argument") == 0);

    const size_t n = sizeof signatures / sizeof signatures[0];
    CHECK(n == 79);
    for (size_t i = 0; i < n; i++) {
        CHECK(signatures[i].function != nullptr);
        for (size_t j = 0; j < i; j++)
            CHECK(std::strcmp(signatures[i].name, signatures[j].name) != 0);
    }

    nn_model *model = nullptr;
    CHECK(sig_nn_model_create(2, 7, &model) == NN_OK);
    CHECK(sig_nn_model_add_dense(model, 1, NN_ACTIVATION_SIGMOID) == NN_OK);
    size_t params = 0;
    CHECK(sig_nn_model_parameter_count(model, &params) == NN_OK && params == 3);
    const char *name = nullptr;
    int trainable = -1;
    CHECK(sig_nn_model_weight_info(model, 0, &name, &trainable) == NN_OK);
    CHECK(name != nullptr && std::strcmp(name, "kernel") == 0 && trainable == 1);

    nn_early_stopping_options stopping;
    sig_nn_early_stopping_options_init(&stopping);
    CHECK(stopping.struct_size == sizeof(nn_early_stopping_options));
    nn_fit_options options;
    sig_nn_fit_options_init(&options);
    options.on_epoch_end = stop_at_once;
    options.early_stopping = &stopping;
    // the function (not the macro) fills the 0.3.0 layout, which ended
    // with early_stopping (0.6 appended on_batch_end and stop_flag)
    CHECK(options.struct_size == offsetof(nn_fit_options, on_batch_end));
    nn_gradient_check_options gc;
    sig_nn_gradient_check_options_init(&gc);
    CHECK(gc.struct_size == sizeof(nn_gradient_check_options) && gc.max_checks_per_array == 64);
    sig_nn_model_free(model);

    if (failures == 0)
        std::printf("nn.h as C++%ld: ok (%zu function signatures)\n",
                    static_cast<long>(__cplusplus), n);
    return failures;
}
