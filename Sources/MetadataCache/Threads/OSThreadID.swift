#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The identity of an operating-system thread (`pthread_self`), comparable with
/// `pthread_equal`.
///
/// Guarantee: two values are equal exactly when they name the same live thread.
/// A thread id may be reused after its thread exits, so a stored id only means
/// something while its thread is known to be alive (the self-deadlock guard
/// stores the id of a thread blocked in, or running inside, a synchronous call
/// that holds the lock).
package struct OSThreadID: @unchecked Sendable, Equatable {
    // @unchecked: on Darwin `pthread_t` is a pointer type; it is only compared,
    // never dereferenced.
    private let raw: pthread_t

    /// The calling thread.
    package static var current: OSThreadID { OSThreadID(raw: pthread_self()) }

    package static func == (a: OSThreadID, b: OSThreadID) -> Bool { pthread_equal(a.raw, b.raw) != 0 }
}
