import XCTest
@testable import NNCore

/// A second, outside check of the acceptance problem: θ after 10 steps of
/// each configuration as PyTorch itself computes it, recorded once with
/// torch 2.13.0+cpu in float64 (single-tensor path, foreach=False), on the
/// problem of OptimizerTrajectoryTests (f(θ) = ½ (θ − c)ᵀ H (θ − c), the same
/// H, c and θ₀, the gradient H (θ − c) evaluated in float64 before each step).
/// The numbers come from this script (torch is not needed to run the tests):
///
///     H = diag(d) + diag(e, 1) + diag(e, -1)     # d, e, c, θ₀ as in OptimizerTrajectoryTests
///     p = torch.nn.Parameter(torch.tensor(θ₀, dtype=torch.float64))
///     opt = torch.optim.<Kind>([p], <the configuration's arguments>, foreach=False)
///     for _ in range(10):
///         p.grad = torch.tensor(H @ (p.detach().numpy() - c)); opt.step()
///     print([repr(x) for x in p.detach().numpy()])
///
/// with, for each name, the hyper-parameters of `optimizerConfigurations`
/// (OptimizerTests.swift), passed as torch's arguments (lr, momentum,
/// dampening, nesterov, betas, eps, weight_decay, amsgrad, alpha, centered,
/// lr_decay, initial_accumulator_value, etas, step_sizes).
final class OptimizerPyTorchValuesTests: XCTestCase {
    static let recorded: [String: [Double]] = [
        "SGD": [1.549234088974193, -1.5979188110878844, 1.1816570854048916, -1.6267519473225516, 1.920024470711268, -1.9987649620797592],
        "SGD + weight decay": [1.503914713668125, -1.551185168054175, 1.1555292250647007, -1.5664031382193415, 1.88963560469302, -1.9269062188475823],
        "SGD + momentum": [0.5073179501428907, -2.3654995690344016, 0.581582198370904, -0.5288374394020331, 2.2998352947236462, -1.4179132366851552],
        "SGD + momentum + dampening + weight decay": [0.9304120771235048, -1.873721713002762, 0.8687406465617191, -1.18052118288758, 2.159730162156094, -1.8130255626738314],
        "SGD + Nesterov + weight decay": [1.2775141056234192, -1.8136554793216428, 1.0059758909802443, -1.288060693385899, 2.008204562557649, -1.7867004676893876],
        "Adam": [2.0396880057777476, -1.7075395856653781, 1.1015618920416963, -1.7851637812144407, 2.1257787914769484, -1.5575013074706805],
        "Adam + weight decay": [2.063169752307641, -1.673090484192778, 1.1400441312913263, -1.8062223470217953, 2.0572632717381123, -1.579209059266367],
        "Adam + amsgrad": [2.0396880057777476, -1.7075395856653781, 1.1015746578104517, -1.785163764515209, 2.125746256552485, -1.557501448065894],
        "Adam + amsgrad + weight decay": [2.5010781406083398, -1.2481949857602883, 1.5049745347360335, -2.2508663762212846, 1.7379643942851355, -2.0012498930732807],
        "AdamW": [1.810394039479778, -1.5954554854341338, 0.9952118649606513, -1.5782566396070055, 2.0024458467035164, -1.4234007822967283],
        "AdamW + amsgrad": [1.828110749540104, -1.5855806618482011, 1.0499037005538385, -1.5928949763455393, 1.9682451359227529, -1.4726457231016623],
        "RMSprop": [2.5305099567024527, -1.2174637949992155, 1.5596861050756081, -2.2777545987349126, 1.6812527103938222, -2.0415497893951016],
        "RMSprop + momentum": [1.5660803596671347, -2.1556128258671388, 0.8651943559164589, -1.2904955646659144, 2.2790821057729054, -1.2071548338873295],
        "RMSprop + centered": [2.7820578300611287, -0.9676595237865537, 1.7871209522626055, -2.531541004844362, 1.4615200080996058, -2.283735594036607],
        "RMSprop + weight decay": [2.1329846558862475, -1.5232405494126071, 1.2463799221879237, -1.868728335428038, 1.8399855122594535, -1.655156562143448],
        "RMSprop + centered + momentum + weight decay": [2.7633011076296583, -0.984908243315852, 1.7684096109078098, -2.512654996251063, 1.4775216063564773, -2.263878263073102],
        "Adagrad": [1.8775082890554557, -1.830768757419077, 1.1275867917465334, -1.6086856561406455, 2.0074082504020443, -1.5484812593935071],
        "Adagrad + lr decay": [1.705524449170211, -1.9597723938694236, 1.0565238790483262, -1.4316319073951196, 2.017667062613582, -1.4989662112167472],
        "Adagrad + initial accumulator": [1.5960224975146609, -1.9939069515938646, 1.0255270012534998, -1.3370764339279775, 2.0066917922116003, -1.5113853963604964],
        "Adagrad + lr decay + initial accumulator + weight decay": [2.0450410543273394, -1.6243906756623578, 1.218927101607532, -1.7977823935523545, 1.9207198326697712, -1.7237103594875958],
        "Rprop": [1.3830000000000005, -1.942, 1.1159999999999999, -1.1330000000000005, 1.8963999999999999, -1.6380000000000006],
        "Rprop, default bounds": [1.562265625, -1.9314453124999997, 0.8812031249999999, -1.312265625, 2.004296875, -1.3185546875],
    ]

    /// θ after 10 steps of the library on the acceptance problem.
    func finalTheta<T: NNFloat>(_ options: OptimizerOptions, _ scalar: T.Type) -> [Double] {
        OptimizerTrajectoryTests.libraryRun(options, T.self).trajectory.last!
    }

    func testEveryConfigurationMatchesPyTorchsOwnNumbers() {
        XCTAssertEqual(Set(Self.recorded.keys), Set(optimizerConfigurations.map(\.name)),
                       "every configuration has recorded values (rerun the script after changing one)")
        for (name, options) in optimizerConfigurations {
            guard let want = Self.recorded[name] else { continue }
            let double = finalTheta(options, Double.self), float = finalTheta(options, Float.self)
            for i in want.indices {
                XCTAssertLessThan(relativeDifference(double[i], want[i]), 1e-12,
                                  "\(name) parameter \(i): \(double[i]) vs torch \(want[i])")
                XCTAssertLessThan(relativeDifference(float[i], want[i]), 1e-5,
                                  "\(name) (Float) parameter \(i): \(float[i]) vs torch \(want[i])")
            }
        }
    }

    func testRpropWithALearningRateAboveTheMaximumMatchesPyTorch() {
        // torch.optim.Rprop(lr=1, etas=(0.5, 1.2), step_sizes=(0.01, 0.5)): the first step
        // already clamps the step sizes to 0.5 (see testRpropClampsALearningRateOutsideTheBounds).
        let want = [1.55, -1.9875, 0.95, -1.2, 1.9875, -1.475]
        let got = finalTheta(.rprop(learningRate: 1, stepSizeMin: 0.01, stepSizeMax: 0.5), Double.self)
        for i in want.indices { XCTAssertEqual(got[i], want[i], accuracy: 1e-15, "parameter \(i)") }
    }
}
