#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `CLOCK_MONOTONIC` in nanoseconds.
///
/// Guarantee: one clock for every process on the machine, never stepped by NTP or
/// by setting the date, so instants taken by different workers are comparable.
/// That is what lets the harness order the enter/exit records of separate writer
/// processes and measure a handover from one process's release to another's
/// acquisition.
public enum MonotonicClock {
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
