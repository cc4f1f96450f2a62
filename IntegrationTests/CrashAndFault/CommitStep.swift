/// The steps of the commit protocol strace can aim at.
enum CommitStep: String, CaseIterable, Sendable {
    case headerWrite, payloadWrite, tempFsync, rename, directoryFsync, releaseBlank

    /// The strace syscall set for the step.
    var calls: String {
        switch self {
        case .headerWrite, .payloadWrite: "write"
        case .tempFsync, .directoryFsync: "fsync"
        case .rename: "rename,renameat,renameat2"
        // The holder blanks its record slot with one pwrite just before unlocking.
        case .releaseBlank: "pwrite64"
        }
    }
}
