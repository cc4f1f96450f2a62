#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `posix_spawn` for the library and the CLI: the one place that builds file
/// actions and attributes (the CLI's `metacache-fetch` helper and the detached
/// background refresh both start here; the tests' `ChildProcess` is a separate,
/// Foundation-based spawner that never ships in a host).
///
/// Why `posix_spawn` and never `fork`: a host is multithreaded (Swift's pool, our
/// own lock-wait threads), and after `fork` only async-signal-safe calls are
/// allowed until `exec`; `posix_spawn` does the whole dance (vfork/clone, actions,
/// exec) in libc, correctly.
package enum ProcessSpawn {
    /// What the child's descriptor `target` becomes.
    package enum Descriptor: Sendable {
        /// A descriptor of the parent, duplicated (`dup2` clears close-on-exec on
        /// the target, so it survives the exec even if the source is `O_CLOEXEC`).
        case duplicate(Int32)
        /// `/dev/null`, opened with these flags.
        case devNull(flags: Int32)
    }

    package struct Failure: Error, Sendable {
        /// posix_spawn's error number (ENOENT: no such program).
        package let errno: Int32
    }

    /// `POSIX_SPAWN_SETSID`. Glibc defines it (0x80, since 2.26) only under
    /// `_GNU_SOURCE`, which the Glibc module is not built with; Darwin exports it.
    #if canImport(Darwin)
    private static let setSessionFlag = Int32(POSIX_SPAWN_SETSID)
    #else
    private static let setSessionFlag: Int32 = 0x80
    #endif

    /// Starts `argv[0]` (an absolute or relative path, not searched in $PATH) with
    /// `argv`, the given descriptors, default handling for the signals a host may
    /// have changed, and an empty signal mask. Every descriptor of the parent not
    /// named in `descriptors` is inherited only if the parent left it without
    /// close-on-exec (every descriptor the library opens has it).
    ///
    /// - Parameters:
    ///   - newSession: `setsid` in the child (`POSIX_SPAWN_SETSID`): its own
    ///     session and process group, no controlling terminal, so the terminal's
    ///     Ctrl-C, hang-up and job control never reach it.
    ///   - environment: `KEY=VALUE` strings; nil inherits the parent's.
    package static func spawn(
        _ argv: [String], descriptors: [(target: Int32, source: Descriptor)], newSession: Bool = false,
        environment: [String]? = nil
    ) throws(Failure) -> pid_t {
        precondition(!argv.isEmpty, "argv[0] is the program")
        // Glibc declares these as structs; Darwin as opaque pointers that `_init`
        // allocates.
        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        #else
        var actions = posix_spawn_file_actions_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, source) in descriptors {
            switch source {
            case let .duplicate(fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
            case let .devNull(flags): posix_spawn_file_actions_addopen(&actions, target, "/dev/null", flags, 0)
            }
        }

        #if canImport(Darwin)
        var attributes: posix_spawnattr_t? = nil
        #else
        var attributes = posix_spawnattr_t()
        #endif
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, number) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &none)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if newSession { flags |= Self.setSessionFlag }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let cEnvironment = environment.map { $0.map { strdup($0) } + [nil] }
        defer { cEnvironment?.forEach { free($0) } }
        var pid: pid_t = 0
        #if canImport(Darwin)
        // On Darwin `environ` is not available to shared libraries;
        // `_NSGetEnviron` (<crt_externs.h>) is the supported accessor.
        let inherited = _NSGetEnviron().pointee
        #else
        let inherited = environ
        #endif
        let result: Int32
        if var cEnvironment {
            result = cEnvironment.withUnsafeMutableBufferPointer { env in
                posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, env.baseAddress)
            }
        } else {
            result = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, inherited)
        }
        guard result == 0 else { throw Failure(errno: result) }
        return pid
    }
}
