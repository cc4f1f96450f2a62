#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The environment a command sees: variables and the home directory. The process
/// environment in production; a dictionary in unit tests.
public struct EnvironmentVariables: Sendable {
    private let lookup: @Sendable (String) -> String?

    public init(_ lookup: @escaping @Sendable (String) -> String?) { self.lookup = lookup }

    public init(_ variables: [String: String]) { self.init { variables[$0] } }

    /// `getenv`, read when asked (the read path looks up only what it needs).
    public static let process = EnvironmentVariables { name in
        getenv(name).map { String(cString: $0) }
    }

    /// The variable's value; nil when unset or empty (an empty variable is treated
    /// as unset, as POSIX shells' `${VAR:-default}` does).
    public subscript(_ name: String) -> String? {
        guard let value = lookup(name), !value.isEmpty else { return nil }
        return value
    }

    /// `$HOME`, else the password database's home directory for this user.
    ///
    /// The password database is asked through Foundation, not `getpwuid` here: the
    /// `metacache` executable is linked fully statically (see Package.swift), and
    /// glibc's NSS lookups are the one part of it that still loads shared
    /// libraries at run time — only on this rare path, when `$HOME` is unset.
    public var homeDirectory: String? {
        if let home = self["HOME"] { return home }
        let path = FileManager.default.homeDirectoryForCurrentUser.path
        return path.isEmpty ? nil : path
    }
}
