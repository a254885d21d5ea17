import Logging
import Synchronization

/// A role that one node of the cluster runs at a time (`docs/cluster.md` §9): monitoring
/// with its outbox. The node asks for it before each round and renews it meanwhile; it is
/// free again when its holder hands it back (a clean shutdown) or stops renewing it for
/// `ttl` (a crash), and another node takes it then.
public final class RoleLease: Sendable {
    public let role: String
    let node: String
    let ttl: Duration
    let database: ClusterDatabase
    let logger: Logger
    private let heldAt = Mutex<Int64?>(nil)

    public init(role: String, node: String, ttl: Duration, database: ClusterDatabase, logger: Logger) {
        self.role = role
        self.node = node
        self.ttl = ttl
        self.database = database
        self.logger = logger
    }

    /// Takes or renews the role; whether this node holds it now. A failure to reach
    /// PostgreSQL counts as not holding it.
    public func take() async -> Bool {
        let epoch: Int64?
        do {
            epoch = try await StorageDeadline.run { [role, node, ttl, database, logger] in
                try await RoleRows.take(role, node: node, ttl: ttl, database, logger: logger)
            }
        } catch {
            logger.warning("role lease not renewed", metadata: ["role": "\(role)", "error": "\(error)"])
            epoch = nil
        }
        let before = heldAt.withLock { held in
            defer { held = epoch }
            return held
        }
        if before != epoch {
            if let epoch { logger.info("role taken", metadata: ["role": "\(role)", "epoch": "\(epoch)"]) } else {
                logger.info("role held by another node", metadata: ["role": "\(role)"])
            }
        }
        return epoch != nil
    }

    /// Hands the role back if this node holds it.
    public func release() async {
        guard heldAt.withLock({ $0 }) != nil else { return }
        _ = try? await StorageDeadline.run { [role, node, database, logger] in
            try await RoleRows.release(role, node: node, database, logger: logger)
        }
        heldAt.withLock { $0 = nil }
    }

    /// Each role's holder now.
    public static func holders(_ database: ClusterDatabase, logger: Logger) async throws -> [String: String] {
        try await RoleRows.holders(database, logger: logger)
    }
}
