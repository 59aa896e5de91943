//! Embeds the console's files (`console/`) in the binary: a table of (path, bytes) made from
//! whatever the folder holds, so adding a view is adding one file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let console = root.join("console");
    println!("cargo:rerun-if-changed=console");
    let mut files = Vec::new();
    walk(&console, &mut files);
    files.sort();
    let mut table = String::from("pub(crate) static ASSETS: &[(&str, &[u8])] = &[\n");
    for file in &files {
        // Every directory is watched too, so a new file re-runs this script.
        if let Some(parent) = file.parent() {
            println!("cargo:rerun-if-changed={}", parent.display());
        }
        println!("cargo:rerun-if-changed={}", file.display());
        let rel = file
            .strip_prefix(&console)
            .expect("inside console/")
            .to_string_lossy()
            .replace('\\', "/");
        let _ = writeln!(
            table,
            "    ({rel:?}, include_bytes!({:?})),",
            file.display().to_string()
        );
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("out dir")).join("console_assets.rs");
    std::fs::write(out, table).expect("write the asset table");
}
