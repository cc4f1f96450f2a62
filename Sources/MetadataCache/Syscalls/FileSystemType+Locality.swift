extension FileSystemType {
    /// Whether this is a filesystem known to live on this machine alone: every
    /// process that can open its files runs on this kernel. Then an exclusive
    /// `flock` excludes every process using it, a file's content is visible to
    /// all of them without `fsync`, and `rename`'s `EACCES`/`EPERM` mean a lasting
    /// permission problem. Not for network filesystems, FUSE (sshfs and the like
    /// may be remote, with `flock` local to one client), 9p/drvfs, or anything
    /// unrecognised.
    package var isKnownLocal: Bool {
        ["ext4", "xfs", "btrfs", "tmpfs", "overlayfs", "zfs", "apfs", "hfs"].contains(name)
    }
}
