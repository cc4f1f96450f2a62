/// The tests spawn their child processes with the package's one spawner,
/// `ProcessSpawning.ChildProcess`; re-exported so that `import TestSupport`
/// keeps bringing it along.
@_exported import ProcessSpawning
