/// What a replay of one event would do, per workflow and step (`--dry-run` shows it; a real
/// replay does exactly this).
public struct ReplayPlan: Codable, Sendable, Equatable {
    public struct Step: Codable, Sendable, Equatable {
        public var name: String
        /// `skip` (its idempotency key already succeeded) or `run`.
        public var action: String
        public var idempotencyKey: String?
        public var succeededIn: String?

        public init(name: String, action: String, idempotencyKey: String? = nil, succeededIn: String? = nil) {
            self.name = name
            self.action = action
            self.idempotencyKey = idempotencyKey
            self.succeededIn = succeededIn
        }

        enum CodingKeys: String, CodingKey {
            case name, action, idempotencyKey = "idempotency_key", succeededIn = "succeeded_in"
        }
    }

    public struct Workflow: Codable, Sendable, Equatable {
        public var workflowID: String
        /// The version that would run (the one in force now) and the one that ran before.
        public var version: Int
        public var replayOf: String?
        public var replayOfVersion: Int?
        public var steps: [Step]

        public init(workflowID: String, version: Int, replayOf: String?, replayOfVersion: Int?, steps: [Step]) {
            self.workflowID = workflowID
            self.version = version
            self.replayOf = replayOf
            self.replayOfVersion = replayOfVersion
            self.steps = steps
        }

        enum CodingKeys: String, CodingKey {
            case workflowID = "workflow_id", version, replayOf = "replay_of", replayOfVersion = "replay_of_version", steps
        }
    }

    public var eventID: String
    public var workflows: [Workflow]

    public init(eventID: String, workflows: [Workflow]) {
        self.eventID = eventID
        self.workflows = workflows
    }

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", workflows
    }
}

