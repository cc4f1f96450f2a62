/// The kinds of writer worker.
public enum WriterRole: String, Sendable, CaseIterable {
    case refresher
    case updater
    case cliRefresher = "cli-refresher"
}
