/// The steps of the commit protocol strace can aim at.
enum CommitStep: String, CaseIterable, Sendable {
    case headerWrite, payloadWrite, tempFsync, rename, directoryFsync, releaseTruncate

    /// The strace syscall set for the step.
    var calls: String {
        switch self {
        case .headerWrite, .payloadWrite: "write"
        case .tempFsync, .directoryFsync: "fsync"
        case .rename: "rename,renameat,renameat2"
        case .releaseTruncate: "ftruncate"
        }
    }
}
