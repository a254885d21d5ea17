import Foundation

/// What `tracebox cluster status` shows, read from PostgreSQL alone (any node, or none
/// running): the nodes and their heartbeats, and each partition's lease and log.
public struct ClusterStatus: Codable, Sendable, Equatable {
    public struct Node: Codable, Sendable, Equatable {
        public var node: String
        public var address: String
        /// Seconds since its last heartbeat, by PostgreSQL's clock.
        public var heartbeatAgeSeconds: Double
    }

    public struct Partition: Codable, Sendable, Equatable {
        public var partition: Int
        public var owner: String?
        public var epoch: Int64
        /// Seconds until the lease expires (negative: expired).
        public var leaseSecondsLeft: Double?
        public var nextSequence: Int64
        public var tailRecords: Int64
        public var sealedSegments: Int64
        public var segmentsWaitingForUpload: Int64
    }

    /// A role one node runs at a time (`docs/cluster.md` §9) and its holder, if any.
    public struct Role: Codable, Sendable, Equatable {
        public var role: String
        public var owner: String?
        public var epoch: Int64
        /// Seconds until the lease expires (negative: expired); nil when it is free.
        public var leaseSecondsLeft: Double?
    }

    public var schemaVersion: Int
    public var nodes: [Node]
    public var partitions: [Partition]
    public var roles: [Role] = []
}
