import Foundation

/// A trained run's encoders applied to new data (`mcl-ref encode`): the run's input standardisation,
/// then each chosen stage's encoder f_j in eval mode (BatchNorm running statistics), concatenated in
/// stage order — with every completed stage, the integrated representation of Eq. 5.
///
/// Given the raw rows the run was evaluated on, the result is the run's own stored test
/// representations bit for bit: the same standardisation arithmetic, the same weights (loaded from
/// `stage<j>.safetensors`) and the same eval-mode forward pass (`ContrastiveModel.representations`).
public struct RunEncoder<T: MCLFloat> {
    public let directory: RunDirectory
    public let checkpoint: MCLCheckpoint
    public let configuration: MCLConfiguration
    /// The run's standardisation of its inputs; nil when they were used as given (built-in data,
    /// `--no-standardize`).
    public let standardization: InputStandardization?
    /// The trained models of the completed stages, in order.
    public let models: [ContrastiveModel<T>]

    /// Reads the run in `directory` (checkpoint, settings, standardisation, every completed stage's
    /// weights; each file checked against its checksum). Throws `CheckpointError` naming the file.
    public init(_ directory: RunDirectory) throws {
        self.directory = directory
        checkpoint = try directory.readCheckpoint()
        configuration = try directory.configuration(checkpoint)
        standardization = try directory.standardization(checkpoint)
        let (checkpoint, configuration) = (checkpoint, configuration)
        models = try checkpoint.stages.indices.map {
            try directory.loadModel(stage: $0, checkpoint: checkpoint, configuration: configuration)
        }
    }

    /// The shape of one sample the run was trained on: [D], or [C, H, W].
    public var sampleShape: [Int] { checkpoint.sampleShape }
    /// The stages that completed (a stopped run may have fewer than `configuration.stages`).
    public var completedStages: Int { models.count }
    /// The width of one stage's representation, R.
    public var representationWidth: Int { configuration.representationWidth }

    /// [f_j(s(x)) for j in `stages`], s the run's standardisation.
    /// - Precondition: rows of `sampleShape`'s size, every stage completed, at least one stage.
    /// - Shape: x N×D → N×(R·stages.count).
    public func encode(_ x: Matrix<T>, stages: [Int]) -> Matrix<T> {
        precondition(x.cols == sampleShape.reduce(1, *), "RunEncoder: rows of \(x.cols) values, the run's samples have shape \(sampleShape)")
        precondition(!stages.isEmpty && stages.allSatisfy { $0 >= 0 && $0 < models.count },
                     "RunEncoder: stages \(stages) outside the \(models.count) completed")
        let input = standardization.map { $0.apply(x, sampleShape: sampleShape) } ?? x
        return Matrix.hconcat(stages.map { models[$0].representations(input) })
    }
}
