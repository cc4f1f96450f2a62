#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSystemShims
import Foundation

/// A real child process — the stress harness's workers and CLI runs, and every
/// test's — spawned with `posix_spawn`, talked to through pipes, synchronised by
/// reading lines (never by sleeping), and reaped with a generous timeout so a
/// hung child fails its caller instead of hanging it.
public final class ChildProcess: @unchecked Sendable {
    /// Where a standard stream of the child goes.
    public enum Stream {
        /// A pipe the test reads from / writes to.
        case pipe
        /// A temp file, read after exit (no risk of the child blocking on a full pipe).
        case captured
        /// `/dev/null`.
        case null
        /// An existing descriptor of the test process (e.g. a pty slave).
        case descriptor(Int32)
        /// A file opened read-only (stdin only).
        case file(String)
    }

    public enum Termination: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        public var description: String {
            switch self {
            case let .exited(code): "exit \(code)"
            case let .signaled(sig): "signal \(sig)"
            }
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) { self.description = description }
    }

    public let pid: pid_t
    public let command: String
    private var stdinWrite: Int32 = -1
    private var stdoutRead: Int32 = -1
    private var stderrRead: Int32 = -1
    private var stdoutFile: String?
    private var stderrFile: String?
    private var stdoutBuffer: [UInt8] = []
    private var stderrBuffer: [UInt8] = []
    private var stdoutAll: [UInt8] = []
    private var stderrAll: [UInt8] = []
    private var termination: Termination?

    /// Launches `executable` with `arguments`.
    /// - Parameter environment: replaces the environment when given; use
    ///   `ChildProcess.environment(adding:)` to extend the current one.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        stdin: Stream = .null, stdout: Stream = .pipe, stderr: Stream = .captured,
        workingDirectory: String? = nil
    ) throws {
        command = ([executable] + arguments).joined(separator: " ")
        // posix_spawn has no portable chdir action; `env -C` (coreutils) changes
        // directory and then execs the real program, keeping the pid ours to signal.
        var executable = executable
        var arguments = arguments
        if let workingDirectory {
            arguments = ["-C", workingDirectory, executable] + arguments
            executable = "/usr/bin/env"
        }
        // Glibc declares these as structs; Darwin as opaque pointers that
        // `_init` allocates.
        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        #else
        var actions = posix_spawn_file_actions_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var toCloseInParent: [Int32] = []

        func pipePair() throws -> (Int32, Int32) {
            // Close-on-exec from the start: with pipe() + fcntl() a child spawned
            // by another thread in between inherits both ends, and a reader of
            // this pipe then waits for end-of-file until that unrelated child exits.
            var fds: [Int32] = [-1, -1]
            if csystem_pipe_cloexec(&fds, 0) != 0 {
                guard errno == ENOSYS, pipe(&fds) == 0 else { throw Failure(description: "pipe: \(String(cString: strerror(errno)))") }
                for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            }
            return (fds[0], fds[1])
        }
        func tempFile() -> String {
            NSTemporaryDirectory() + "child-\(UUID().uuidString).out"
        }

        switch stdin {
        case .pipe:
            let (r, w) = try pipePair()
            posix_spawn_file_actions_adddup2(&actions, r, 0)
            toCloseInParent.append(r)
            stdinWrite = w
        case .null, .captured:
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case let .descriptor(fd):
            posix_spawn_file_actions_adddup2(&actions, fd, 0)
        case let .file(path):
            posix_spawn_file_actions_addopen(&actions, 0, path, O_RDONLY, 0)
        }
        for (target, stream) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch stream {
            case .pipe:
                let (r, w) = try pipePair()
                posix_spawn_file_actions_adddup2(&actions, w, target)
                toCloseInParent.append(w)
                if target == 1 { stdoutRead = r } else { stderrRead = r }
            case .captured:
                let path = tempFile()
                posix_spawn_file_actions_addopen(&actions, target, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
                if target == 1 { stdoutFile = path } else { stderrFile = path }
            case .null, .file:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            case let .descriptor(fd):
                posix_spawn_file_actions_adddup2(&actions, fd, target)
            }
        }
        // Whatever else the parent has open without O_CLOEXEC (Foundation, other
        // tests' files) stays out of the child.
        #if canImport(Darwin)
        _ = csystem_posix_spawn_addclosefrom(&actions, 3)
        #else
        _ = withUnsafeMutablePointer(to: &actions) { csystem_posix_spawn_addclosefrom($0, 3) }
        #endif
        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        #if canImport(Darwin)
        var attributes: posix_spawnattr_t? = nil
        #else
        var attributes = posix_spawnattr_t()
        #endif
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Children start with default signal handling and an empty mask, whatever
        // the test runner has blocked.
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        toCloseInParent.forEach { close($0) }
        guard result == 0 else {
            throw Failure(description: "posix_spawn \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    deinit {
        if termination == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        for fd in [stdinWrite, stdoutRead, stderrRead] where fd >= 0 { close(fd) }
        for path in [stdoutFile, stderrFile].compactMap({ $0 }) { unlink(path) }
    }

    /// The current environment with some variables added or replaced (nil removes).
    public static func environment(adding changes: [String: String?]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for (key, value) in changes { env[key] = value }
        return env
    }

    // MARK: Talking to the child

    public func send(_ text: String) {
        guard stdinWrite >= 0 else { return }
        let fd = stdinWrite
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }

    /// Closes the child's stdin (agents treat end-of-file as "let go now").
    public func closeStdin() {
        if stdinWrite >= 0 {
            close(stdinWrite)
            stdinWrite = -1
        }
    }

    /// Closes every pipe to and from the child (what was already read stays in
    /// `standardOutput`/`standardError`; captured files stay until deinit). For a
    /// parent that keeps a reaped child's record but not its descriptors.
    public func closePipes() {
        closeStdin()
        for fd in [stdoutRead, stderrRead] where fd >= 0 { close(fd) }
        stdoutRead = -1
        stderrRead = -1
    }

    /// The next line of the child's stdout (without the newline); nil at end of file.
    /// Throws if no full line arrives within `timeout`.
    public func readLine(timeout: Duration = .seconds(30)) throws -> String? {
        precondition(stdoutRead >= 0, "stdout is not a pipe")
        return try nextLine(fd: stdoutRead, buffer: &stdoutBuffer, all: &stdoutAll, stream: "stdout", timeout: timeout)
    }

    /// The next line of the child's stderr (needs `stderr: .pipe`); nil at end of file.
    public func readErrorLine(timeout: Duration = .seconds(30)) throws -> String? {
        precondition(stderrRead >= 0, "stderr is not a pipe")
        return try nextLine(fd: stderrRead, buffer: &stderrBuffer, all: &stderrAll, stream: "stderr", timeout: timeout)
    }

    /// Reads stderr lines until one satisfies `predicate`; returns it.
    public func readErrorLine(until predicate: (String) -> Bool, timeout: Duration = .seconds(30)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = deadline - ContinuousClock.now
            guard let line = try readErrorLine(timeout: max(remaining, .milliseconds(1))) else {
                throw Failure(description: "\(command) closed stderr before the expected line; stderr so far: \(String(decoding: stderrAll, as: UTF8.self))")
            }
            if predicate(line) { return line }
        }
    }

    private func nextLine(
        fd: Int32, buffer: inout [UInt8], all: inout [UInt8], stream: String, timeout: Duration
    ) throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else {
                throw Failure(description: "no \(stream) line from \(command) within \(timeout); got so far: \(String(decoding: buffer, as: UTF8.self))")
            }
            guard let chunk = try readChunk(fd, timeout: remaining) else {
                if buffer.isEmpty { return nil }
                let line = String(decoding: buffer, as: UTF8.self)
                buffer = []
                return line
            }
            buffer += chunk
            all += chunk
        }
    }

    /// Reads lines until one satisfies `predicate`; returns it.
    public func readLine(until predicate: (String) -> Bool, timeout: Duration = .seconds(30)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = deadline - ContinuousClock.now
            guard let line = try readLine(timeout: max(remaining, .milliseconds(1))) else {
                throw Failure(description: "\(command) closed stdout before the expected line")
            }
            if predicate(line) { return line }
        }
    }

    /// nil on end of file; [] never returned.
    private func readChunk(_ fd: Int32, timeout: Duration) throws -> [UInt8]? {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ms = Int32(clamping: Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        let ready = poll(&entry, 1, max(1, ms))
        if ready == 0 { return [] }
        if ready < 0 { return errno == EINTR ? [] : nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { return n == 0 ? nil : (errno == EINTR ? [] : nil) }
        return Array(buffer[0..<n])
    }

    public func signal(_ signal: Int32) {
        if termination == nil { kill(pid, signal) }
    }

    // MARK: Exit

    /// Waits for the child to exit; kills it and throws after `timeout`.
    @discardableResult
    public func wait(timeout: Duration = .seconds(60)) throws -> Termination {
        if let termination { return termination }
        let deadline = ContinuousClock.now + timeout
        var pause = Duration.microseconds(200)
        while true {
            // Keep draining pipes so the child never blocks on a full pipe.
            drainPipes()
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                let result: Termination = (status & 0x7F) == 0 ? .exited((status >> 8) & 0xFF) : .signaled(status & 0x7F)
                termination = result
                drainPipes(untilEOF: true)
                return result
            }
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                termination = .signaled(SIGKILL)
                throw Failure(description: "\(command) did not exit within \(timeout); killed")
            }
            // Polling waitpid with a short, growing pause: the child's exit is the
            // event being waited for, and no test result depends on the pause.
            var ts = timespec(tv_sec: 0, tv_nsec: Int(pause.components.attoseconds / 1_000_000_000))
            nanosleep(&ts, nil)
            pause = min(pause * 2, .milliseconds(20))
        }
    }

    private func drainPipes(untilEOF: Bool = false) {
        if stdoutRead >= 0 {
            while let chunk = try? readChunk(stdoutRead, timeout: .milliseconds(untilEOF ? 200 : 1)), !chunk.isEmpty {
                stdoutBuffer += chunk
                stdoutAll += chunk
            }
        }
        if stderrRead >= 0 {
            while let chunk = try? readChunk(stderrRead, timeout: .milliseconds(untilEOF ? 200 : 1)), !chunk.isEmpty {
                stderrAll += chunk
            }
        }
    }

    /// Everything the child wrote to stdout (pipe or captured file), after `wait`.
    public var standardOutput: [UInt8] {
        if let stdoutFile { return (try? Array(Data(contentsOf: URL(fileURLWithPath: stdoutFile)))) ?? [] }
        return stdoutAll
    }

    /// Everything the child wrote to stderr, after `wait`.
    public var standardError: String {
        if let stderrFile { return (try? String(contentsOfFile: stderrFile, encoding: .utf8)) ?? "" }
        return String(decoding: stderrAll, as: UTF8.self)
    }

    public var standardOutputText: String { String(decoding: standardOutput, as: UTF8.self) }

    // MARK: One-shot

    public struct Result: Sendable {
        public let termination: Termination
        public let stdout: [UInt8]
        public let stderr: String

        public init(termination: Termination, stdout: [UInt8], stderr: String) {
            self.termination = termination
            self.stdout = stdout
            self.stderr = stderr
        }

        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        public var exitCode: Int32? {
            if case let .exited(code) = termination { return code }
            return nil
        }
    }

    /// Runs a command to completion with stdout and stderr captured.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        stdin: Stream = .null, workingDirectory: String? = nil, timeout: Duration = .seconds(120)
    ) throws -> Result {
        let child = try ChildProcess(
            executable, arguments, environment: environment, stdin: stdin, stdout: .captured, stderr: .captured,
            workingDirectory: workingDirectory)
        let termination = try child.wait(timeout: timeout)
        return Result(termination: termination, stdout: child.standardOutput, stderr: child.standardError)
    }
}
