//! `.ci/run` runs exactly README's test command (the one shell line in "Set up and run" that starts
//! with `apt-get update`), so what CI checks is what a reader is told to run.

use std::path::Path;

fn test_command_line(text: &str) -> Option<&str> {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("apt-get update") && l.contains("cargo test"))
}

#[test]
fn ci_runs_readme_test_command() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let ci = std::fs::read_to_string(root.join(".ci/run")).expect(".ci/run");
    let a = test_command_line(&readme).expect("README's test command");
    let b = test_command_line(&ci).expect(".ci/run's test command");
    assert_eq!(a, b, "README's test command and .ci/run's differ");
    // The Python package is tested by the same command: its wheel built, installed and pytest run.
    for part in ["maturin build", "pytest", "python/tests"] {
        assert!(
            a.contains(part),
            "the test command does not run {part}: {a}"
        );
    }
}
