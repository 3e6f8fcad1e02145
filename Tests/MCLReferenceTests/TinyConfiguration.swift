@testable import MCLReference

extension MCLConfiguration {
    /// A small, fast configuration for tests: every part of a run is exercised, little is learned.
    /// Widths: encoder D → [hidden] → representation, head representation → headHidden → embedding.
    static func tiny(stages: Int, clusters: Int, epochs: Int = 2, batchSize: Int, hidden: Int, representation: Int,
                     headHidden: Int, embedding: Int, kmeansRestarts: Int = 1, seed: UInt64) -> MCLConfiguration {
        var c = MCLConfiguration()
        c.stages = stages
        c.clusters = clusters
        c.epochs = epochs
        c.batchSize = batchSize
        c.encoderHidden = [hidden]
        c.representationWidth = representation
        c.headHidden = headHidden
        c.embeddingWidth = embedding
        c.kmeansRestarts = kmeansRestarts
        c.seed = seed
        return c
    }
}
