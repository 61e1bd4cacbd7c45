//! The end-to-end suite's harness: the whole product on loopback ([`stack::Stack`]). The suite
//! itself is `tests/it`: the product through its UI with the worker binary, and the worker
//! followed through the progress page. It lives in a crate of its own so that neither `server`
//! nor `worker` needs the other to test itself.

pub mod in_process;
pub mod stack;

use std::path::PathBuf;

/// The `worker` binary the test command built next to this test binary (`target/<profile>/`),
/// or `INFRAHAUS_WORKER_BIN` when set.
pub fn worker_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("INFRAHAUS_WORKER_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test binary> → target/<profile>/worker
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary sits in target/<profile>/deps");
    let worker = profile_dir.join("worker");
    assert!(
        worker.is_file(),
        "{} is missing: run the suite with `cargo nextest run --workspace` (which builds the \
         worker binary) or `cargo build -p worker` first",
        worker.display()
    );
    worker
}
