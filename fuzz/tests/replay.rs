//! Replays every checked-in input of every fuzz target on stable Rust: the seed corpus, what
//! long runs added to it, and every crash ever found (`regressions/`), so CI covers them all
//! without nightly or libFuzzer.

use std::fs;
use std::path::Path;

#[test]
fn every_corpus_and_regression_input_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, run) in mqtt_fuzz::TARGETS {
        let mut count = 0;
        for folder in ["corpus", "regressions"] {
            let Ok(entries) = fs::read_dir(root.join(folder).join(name)) else {
                continue;
            };
            let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
            paths.sort();
            for path in paths {
                let data = fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| run(&data));
                assert!(outcome.is_ok(), "{name}: {} fails", path.display());
                count += 1;
            }
        }
        assert!(count > 0, "no inputs for the {name} target");
        println!("{name}: {count} inputs");
    }
}
