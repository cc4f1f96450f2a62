#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
import TestSupport

extension MetacacheIntegration {
/// Two real `metacache` processes competing for the writer lock: timeouts naming
/// the holder, coalescing, and the wait feedback on a pipe and on a terminal.
/// Synchronised on the holder's FIFO and the waiter's output, never on sleeps.
@Suite struct LockContentionTests {
    @Test func secondRefreshTimesOutWith75AndNamesTheHolder() throws {
        let cache = try PopulatedCache()
        let before = cache.cacheBytes()
        let holder = try LockHolder(cacheDir: cache.cacheDir, scratch: cache.directory)

        let started = ContinuousClock.now
        let waiter = try Metacache.run(
            ["cache", "refresh", "--dir", cache.cacheDir, "--source", cache.directory.file("good.json"), "--lock-timeout", "1"])
        let elapsed = ContinuousClock.now - started
        #expect(waiter.exitCode == 75, "\(waiter.summary)")
        let lines = waiter.stderr.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("Waiting for lock on cache \(cache.cacheFile) held by pid \(holder.pid) (metacache cache refresh") == true, "\(lines)")
        #expect(lines.first?.hasSuffix("(timeout: 1s; Ctrl-C to cancel)") == true, "\(lines)")
        let last = try #require(lines.last)
        #expect(last.hasPrefix("Could not acquire lock after 1"), "\(last)")
        #expect(last.contains("retry with --lock-timeout or see '\(Metacache.path) cache status --dir \(cache.cacheDir)'"), "\(last)")
        #expect(last.contains("held by pid \(holder.pid)"), "the final message names the holder: \(last)")
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(20), "waited \(elapsed) for a 1 s timeout")
        #expect(cache.cacheBytes() == before, "the timed-out refresh must not write")

        let immediate = try Metacache.run(
            ["cache", "refresh", "--dir", cache.cacheDir, "--source", cache.directory.file("good.json"), "--lock-timeout", "0"])
        #expect(immediate.exitCode == 75)
        #expect(immediate.stderr.contains("(--lock-timeout 0: not waiting)"), "\(immediate.stderr)")
        #expect(immediate.stderr.contains("held by pid \(holder.pid)"))
        #expect(!immediate.stderr.contains("Waiting for lock"), "a timeout of 0 does not wait, so it shows no wait")

        let status = try Metacache.run(["cache", "status", "--json", "--dir", cache.cacheDir])
        let json = try JSONSerialization.jsonObject(with: Data(status.stdout)) as? [String: Any]
        let lock = try #require(json?["lock"] as? [String: Any])
        #expect(lock["held"] as? Bool == true)
        #expect((lock["holder"] as? [String: Any])?["pid"] as? Int == Int(holder.pid))

