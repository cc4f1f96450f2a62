import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `metacache-stress`: the entry point of the harness and of its worker processes.
///
/// Guarantee: exits 0 only when the run completed and every invariant held; 1 when
/// any invariant was violated (each named in the report); 2 when the run could
/// not be carried out; 64 for a usage error. Invoked with the hidden
/// `--worker ROLE` argument, it is one worker of a run instead.
///
/// Synchronous on purpose: everything but the refresher role runs on the main
/// thread, so a traced worker makes the same system calls on the same thread every
/// time (strace counts `when=N` per thread; the crash tests rely on it).
public enum StressHarness {
    public static func main(_ arguments: [String]) -> Int32 {
        // A worker that died closes its stdin pipe; writing to it must be an error,
        // not a SIGPIPE that kills the coordinator.
        signal(SIGPIPE, SIG_IGN)
        let args = arguments.dropFirst()
        if args.first == WorkerInvocation.flag {
            do {
                return runWorker(try WorkerInvocation.parse(args.dropFirst()))
            } catch {
                CoordinatorChannel.complain("metacache-stress worker: \(error)")
                return 64
            }
        }
        let options: StressOptions
        do {
            switch try StressOptions.parse(args) {
            case .help:
                print(StressOptions.usage)
                return 0
            case let .run(o):
                options = o
            }
        } catch {
            CoordinatorChannel.complain("metacache-stress: \(error)\n\n\(StressOptions.usage)")
            return 64
        }
        let report: StressReport
        do {
            report = try StressCoordinator(options: options).run()
        } catch {
            CoordinatorChannel.complain("metacache-stress: \(error)")
            return error.exitCode
        }
        if options.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = (try? encoder.encode(report)) ?? Data("{}".utf8)
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(StressReportTable.render(report), terminator: "")
        }
        return report.ok ? 0 : 1
    }

    static func runWorker(_ w: WorkerInvocation) -> Int32 {
        switch w.role {
        case .refresher: AsyncBridge.wait { await RefresherWorker.run(w) }
        case .reader: ReaderWorker.run(w)
        case .updater: UpdaterWorker.run(w)
        case .cliRefresher: CLIRefresherWorker.run(w)
        case .cliReader: CLIReaderWorker.run(w)
        case .commitOnce: CommitOnceWorker.run(w)
        }
    }
}
