#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A POSIX error number, as returned by a failed system call.
///
/// A thin typed wrapper in the spirit of swift-system's `Errno`: it carries the raw
/// value, prints the conventional symbolic name and the C library's message, and
/// classifies the few numbers whose handling differs (interrupted, would block,
/// locking unsupported, out of space).
public struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's current `errno`.
    static var current: Errno { Errno(rawValue: errno) }

    public static let interrupted = Errno(rawValue: EINTR)
    public static let wouldBlock = Errno(rawValue: EWOULDBLOCK)
    public static let noSuchFile = Errno(rawValue: ENOENT)
    public static let fileExists = Errno(rawValue: EEXIST)
    public static let noSpace = Errno(rawValue: ENOSPC)
    public static let ioError = Errno(rawValue: EIO)
    public static let busy = Errno(rawValue: EBUSY)
    public static let permissionDenied = Errno(rawValue: EACCES)
    public static let notPermitted = Errno(rawValue: EPERM)
    public static let noLocks = Errno(rawValue: ENOLCK)
    public static let notSupported = Errno(rawValue: EOPNOTSUPP)
    public static let notImplemented = Errno(rawValue: ENOSYS)
    public static let noSuchProcess = Errno(rawValue: ESRCH)
    public static let tooManySymlinks = Errno(rawValue: ELOOP)
    public static let readOnlyFileSystem = Errno(rawValue: EROFS)
    public static let quotaExceeded = Errno(rawValue: EDQUOT)

    /// True for the errors a lock call returns when the filesystem cannot provide
    /// advisory locks at all (NFS without lockd, some FUSE and 9p mounts). The
    /// `auto` backend falls back to owner files on exactly these.
    var meansLockingUnsupported: Bool {
        self == .noLocks || self == .notSupported || self == .notImplemented
            || rawValue == ENOTSUP
    }

    /// The conventional symbolic name, e.g. `ENOSPC`.
    public var name: String {
        switch rawValue {
        case EPERM: "EPERM"
        case ENOENT: "ENOENT"
        case ESRCH: "ESRCH"
        case EINTR: "EINTR"
        case EIO: "EIO"
        case EBADF: "EBADF"
        case EAGAIN: "EAGAIN"
        case ENOMEM: "ENOMEM"
        case EACCES: "EACCES"
        case EBUSY: "EBUSY"
        case EEXIST: "EEXIST"
        case EXDEV: "EXDEV"
        case ENOTDIR: "ENOTDIR"
        case EISDIR: "EISDIR"
        case EINVAL: "EINVAL"
        case ENFILE: "ENFILE"
        case EMFILE: "EMFILE"
        case ETXTBSY: "ETXTBSY"
        case EFBIG: "EFBIG"
        case ENOSPC: "ENOSPC"
        case EROFS: "EROFS"
        case ENAMETOOLONG: "ENAMETOOLONG"
        case ENOLCK: "ENOLCK"
        case ENOSYS: "ENOSYS"
        case ELOOP: "ELOOP"
        case EOPNOTSUPP: "EOPNOTSUPP"
        case EDQUOT: "EDQUOT"
        case ESTALE: "ESTALE"
        default: "errno \(rawValue)"
        }
    }

    /// The C library's message for this number, e.g. "No space left on device".
    public var message: String { String(cString: strerror(rawValue)) }

    public var description: String { "\(name): \(message)" }
}
