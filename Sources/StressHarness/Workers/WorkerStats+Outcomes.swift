import MetadataCache

/// How the workers count what happened to one operation, in one place for every
/// role that meets the same outcome.
extension WorkerStats {
    /// Counts a reader's verdict on one snapshot; `read` names the read in notes
    /// ("read 12" or "read 12 (generation 7)").
    mutating func count(_ verdict: SnapshotVerifier.Verdict, read: String) {
        switch verdict {
        case .good:
            succeeded += 1
        case let .torn(why):
            tornReads += 1
            note(.tornReads, "\(read): \(why)")
        case let .regressed(from, to):
            staleReads += 1
            note(.staleReads, "read \(reads): generation went back from \(from) to \(to)")
        }
    }
}

extension SharedWorkerStats {
    /// Counts a writer operation (refresh or update) that threw: a lock timeout is
    /// logged as such, anything else as a failure; `operation` names it in notes.
    func countFailure(_ error: any Error, of operation: String, hooks: WriterLogHooks) {
        if case MetadataCacheError.lockTimeout = error {
            hooks.timedOut()
            update { $0.timeouts += 1 }
        } else {
            hooks.failed()
            update {
                $0.failures += 1
                $0.note(.writerFailures, "\(operation): \(error)")
            }
        }
    }
}
