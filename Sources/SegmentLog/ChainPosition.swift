/// The running end of the hash chain: the next sequence number and the chain value of the
/// record before it. The writer advances it as it frames records; recovery and verification
/// advance it as they read records and check that each one continues the chain.
struct ChainPosition: Sendable, Equatable {
    var nextSequence: UInt64
    var chain: [UInt8]

    /// Takes the next record; returns its sequence number and chain value.
    mutating func advance(type: RecordType, metadata: [UInt8], bodySHA256: [UInt8]) -> (sequence: UInt64, chain: [UInt8]) {
        let sequence = nextSequence
        chain = RecordFrame.chain(previous: chain, sequence: sequence, type: type, metadata: metadata, bodySHA256: bodySHA256)
        nextSequence += 1
        return (sequence, chain)
    }

    /// How a stored record fails to continue the chain.
    enum Break: Sendable, Equatable {
        case sequence(expected: UInt64, found: UInt64)
        case chain(sequence: UInt64)

        var message: String {
            switch self {
            case .sequence(let expected, let found): "expected sequence \(expected), found \(found)"
            case .chain(let sequence): "chain mismatch at sequence \(sequence)"
            }
        }
    }

    /// Takes a stored record if it continues the chain (its sequence is the next one and its
    /// stored chain value is the one its content gives); otherwise says why not and stays put.
    mutating func accept(
        sequence: UInt64, type: RecordType, metadata: [UInt8], bodySHA256: [UInt8], storedChain: [UInt8]
    ) -> Break? {
        guard sequence == nextSequence else { return .sequence(expected: nextSequence, found: sequence) }
        var next = self
        guard next.advance(type: type, metadata: metadata, bodySHA256: bodySHA256).chain == storedChain else {
            return .chain(sequence: sequence)
        }
        self = next
        return nil
    }
}
