/// How an updater's counter is named in the payload.
public enum UpdaterCounter {
    public static func name(slot: Int) -> String { "u\(slot)" }
}
