#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MetadataCache

/// A running `metacache-fetch`: its pid and the parent's ends of its pipes.
///
/// The child gets: stdin = a pipe whose write end only the parent holds (its end
/// of file means "the parent is gone"), stdout = body pipe, stderr = diagnostics
/// pipe, fd 3 = report pipe; SIGINT/SIGTERM/SIGPIPE at their defaults and no
/// signal blocked. All parent ends are close-on-exec and numbered 10 or above, so
/// the `dup2`s in the child can never clobber one another.
final class HelperProcess: @unchecked Sendable {
    enum Termination: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        var description: String {
            switch self {
            case let .exited(code): "exited with status \(code)"
            case let .signaled(number): "was killed by signal \(number)"
            }
        }
    }

    let pid: pid_t
    let body: Int32
    let report: Int32
    let errors: Int32
    private let stdinKeepAlive: Int32
    private var termination: Termination?

    private init(pid: pid_t, body: Int32, report: Int32, errors: Int32, stdinKeepAlive: Int32) {
        self.pid = pid
        self.body = body
        self.report = report
        self.errors = errors
        self.stdinKeepAlive = stdinKeepAlive
    }

    static func spawn(_ argv: [String]) throws(SourceFailure) -> HelperProcess {
        func highPipe() throws(SourceFailure) -> (read: Int32, write: Int32) {
            var fds: [Int32] = [-1, -1]
            guard pipe(&fds) == 0 else { throw .helperFailed(detail: "pipe: \(Errno(rawValue: errno))") }
            let moved = fds.map { fd -> Int32 in
                let high = fcntl(fd, F_DUPFD_CLOEXEC, 10)
                close(fd)
                return high
            }
            guard moved.allSatisfy({ $0 >= 0 }) else { throw .helperFailed(detail: "fcntl: \(Errno(rawValue: errno))") }
            return (moved[0], moved[1])
        }
        let input = try highPipe()
        let output = try highPipe()
        let diagnostics = try highPipe()
        let reportPipe = try highPipe()
        let childEnds = [input.read, output.write, diagnostics.write, reportPipe.write]

        // The one posix_spawn of the package (ProcessSpawn): signal defaults and
        // an empty mask, as this helper's contract above says.
        let spawned: Result<pid_t, ProcessSpawn.Failure> = Result { () throws(ProcessSpawn.Failure) in
            try ProcessSpawn.spawn(argv, descriptors: [
                (0, .duplicate(input.read)), (1, .duplicate(output.write)), (2, .duplicate(diagnostics.write)),
                (FetchHelperReport.reportDescriptor, .duplicate(reportPipe.write)),
            ])
        }
        childEnds.forEach { close($0) }
        let pid: pid_t
        switch spawned {
        case let .success(child): pid = child
        case let .failure(failure):
            [input.write, output.read, diagnostics.read, reportPipe.read].forEach { close($0) }
            if failure.errno == ENOENT { throw .helperMissing(path: argv[0]) }
            throw .helperFailed(detail: "cannot start \(argv[0]): \(Errno(rawValue: failure.errno))")
        }
        return HelperProcess(
            pid: pid, body: output.read, report: reportPipe.read, errors: diagnostics.read, stdinKeepAlive: input.write)
    }

    /// Blocks until the helper exits (after its pipes reached end of file, this is
    /// immediate).
    func waitForExit() -> Termination {
        if let termination { return termination }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let result: Termination = (status & 0x7F) == 0 ? .exited((status >> 8) & 0xFF) : .signaled(status & 0x7F)
        termination = result
        return result
    }

    /// SIGTERM, then SIGKILL if it has not exited within 2 s; reaps it.
    func terminate() {
        guard termination == nil else { return }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(2)
        var status: Int32 = 0
        while ContinuousClock.now < deadline {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                termination = (status & 0x7F) == 0 ? .exited((status >> 8) & 0xFF) : .signaled(status & 0x7F)
                return
            }
            // Waiting for the child's exit (the event); the pause only paces waitpid.
            var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)
            nanosleep(&pause, nil)
        }
        kill(pid, SIGKILL)
        _ = waitForExit()
    }

    /// Closes the parent's ends and makes sure the child is gone and reaped.
    func reap() {
        close(stdinKeepAlive)
        [body, report, errors].forEach { close($0) }
        if termination == nil { terminate() }
    }
}
