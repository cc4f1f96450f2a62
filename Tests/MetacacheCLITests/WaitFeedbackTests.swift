import Foundation
import MetadataCache
import Testing
@testable import MetacacheCLI

@Suite struct WaitFeedbackTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let holder = HolderRecord(
        pid: 4242, host: "build-1", processStartTime: 1, command: "metacache cache refresh",
        acquiredAt: now.addingTimeInterval(-4), backend: .advisory, leaseID: "x")
    static let text = WaitFeedbackText(cachePath: "/c/metadata.json", action: "refresh")

    @Test func theLinesOfTheIssue() {
        let t = Self.text
        #expect(t.started(holder: Self.holder, timeout: .after(.seconds(10)), now: Self.now)
                == "Waiting for lock on cache /c/metadata.json held by pid 4242 (metacache cache refresh) on build-1 for 4s (timeout: 10s; Ctrl-C to cancel)")
        #expect(t.started(holder: Self.holder, timeout: .infinite, now: Self.now).hasSuffix("(timeout: none; Ctrl-C to cancel)"))
        #expect(t.progress(elapsed: .seconds(2), remaining: .seconds(8), holder: Self.holder, now: Self.now.addingTimeInterval(2))
                == "Waiting for lock on cache /c/metadata.json held by pid 4242 (metacache cache refresh) on build-1 for 6s (waited 2s, 8s left; Ctrl-C to cancel)")
        #expect(t.progress(elapsed: .milliseconds(1500), remaining: nil, holder: nil, now: Self.now)
                == "Waiting for lock on cache /c/metadata.json held by another process (it has not published who it is) (waited 1.5s, timeout: none; Ctrl-C to cancel)")
        #expect(t.acquired(waited: .milliseconds(1200)) == "Lock acquired after 1.2s; continuing refresh")
        #expect(t.timedOut(waited: .seconds(10), timeout: .after(.seconds(10)), holder: Self.holder, now: Self.now)
            .hasPrefix("Could not acquire lock after 10s; retry with --lock-timeout or see 'metacache cache status' (lock on cache /c/metadata.json held by pid 4242"))
        #expect(t.cancelled(waited: .milliseconds(700)).hasPrefix("Cancelled while waiting for lock"))
    }

    private func events(progressEvery step: Duration, until end: Duration, remaining total: Duration?) -> [CacheEvent] {
        var list: [CacheEvent] = [.lockWaitStarted(lockPath: "/c/metadata.lock", holder: Self.holder, timeout: total.map { .after($0) } ?? .infinite)]
        var elapsed = step
        while elapsed <= end {
            list.append(.lockWaitProgress(lockPath: "/c/metadata.lock", elapsed: elapsed, remaining: total.map { $0 - elapsed }, holder: Self.holder))
            elapsed += step
        }
        return list
    }

    @Test func linesModeWritesTheStartAndThenOneLineEveryFiveSeconds() {
        let output = CapturedOutput()
        let printer = WaitFeedbackPrinter(text: Self.text, output: output, style: .lines, quiet: false, now: { Self.now })
        for event in events(progressEvery: .milliseconds(500), until: .seconds(12), remaining: .seconds(30)) { printer.observe(event) }
        printer.observe(.lockAcquired(lockPath: "/c/metadata.lock", backend: .advisory, waited: .milliseconds(12_300)))
        let lines = output.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(lines)")
        #expect(lines[0].hasSuffix("(timeout: 30s; Ctrl-C to cancel)"))
        #expect(lines[1].contains("(waited 5s, 25s left;"))
        #expect(lines[2].contains("(waited 10s, 20s left;"))
        #expect(lines[3] == "Lock acquired after 12s; continuing refresh")
        #expect(!output.text.contains("\r"), "no terminal control characters in a log")
    }

    @Test func terminalModeRewritesOneLineOnEveryProgressEventAndEndsWithANewline() {
        let output = CapturedOutput(isTerminal: true, columns: 400)
        let printer = WaitFeedbackPrinter(text: Self.text, output: output, style: .terminal, quiet: false, now: { Self.now })
        for event in events(progressEvery: .milliseconds(500), until: .seconds(2), remaining: nil) { printer.observe(event) }
        printer.observe(.lockAcquired(lockPath: "/c/metadata.lock", backend: .advisory, waited: .seconds(2)))
        let segments = output.text.components(separatedBy: "\r\u{1B}[K").dropFirst()
        #expect(segments.count == 6, "start + 4 progress + end: \(output.text.debugDescription)")
        #expect(segments.dropLast().allSatisfy { !$0.contains("\n") && $0.hasPrefix("Waiting for lock") })
        #expect(segments.dropFirst().first?.contains("(waited 500ms, timeout: none;") == true)
        #expect(segments.last == "Lock acquired after 2s; continuing refresh\n")
    }

    /// A long path and command must not push the timing off a narrow terminal:
    /// what changes between rewrites stays visible at every width.
    @Test(arguments: [200, 120, 79, 59, 39, 30, 24, 20])
    func aFittedLineKeepsTheTimingAtAnyWidth(width: Int) {
        let holder = HolderRecord(
            pid: 4242, host: "build-1", processStartTime: 1,
            command: "metacache cache refresh --dir /home/someone/.cache/metacache --source https://example.org/catalogue.json",
            acquiredAt: Self.now.addingTimeInterval(-4), backend: .advisory, leaseID: "x")
        let text = WaitFeedbackText(cachePath: "/home/someone/.cache/metacache/very/long/path/metadata.json", action: "refresh")
        for (elapsed, remaining) in [(Duration.milliseconds(500), Duration.milliseconds(9_500)), (.seconds(2), .seconds(8)), (.seconds(75), .seconds(45))] {
            let line = text.progressLine(elapsed: elapsed, remaining: remaining, holder: holder, now: Self.now)
            let fitted = line.fitted(width: width)
            #expect(fitted.count <= width, "\(width): \(fitted)")
            #expect(fitted.contains("\(DurationText.format(elapsed)), ") && fitted.contains("\(DurationText.format(remaining)) left"),
                    "\(width): the timing must stay visible: \(fitted)")
            if width >= 30 { #expect(fitted.contains("left; Ctrl-C"), "\(width): \(fitted)") }
            if width >= 79 { #expect(fitted.contains("held by pid 4242") && fitted.hasPrefix("Waiting for lock"), "\(width): \(fitted)") }
        }
        let infinite = text.progressLine(elapsed: .seconds(3), remaining: nil, holder: nil, now: Self.now).fitted(width: width)
        #expect(infinite.count <= width && infinite.contains("3s, ") && infinite.contains("timeout"), "\(width): \(infinite)")
        let start = text.startedLine(holder: holder, timeout: .after(.seconds(30)), now: Self.now).fitted(width: width)
        #expect(start.count <= width && start.contains("timeout") && start.contains("30s"), "\(width): \(start)")
    }

    @Test func aWideTerminalGetsTheWholeLineAndShortenedPartsComeFirst() {
        let text = WaitFeedbackText(cachePath: "/home/someone/.cache/metacache/metadata.json", action: "refresh")
        let line = text.progressLine(elapsed: .seconds(2), remaining: .seconds(8), holder: Self.holder, now: Self.now.addingTimeInterval(2))
        #expect(line.fitted(width: 400) == line.text)
        #expect(line.fitted(width: line.text.count) == line.text)
        #expect(line.fitted(width: line.text.count - 10)
                == "Waiting for lock on cache …ne/.cache/metacache/metadata.json held by pid 4242 (metacache cache refresh) on build-1 for 6s (waited 2s, 8s left; Ctrl-C to cancel)",
                "the path loses its start first")
        #expect(line.fitted(width: 100) == "Waiting for lock held by pid 4242 (metacache cache refresh) (waited 2s, 8s left; Ctrl-C to cancel)",
                "then the path and the host go, the command stays")
        #expect(line.fitted(width: 90) == "Waiting for lock held by pid 4242 (metacache cach…) (waited 2s, 8s left; Ctrl-C to cancel)")
        #expect(line.fitted(width: 79) == "Waiting for lock held by pid 4242 (waited 2s, 8s left; Ctrl-C to cancel)")
        #expect(line.fitted(width: 39) == "Lock busy: waited 2s, 8s left; Ctrl-C")
        #expect(line.fitted(width: 20) == "2s, 8s left; Ctrl-C")
    }

    /// On an 80- and a 40-column terminal every rewrite fits and shows the
    /// elapsed time, which changes from one rewrite to the next.
    @Test(arguments: [80, 40])
    func narrowTerminalRewritesShowTheChangingTime(columns: Int) {
        let output = CapturedOutput(isTerminal: true, columns: columns)
        let printer = WaitFeedbackPrinter(text: Self.text, output: output, style: .terminal, quiet: false, now: { Self.now })
        for event in events(progressEvery: .seconds(1), until: .seconds(4), remaining: .seconds(30)) { printer.observe(event) }
        let segments = Array(output.text.components(separatedBy: "\r\u{1B}[K").dropFirst())
        #expect(segments.count == 5, "\(segments)")
        #expect(segments.allSatisfy { $0.count < columns }, "\(segments)")
        let progress = segments.dropFirst()
        #expect(progress.allSatisfy { $0.contains("left;") }, "\(segments)")
        #expect(Set(progress).count == progress.count, "every rewrite differs: \(segments)")
        for (second, segment) in zip(1..., progress) {
            #expect(segment.contains("waited \(second)s, \(30 - second)s left;"), "\(segment)")
        }
    }

    /// `--verbose` lines written while the live line shows go above it: the live
    /// line is erased, the line printed, and the live line drawn again.
    @Test func linesWrittenDuringTheWaitGoAboveTheLiveLine() {
        let output = CapturedOutput(isTerminal: true, columns: 400)
        let printer = WaitFeedbackPrinter(text: Self.text, output: output, style: .terminal, quiet: false, now: { Self.now })
        let log = DiagnosticLog(output: printer.linesAboveLiveLine, verbose: true, quiet: false)
        log.debug("before the wait")
        let started = events(progressEvery: .seconds(1), until: .zero, remaining: .seconds(10))[0]
        printer.observe(started)
        log.observe(started)
        printer.observe(.lockAcquired(lockPath: "/c/metadata.lock", backend: .advisory, waited: .seconds(1)))
        log.debug("after the wait")
        let live = Self.text.started(holder: Self.holder, timeout: .after(.seconds(10)), now: Self.now)
        #expect(output.text == "metacache: debug: before the wait\n"
            + "\r\u{1B}[K" + live
            + "\r\u{1B}[Kmetacache: debug: lock busy: /c/metadata.lock held by pid 4242 (metacache cache refresh) on build-1; waiting (timeout: 10s)\n" + live
            + "\r\u{1B}[KLock acquired after 1s; continuing refresh\n"
            + "metacache: debug: after the wait\n", "\(output.text.debugDescription)")
    }

    @Test func timeoutAndCancelClearTheLiveLineForTheErrorAndQuietPrintsNothing() {
        let output = CapturedOutput(isTerminal: true)
        let printer = WaitFeedbackPrinter(text: Self.text, output: output, style: .terminal, quiet: false, now: { Self.now })
        printer.observe(events(progressEvery: .seconds(1), until: .zero, remaining: .seconds(1))[0])
        printer.observe(.lockTimedOut(lockPath: "/c/metadata.lock", waited: .seconds(1), holder: Self.holder))
        #expect(output.text.hasSuffix("\r\u{1B}[K"), "\(output.text.debugDescription)")

        let quiet = CapturedOutput(isTerminal: true)
        let silent = WaitFeedbackPrinter(text: Self.text, output: quiet, style: .terminal, quiet: true, now: { Self.now })
        for event in events(progressEvery: .milliseconds(500), until: .seconds(3), remaining: nil) { silent.observe(event) }
        silent.observe(.lockAcquired(lockPath: "/c/metadata.lock", backend: .advisory, waited: .seconds(3)))
        #expect(quiet.text.isEmpty)
    }

    @Test func anUncontendedAcquisitionPrintsNothing() {
        let output = CapturedOutput()
        let printer = WaitFeedbackPrinter(text: Self.text, output: output, style: .lines, quiet: false, now: { Self.now })
        printer.observe(.lockAcquired(lockPath: "/c/metadata.lock", backend: .advisory, waited: .zero))
        printer.observe(.commitSucceeded(path: "/c/metadata.json", generation: 1, bytes: 10, duration: .milliseconds(1), renameRetries: 0))
        #expect(output.text.isEmpty)
    }
}
