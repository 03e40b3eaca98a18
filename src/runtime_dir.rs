//! Mesa's Vulkan drivers probe for a Wayland display when wgpu enumerates adapters and print
//! `error: XDG_RUNTIME_DIR is invalid or not set in the environment.` when the variable is missing (a
//! container, a CI runner, `sudo`): an alarming line with the same prefix as gpulstm's real errors. The
//! binary gives itself a private runtime directory before the first adapter query, only when the variable
//! is unset or names no directory; nothing else reads it.

/// Points `XDG_RUNTIME_DIR` at `$TMPDIR/gpulstm-runtime-<user>` (mode 0700) when it is unset or invalid.
/// Call before any thread starts (it sets an environment variable).
pub fn ensure() {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let valid = std::env::var_os("XDG_RUNTIME_DIR")
            .map(std::path::PathBuf::from)
            .is_some_and(|p| p.is_dir());
        if valid {
            return;
        }
        let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
        let dir = std::env::temp_dir().join(format!("gpulstm-runtime-{user}"));
        let made = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .and_then(|()| std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)));
        if made.is_ok() {
            // Single-threaded at this point (see the doc), so no other thread reads the environment.
            std::env::set_var("XDG_RUNTIME_DIR", &dir);
        }
    }
}
