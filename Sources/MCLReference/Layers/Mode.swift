/// Whether a network runs as in training or evaluation, PyTorch's `module.train()` / `module.eval()`.
/// Only `BatchNorm1d` and `BatchNorm2d` behave differently: batch statistics (and running-stat updates) in `.train`,
/// running statistics in `.eval`.
public enum Mode: String, Sendable, Equatable, CaseIterable {
    case train, eval
}
