import Foundation

extension MCLConfiguration {
    /// Reads back the settings written by `json` (a checkpoint's "configuration"), so a run directory
    /// can rebuild its models without the command line. Keys this version does not know are ignored;
    /// `multiSimCLR` and `probeRawInput` are not part of `json` and keep their defaults. Every missing
    /// or ill-typed key is a `CheckpointError` naming `path` and the key.
    public init(json: JSONValue, path: String) throws {
        self.init()
        func fail(_ key: String, _ what: String) -> CheckpointError {
            CheckpointError(path: path, "configuration: missing or invalid '\(key)' (expected \(what))")
        }
        func int(_ key: String, min: Int = 1) throws -> Int {
            guard let v = json[key]?.intValue, v >= min else { throw fail(key, "an integer ≥ \(min)") }
            return v
        }
        func number(_ key: String) throws -> Double {
            guard let v = json[key]?.doubleValue, v.isFinite else { throw fail(key, "a number") }
            return v
        }
        func bool(_ key: String) throws -> Bool {
            guard let v = json[key]?.boolValue else { throw fail(key, "true or false") }
            return v
        }
        func ints(_ key: String) throws -> [Int] {
            guard let a = json[key]?.arrayValue, case let v = a.compactMap({ $0.intValue }), v.count == a.count,
                  v.allSatisfy({ $0 >= 1 }) else { throw fail(key, "a list of positive integers") }
            return v
        }
        func choice<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws -> E where E.RawValue == String {
            guard let text = json[key]?.stringValue, let v = E(rawValue: text) else {
                throw fail(key, E.allCases.map { "'\($0.rawValue)'" }.joined(separator: " or "))
            }
            return v
        }
        guard json.objectValue != nil else { throw CheckpointError(path: path, "configuration: not a JSON object") }
        stages = try int("stages")
        clusters = try int("clusters")
        temperature = try number("temperature")
        epochs = try int("epochs")
        batchSize = try int("batch_size")
        learningRate = try number("lr")
        weightDecay = try number("weight_decay")
        optimizer = try choice("optimizer", OptimizerKind.self)
        warmupFraction = try number("warmup_fraction")
        cosineSchedule = try bool("cosine_schedule")
        sampler = try choice("sampler", NegativeSamplingStrategy.self)
        encoderHidden = json["encoder_hidden"]?.arrayValue?.isEmpty == true ? [] : try ints("encoder_hidden")
        representationWidth = try int("representation_width")
        headHidden = try int("head_hidden")
        embeddingWidth = try int("embedding_width")
        batchNorm = try bool("batch_norm")
        augmentation = VectorAugmentation(noiseStd: try number("noise_std"), dropout: try number("feature_dropout"))
        kmeansRestarts = try int("kmeans_restarts")
        knnK = try int("knn_k")
        guard let seedText = json["seed"]?.stringValue, let s = UInt64(seedText) else { throw fail("seed", "a decimal string") }
        seed = s
        if json["method"] != nil {
            method = try choice("method", ContrastiveMethod.self)
            if method == .moco {
                mocoMomentum = try number("moco_momentum")
                queueLength = try int("queue_length")
            }
            if method == .byol { byolBaseDecay = try number("byol_base_decay") }
            if method == .barlow { barlowLambda = try number("barlow_lambda") }
        }
        if json["ifm_epsilon"] != nil {
            lossVariant = .ifm(epsilon: try number("ifm_epsilon"), alpha: try number("ifm_alpha"))
        }
        if json["debiased_tau_plus"] != nil {
            let t = try number("debiased_tau_plus")
            guard t >= 0 && t < 1 else { throw fail("debiased_tau_plus", "a number in [0, 1)") }
            lossVariant = .debiased(tauPlus: t)
        }
        if json["temperature_schedule"] != nil {
            guard let text = json["temperature_schedule"]?.stringValue,
                  case .success(let s) = TemperatureSchedule.parse(text) else {
                throw fail("temperature_schedule", "cosine:TMIN:TMAX:PERIOD_EPOCHS")
            }
            temperatureSchedule = s
        }
        if json["viewmaker_budget"] != nil {
            let v = try number("viewmaker_budget")
            guard v > 0 else { throw fail("viewmaker_budget", "a number > 0") }
            viewmakerBudget = v
        }
        if json["sparse_head_lambda"] != nil { sparseHeadLambda = try number("sparse_head_lambda") }
        if json["encoder"] != nil {
            encoder = try choice("encoder", EncoderKind.self)
            convWidths = try ints("conv_widths")
            imageAugmentation = try choice("image_augmentation", ImageAugmentationPreset.self)
        }
    }
}
