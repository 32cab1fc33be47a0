// nn.h compiled on its own as C++ (built as C++11 and as C++17) with
// -Wall -Wextra -Werror -pedantic. Linking against libnn proves that the
// extern "C" guards give the declarations C linkage.
#include "nn.h"

#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(NN_OK == 0, "NN_OK is 0");
static_assert(NN_ERROR_INTERNAL == 8, "status values are ABI");
static_assert(std::is_standard_layout<nn_fit_options>::value, "C struct");
static_assert(std::is_standard_layout<nn_optimizer_options>::value, "C struct");
static_assert(std::is_standard_layout<nn_dense_options>::value, "C struct");
static_assert(offsetof(nn_fit_options, struct_size) == 0, "struct_size first");

namespace {

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
    CHECK(std::strcmp(nn_version(), NN_VERSION_STRING) == 0);
    CHECK(std::strcmp(nn_status_string(NN_ERROR_INVALID_ARGUMENT), "invalid argument") == 0);

    // The declared signature, spelled out: a mismatch fails to compile.
    nn_status (*create)(size_t, uint64_t, nn_model **) = nn_model_create;
    nn_model *model = nullptr;
    CHECK(create(2, 7, &model) == NN_OK);
    CHECK(nn_model_add_dense(model, 1, NN_ACTIVATION_SIGMOID) == NN_OK);
    size_t params = 0;
    CHECK(nn_model_parameter_count(model, &params) == NN_OK && params == 3);

    nn_fit_options options;
    nn_fit_options_init(&options);
    options.on_epoch_end = stop_at_once;
    CHECK(options.struct_size == sizeof(nn_fit_options));
    nn_model_free(model);

    if (failures == 0) std::printf("nn.h as C++%ld: ok\n", static_cast<long>(__cplusplus));
    return failures;
}
