import Transparency

extension InclusionResult {
    /// The record as an evidence bundle holds it (`docs/checkpoints.md` §6), its body included.
    public var bundleRecord: EvidenceBundle.Record {
        EvidenceBundle.Record(sequence: sequence, recordType: recordType, metadata: metadata, bodySHA256: bodySHA256,
                              inclusionProof: proof, payloadBase64: bodyBase64)
    }
}
