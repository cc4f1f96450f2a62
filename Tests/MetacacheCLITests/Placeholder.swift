import Testing
@testable import MetacacheCLI
@Test func cliPlaceholder() { #expect(MetacacheCommand.main([]) == 0) }