        #expect(try holder.release() == .exited(0))
    }

    @Test func aRefreshThatWaitedForAnotherCommitOfItsSourceIsCoalesced() throws {
        let cache = try PopulatedCache()
        let holder = try LockHolder(cacheDir: cache.cacheDir, scratch: cache.directory)
        // The same source as the holder's: were it not coalesced, it would open the
        // FIFO again and wait for a writer that never comes (and time out: 75).
        let waiter = try Metacache.start(
            ["cache", "refresh", "--dir", cache.cacheDir, "--source", holder.fifo.path, "--lock-timeout", "infinite"])
        let first = try #require(try waiter.readErrorLine(timeout: .seconds(30)))
        #expect(first.contains("held by pid \(holder.pid)") && first.hasSuffix("(timeout: none; Ctrl-C to cancel)"), "\(first)")
        let payload = sampleCatalogue(entries: 7, seed: 3)
        #expect(try holder.release(payload) == .exited(0))
        let acquired = try waiter.readErrorLine(until: { !$0.hasPrefix("Waiting") })
        #expect(acquired.hasPrefix("Lock acquired after ") && acquired.hasSuffix("; continuing refresh"), "\(acquired)")
        #expect(try waiter.wait() == .exited(0))
        // The result on stdout; the wait, a diagnostic, on stderr.
        let result = waiter.standardOutputText
        #expect(result == "Coalesced: pid \(holder.pid) committed generation 2 while we waited\n", "\(result)")
        let read = try Metacache.run(["cache", "read", "--dir", cache.cacheDir])
        #expect(read.stdout == payload, "the holder's payload stands; the coalesced refresh did not fetch")
    }

    /// A refresh from another source is not satisfied by a commit from the
    /// holder's: it waits, then fetches and commits its own document.
    @Test func aRefreshFromAnotherSourceThatWaitedFetchesItsOwnDocument() throws {
        let cache = try PopulatedCache()
        let other = sampleCatalogue(entries: 11, seed: 4)
        try cache.directory.write("other.json", Data(other))
        let holder = try LockHolder(cacheDir: cache.cacheDir, scratch: cache.directory)
        let waiter = try Metacache.start(
            ["cache", "refresh", "--dir", cache.cacheDir, "--source", cache.directory.file("other.json"), "--lock-timeout", "infinite"])
        let first = try #require(try waiter.readErrorLine(timeout: .seconds(30)))
        #expect(first.hasPrefix("Waiting for lock on cache") && first.contains("held by pid \(holder.pid)"), "\(first)")
        #expect(try holder.release(sampleCatalogue(entries: 7, seed: 3)) == .exited(0))
        let acquired = try waiter.readErrorLine(until: { !$0.hasPrefix("Waiting") })
        #expect(acquired.hasPrefix("Lock acquired after "), "\(acquired)")
        #expect(try waiter.wait() == .exited(0))
        let result = waiter.standardOutputText
        #expect(result.hasPrefix("Refreshed 'metadata': generation 3, "), "generation 2 was the holder's: \(result)")
        let read = try Metacache.run(["cache", "read", "--dir", cache.cacheDir])
        #expect(read.stdout == other, "the cache holds other.json's bytes")
        let meta = try Metacache.run(["cache", "read", "--meta", "--dir", cache.cacheDir])
        #expect(meta.stdoutText.contains("\"source\":\"\(cache.directory.file("other.json"))\""), "\(meta.stdoutText)")
    }

    /// A document piped on stdin exists nowhere else: it is never coalesced away.
    @Test func aRefreshFromStdinThatWaitedCommitsItsDocument() throws {
        let cache = try PopulatedCache()
        let piped = sampleCatalogue(entries: 3, seed: 8)
        try cache.directory.write("piped.json", Data(piped))
        let holder = try LockHolder(cacheDir: cache.cacheDir, scratch: cache.directory)
        let waiter = try Metacache.start(
            ["cache", "refresh", "--dir", cache.cacheDir, "--source", "-", "--lock-timeout", "infinite"],
            stdin: .file(cache.directory.file("piped.json")))
        let first = try #require(try waiter.readErrorLine(timeout: .seconds(30)))
        #expect(first.hasPrefix("Waiting for lock on cache"), "\(first)")
        #expect(try holder.release() == .exited(0))
        #expect(try waiter.wait() == .exited(0))
        let result = waiter.standardOutputText
        #expect(result.hasPrefix("Refreshed 'metadata': generation 3, "), "\(result)")
        #expect(try Metacache.run(["cache", "read", "--dir", cache.cacheDir]).stdout == piped)
    }

    @Test func aPipeGetsAProgressLineEveryFiveSecondsNotEveryTick() throws {
        let cache = try PopulatedCache()
        let holder = try LockHolder(cacheDir: cache.cacheDir, scratch: cache.directory)
        let waiter = try Metacache.start(
            ["cache", "refresh", "--dir", cache.cacheDir, "--source", cache.directory.file("good.json"), "--lock-timeout", "60"])
        let first = try #require(try waiter.readErrorLine())
        #expect(first.hasSuffix("(timeout: 1m; Ctrl-C to cancel)") || first.hasSuffix("(timeout: 60s; Ctrl-C to cancel)"), "\(first)")
        // The next line is the 5 s progress line: no line for each 500 ms tick before it.
        let second = try #require(try waiter.readErrorLine(timeout: .seconds(30)))
        #expect(second.hasPrefix("Waiting for lock on cache \(cache.cacheFile) held by pid \(holder.pid)"), "\(second)")
        #expect(second.contains("(waited 5"), "\(second)")
        #expect(second.contains("s left; Ctrl-C to cancel)"), "\(second)")
        #expect(try holder.release() == .exited(0))
        #expect(try waiter.wait() == .exited(0))
        // Acquired once the holder was released, which was after the 5 s line; a
        // loaded machine may take much longer, but never less than that.
        let acquired = try #require(waiter.standardError.split(separator: "\n").first { $0.hasPrefix("Lock acquired after ") })
        let waited = try #require(Self.seconds(in: acquired.dropFirst("Lock acquired after ".count).prefix { $0 != ";" }), "\(acquired)")
        #expect(waited >= 5 && waited < 60, "\(acquired)")
    }

    /// Seconds in a `DurationText` rendering: `850ms`, `5.3s`, `12s`, `2m`.
    static func seconds(in text: Substring) -> Double? {
        if text.hasSuffix("ms") { return Double(text.dropLast(2)).map { $0 / 1000 } }
        if text.hasSuffix("s") { return Double(text.dropLast()) }
        if text.hasSuffix("m") { return Double(text.dropLast()).map { $0 * 60 } }
        return nil
    }

    @Test func aTerminalGetsOneLineRewrittenInPlaceAtLeastOncePerSecond() throws {
        let cache = try PopulatedCache()
        let holder = try LockHolder(cacheDir: cache.cacheDir, scratch: cache.directory)
        let terminal = try PseudoTerminal(columns: 300)
        let waiter = try Metacache.start(
            ["cache", "refresh", "--dir", cache.cacheDir, "--source", holder.fifo.path, "--lock-timeout", "infinite"],
            stdout: .descriptor(terminal.secondary), stderr: .descriptor(terminal.secondary))
        let rewrite = "\r\u{1B}[K"
        func drawn() -> Int { terminal.outputText.components(separatedBy: rewrite + "Waiting for lock").count - 1 }
        // The start line, then six rewrites; each arrival is timed as it is read.
        try terminal.read(until: { _ in drawn() >= 1 }, timeout: .seconds(30))
        var arrivals = [ContinuousClock.now]
        for count in 2...7 {
            try terminal.read(until: { _ in drawn() >= count }, timeout: .seconds(30))
            arrivals.append(.now)
        }
        let gaps = zip(arrivals.dropFirst(), arrivals).map { $0 - $1 }
        // Drawn every 500 ms; 1.5 s leaves a loaded machine a whole second of slack.
        #expect(gaps.allSatisfy { $0 <= .milliseconds(1500) }, "at least one rewrite a second; gaps: \(gaps)")
        let drawnText = terminal.outputText
        #expect(drawnText.hasPrefix(rewrite + "Waiting for lock on cache \(cache.cacheFile) held by pid \(holder.pid)"), "\(drawnText.debugDescription)")
        #expect(drawnText.contains("(timeout: none; Ctrl-C to cancel)"))
        #expect(drawnText.contains(", timeout: none; Ctrl-C to cancel)"), "progress of an infinite wait says timeout: none")
        let progress = drawnText.components(separatedBy: rewrite).dropFirst(2)
        let waited = progress.compactMap { segment in
            segment.range(of: "(waited ").map { String(segment[$0.upperBound...].prefix { $0 != "," }) }
        }
        #expect(waited.count == progress.count && Set(waited).count >= 3, "the elapsed time changes: \(waited)")
        #expect(!drawnText.contains("\n"), "while waiting, nothing but the one live line: \(drawnText.debugDescription)")

        #expect(try holder.release() == .exited(0))
        try terminal.read(until: { $0.contains("Coalesced: ") })
        #expect(try waiter.wait() == .exited(0))
        let final = terminal.outputText
        let acquired = try #require(final.range(of: rewrite + "Lock acquired after "), "\(final.debugDescription)")
        #expect(final[acquired.upperBound...].contains("; continuing refresh\r\n"), "the end line replaces the live line: \(final.debugDescription)")
    }

    /// On an 80- or 40-column terminal the ~200-character line cannot fit: the
    /// path and the holder's command give way, the changing time does not.
    @Test(arguments: [80, 40])
    func aNarrowTerminalStillShowsTheTimeOnEveryRewrite(columns: Int) throws {
        let cache = try PopulatedCache()
        let holder = try LockHolder(cacheDir: cache.cacheDir, scratch: cache.directory)
        let terminal = try PseudoTerminal(columns: UInt16(columns))
        let waiter = try Metacache.start(
            ["cache", "refresh", "--dir", cache.cacheDir, "--source", cache.directory.file("good.json"), "--lock-timeout", "30"],
            stderr: .descriptor(terminal.secondary))
        let rewrite = "\r\u{1B}[K"
        try terminal.read(until: { $0.components(separatedBy: rewrite).count >= 6 })
        let segments = terminal.outputText.components(separatedBy: rewrite).dropFirst()
        for segment in segments {
            #expect(segment.count < columns, "a live line as wide as the terminal would wrap and break the rewrite: \(segment)")
        }
        let progress = Array(segments.dropFirst())
        #expect(progress.allSatisfy { $0.contains(" left; Ctrl-C") }, "remaining time and Ctrl-C on every rewrite: \(progress)")
        #expect(Set(progress).count >= 3, "the elapsed time is visible and changes: \(progress)")
        if columns >= 80 { #expect(progress.allSatisfy { $0.contains("held by pid \(holder.pid)") }, "\(progress)") }
        waiter.signal(SIGINT)
        #expect(try waiter.wait() == .exited(130))
        #expect(try holder.release() == .exited(0))
    }

    /// `--verbose` debug lines that arrive while the live line shows are written
    /// above it (erase, line, redraw), never glued to its end.
    @Test func verboseLinesOnATerminalGoAboveTheLiveLine() throws {
        let cache = try PopulatedCache()
        let holder = try LockHolder(cacheDir: cache.cacheDir, scratch: cache.directory)
        let terminal = try PseudoTerminal(columns: 120)
        let waiter = try Metacache.start(
            ["cache", "refresh", "--verbose", "--dir", cache.cacheDir, "--source", holder.fifo.path, "--lock-timeout", "infinite"],
            stdout: .descriptor(terminal.secondary), stderr: .descriptor(terminal.secondary))
        let rewrite = "\r\u{1B}[K"
        try terminal.read(until: { $0.contains("debug: lock busy:") && $0.components(separatedBy: rewrite + "Waiting for lock").count >= 3 })
        #expect(try holder.release() == .exited(0))
        try terminal.read(until: { $0.contains("Coalesced: ") })
        #expect(try waiter.wait() == .exited(0))
        let drawn = terminal.outputText
        var rest = Substring(drawn)
        while let debug = rest.range(of: "metacache: debug:") {
            let before = drawn[..<debug.lowerBound]
            // "\r\n" is one Character in Swift, so it is its own suffix.
            #expect(before.isEmpty || before.hasSuffix("\r\n") || before.hasSuffix(rewrite),
                    "a debug line starts a line of its own: …\(before.suffix(60).debugDescription)")
            rest = drawn[debug.upperBound...]
        }
        let busy = try #require(drawn.range(of: rewrite + "metacache: debug: lock busy:"), "\(drawn.debugDescription)")
        let after = drawn[busy.upperBound...]
        let lineEnd = try #require(after.range(of: "\r\n"))
        #expect(after[lineEnd.upperBound...].hasPrefix("Waiting for lock"), "the live line is drawn again below: \(after.prefix(300).debugDescription)")
    }

    @Test func quietSilencesTheWaitButNotTheError() throws {
        let cache = try PopulatedCache()
        let holder = try LockHolder(cacheDir: cache.cacheDir, scratch: cache.directory)
        let waiter = try Metacache.run(
            ["cache", "refresh", "--quiet", "--dir", cache.cacheDir, "--source", cache.directory.file("good.json"), "--lock-timeout", "0.5"])
        #expect(waiter.exitCode == 75)
        let lines = waiter.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(waiter.stderr)")
        #expect(lines.first?.hasPrefix("Could not acquire lock after") == true)
        #expect(try holder.release() == .exited(0))
        let quietSuccess = try Metacache.run(
            ["cache", "refresh", "-q", "--dir", cache.cacheDir, "--source", cache.directory.file("good.json")])
        #expect(quietSuccess.exitCode == 0)
        #expect(quietSuccess.stderr.isEmpty, "\(quietSuccess.stderr)")
        #expect(quietSuccess.stdout.isEmpty, "\(quietSuccess.stdoutText)")
    }
}
}
