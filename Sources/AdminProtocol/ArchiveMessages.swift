extension AdminMethod {
    public static let archiveStatus = "archive.status"
    public static let archiveRun = "archive.run"
}

/// What is local, what is archived, and how the archive is configured.
public struct ArchiveStatusResult: Codable, Sendable, Equatable {
    /// Whether an archive (bucket) is configured; without one, nothing leaves the box.
    public var configured: Bool
    public var bucket: String?
    public var prefix: String?
    public var hotAgeSeconds: Int64
    public var local: Local
    public var archived: Archived

    public struct Local: Codable, Sendable, Equatable {
        public var segments: Int
        public var bytes: Int
        /// The oldest local segment: its first sequence and when it was started.
        public var oldestSegment: UInt64?
        public var oldestCreatedAt: String?

        public init(segments: Int, bytes: Int, oldestSegment: UInt64?, oldestCreatedAt: String?) {
            self.segments = segments
            self.bytes = bytes
            self.oldestSegment = oldestSegment
            self.oldestCreatedAt = oldestCreatedAt
        }

        enum CodingKeys: String, CodingKey {
            case segments, bytes, oldestSegment = "oldest_segment", oldestCreatedAt = "oldest_created_at"
        }
    }

    public struct Archived: Codable, Sendable, Equatable {
        public var objects: Int
        public var objectBytes: Int
        public var segments: Int
        /// The size of the local files the archived segments replaced.
        public var localBytesReplaced: Int
        public var events: Int
        public var lastSequence: UInt64
        public var lastArchivedAt: String?

        public init(objects: Int, objectBytes: Int, segments: Int, localBytesReplaced: Int, events: Int, lastSequence: UInt64,
                    lastArchivedAt: String?) {
            self.objects = objects
            self.objectBytes = objectBytes
            self.segments = segments
            self.localBytesReplaced = localBytesReplaced
            self.events = events
            self.lastSequence = lastSequence
            self.lastArchivedAt = lastArchivedAt
        }

        enum CodingKeys: String, CodingKey {
            case objects, segments, events
            case objectBytes = "object_bytes", localBytesReplaced = "local_bytes_replaced", lastSequence = "last_sequence"
            case lastArchivedAt = "last_archived_at"
        }
    }

    public init(configured: Bool, bucket: String?, prefix: String?, hotAgeSeconds: Int64, local: Local, archived: Archived) {
        self.configured = configured
        self.bucket = bucket
        self.prefix = prefix
        self.hotAgeSeconds = hotAgeSeconds
        self.local = local
        self.archived = archived
    }

    enum CodingKeys: String, CodingKey {
        case configured, bucket, prefix, local, archived
        case hotAgeSeconds = "hot_age_seconds"
    }
}

/// What one archive run did.
public struct ArchiveRunResult: Codable, Sendable, Equatable {
    public var objectsUploaded: Int
    public var objectsFoundInS3: Int
    public var segmentsArchived: Int
    public var bytesUploaded: Int
    public var localBytesFreed: Int
    public var unfinishedCompleted: Int
    public var seconds: Double

    public init(objectsUploaded: Int, objectsFoundInS3: Int, segmentsArchived: Int, bytesUploaded: Int, localBytesFreed: Int,
                unfinishedCompleted: Int, seconds: Double) {
        self.objectsUploaded = objectsUploaded
        self.objectsFoundInS3 = objectsFoundInS3
        self.segmentsArchived = segmentsArchived
        self.bytesUploaded = bytesUploaded
        self.localBytesFreed = localBytesFreed
        self.unfinishedCompleted = unfinishedCompleted
        self.seconds = seconds
    }

    enum CodingKeys: String, CodingKey {
        case seconds
        case objectsUploaded = "objects_uploaded", objectsFoundInS3 = "objects_found_in_s3", segmentsArchived = "segments_archived"
        case bytesUploaded = "bytes_uploaded", localBytesFreed = "local_bytes_freed", unfinishedCompleted = "unfinished_completed"
    }
}
