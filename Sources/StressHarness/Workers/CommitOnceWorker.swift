import Foundation
import MetadataCache
import SystemCallFaults

/// One commit of a self-describing payload, with an optional fault plan: the
/// child process the crash and fault tests kill or fail at a chosen step.
///
///     metacache-stress --worker commit-once --dir D [--payload-bytes N]
///                      [--worker-id W --sequence S --seed X] [--fault SPEC]...
///
/// Guarantee: the payload is exactly `CommitOnceWorker.payload(for:)` (so a test
/// can tell the new version from the old byte for byte), and the process either
/// prints `COMMITTED generation=G bytes=N faults=F` and exits 0, or prints
/// `FAILED kind=K errno=E faults=F <description>` and exits with the
/// `WorkerExitCode` of the error, or dies at the injected crash. `F` is the fault
/// injector's count of faults that fired (`FaultInjectingSystemCalls.firedFaults`;
/// 0 without a plan), so a test can tell a fault that was absorbed from one that
/// never happened. Nothing is printed before the commit
/// ends, so tracing tools that count system calls see only the commit's — except
/// with a `pause` fault, which prints `PAUSED at=CALL pid=P` and holds the lock,
/// mid-commit, until stdin closes.
public enum CommitOnceWorker {
    /// The payload a commit-once worker commits.
    public static func payload(for w: WorkerInvocation) throws -> [UInt8] {
        try StressPayload(writer: UInt64(w.worker), sequence: w.sequence, generation: 0, length: w.payloadBytes)
            .build(fillSeed: w.seed)
    }

    static func run(_ w: WorkerInvocation) -> Int32 {
        var injector: FaultInjectingSystemCalls?
        var fired: Int { injector?.firedFaults ?? 0 }
        do {
            let bytes = try payload(for: w)
            injector = try WorkerStore.faultInjector(for: w)
            let store = try WorkerStore.make(w, observer: nil, injector: injector)
            let writer = try store.acquireWriterLock(timeout: w.lockTimeout)
            let receipt = try writer.commit(Data(bytes), source: "metacache-stress commit-once")
            writer.release()
            CoordinatorChannel.say("COMMITTED generation=\(receipt.generation) bytes=\(bytes.count) faults=\(fired)")
            return 0
        } catch let error as MetadataCacheError {
            CoordinatorChannel.say(
                "FAILED kind=\(WorkerExitCode.kind(of: error)) errno=\(error.errno?.name ?? "-") faults=\(fired) \(error.description)")
            return WorkerExitCode.code(for: error)
        } catch let error as WorkerFailure {
            CoordinatorChannel.say("FAILED kind=setup errno=- faults=\(fired) \(error.description)")
            return error.exitCode
        } catch {
            CoordinatorChannel.say("FAILED kind=other errno=- faults=\(fired) \(error)")
            return WorkerExitCode.internalError
        }
    }
}
