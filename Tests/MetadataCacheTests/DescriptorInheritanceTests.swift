import Foundation
import Testing
import TestSupport
@testable import MetadataCache

/// Issue 17 item 6: no descriptor the library opens reaches a child process. A
/// host that spawns a child while it holds the lock (`posix_spawn` with no file
/// actions, as `system()` does) must not hand it the lock file, the owner file, a
/// lease renewal's duplicate, a wait's pipes or its inotify descriptor: a child
/// holding them would keep an advisory lock or an owner file alive after the
/// host let go. Each case takes the lock after a real wait (a holder agent
/// releases), so the wait's machinery exists while the child is spawned.
@Suite struct DescriptorInheritanceTests {
    @Test(arguments: [
        ["--backend", "advisory"],
        ["--backend", "lockfile"],
        ["--backend", "lockfile", "--fault", "flock#*=ENOLCK"],
    ])
    func aChildSpawnedWhileHoldingTheLockInheritsNoDescriptorOfTheLibrary(backend: [String]) throws {
        let directory = TemporaryDirectory("fd-inheritance")
        let holder = try Agent.start(["hold", "--dir", directory.path] + backend)
        _ = try holder.readLine(until: { $0.hasPrefix("ACQUIRED") })
        let lister = try Agent.start(["spawn-and-list-fds", "--dir", directory.path, "--timeout", "30"] + backend)
        _ = try lister.readLine(until: { $0.hasPrefix("WAITING") })
        holder.closeStdin()
        #expect(try holder.wait() == .exited(0))
        let acquired = try lister.readLine(until: { $0.hasPrefix("ACQUIRED") })
        let lines = try lister.remainingLines()
        #expect(try lister.wait() == .exited(0), "\(lines)")
        #expect(lines.last == "FDS-DONE", "\(lines)")
        let leaked = lines.filter { $0.hasPrefix("CHILDFD") }
        #expect(leaked.isEmpty, "\(backend.joined(separator: " ")) (\(acquired)): the child inherited \(leaked)")
    }
}
