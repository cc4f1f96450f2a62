/// Where a setting's value came from, for `--verbose` and for error messages that
/// must say which bad value to fix.
public enum SettingOrigin: Sendable, Equatable, CustomStringConvertible {
    case flag(String)
    case environment(String)
    case configFile(path: String, key: String)
    case defaultValue

    public var description: String {
        switch self {
        case let .flag(name): "--\(name)"
        case let .environment(name): "environment variable \(name)"
        case let .configFile(path, key): "key \(key) in \(path)"
        case .defaultValue: "default"
        }
    }
}

/// A resolved setting and its origin.
public struct Resolved<Value: Sendable>: Sendable {
    public let value: Value
    public let origin: SettingOrigin

    public init(_ value: Value, from origin: SettingOrigin) {
        self.value = value
        self.origin = origin
    }
}
