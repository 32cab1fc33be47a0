/// Element-wise (or, for softmax, row-wise) activation functions.
///
/// Formulas match Keras and PyTorch:
/// - `linear`:  f(z) = z
/// - `sigmoid`: f(z) = 1 / (1 + e^-z)
/// - `tanh`:    f(z) = tanh z
/// - `relu`:    f(z) = max(z, 0)   (derivative taken as 0 at z = 0, as PyTorch)
/// - `softmax`: f(z)_i = e^(z_i) / Σ_j e^(z_j) over each row
public enum Activation: String, CaseIterable, Sendable {
    case linear, sigmoid, tanh, relu, softmax
}
