/// The steps of the commit protocol strace can aim at.
enum CommitStep: String, CaseIterable, Sendable {
    case write, tempFsync, rename, directoryFsync, releaseBlank

    /// The strace syscall set for the step.
    var calls: String {
        switch self {
        // Header and payload go out in one gathered write.
        case .write: "writev"
        case .tempFsync, .directoryFsync: "fsync"
        case .rename: "rename,renameat,renameat2"
        // The holder blanks its record slot with one pwrite just before unlocking.
        case .releaseBlank: "pwrite64"
        }
    }
}
