import MetadataCache

/// Why a worker could not do its job at all, with the exit status to report.
struct WorkerFailure: Error, CustomStringConvertible {
    let description: String
    let exitCode: Int32

    init(usage: String) {
        description = usage
        exitCode = 64
    }

    init(_ error: MetadataCacheError) {
        description = error.description
        exitCode = WorkerExitCode.code(for: error)
    }

    init(_ message: String, exitCode: Int32 = 70) {
        description = message
        self.exitCode = exitCode
    }
}
