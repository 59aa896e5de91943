//! Lists each engine's migrations from its folder, so adding a migration is adding its file:
//! `migrations/{sqlite,postgres}/NNNN_name.sql` (a pair, same number and name) or
//! `migrations/both/NNNN_name.sql` (written once, made PostgreSQL's by `build/shared_sql.rs`).
//! Writes `$OUT_DIR/migrations_{sqlite,postgres}.rs`, each a `&[(number, name, SQL)]` in order.

#[path = "build/shared_sql.rs"]
mod shared_sql;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// `NNNN_name.sql` files of a folder, by number.
fn tree(dir: &Path) -> BTreeMap<i64, (String, PathBuf)> {
    let mut out = BTreeMap::new();
    // A folder that is not there is not watched (cargo would run this script on every build);
    // `migrations/` is, so making it runs the script again.
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    println!("cargo:rerun-if-changed={}", dir.display());
    for entry in entries.flatten() {
        let path = entry.path();
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        let Some(stem) = file.strip_suffix(".sql") else {
            continue;
        };
        println!("cargo:rerun-if-changed={}", path.display());
        let (number, name) = stem
            .split_once('_')
            .and_then(|(n, name)| Some((n.parse::<i64>().ok()?, name.to_string())))
            .unwrap_or_else(|| panic!("{}: a migration is named NNNN_name.sql", path.display()));
        if let Some((other, _)) = out.insert(number, (name, path.clone())) {
            panic!("{}: number {number} is taken by '{other}'", path.display());
        }
    }
    out
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("out dir"));
    let migrations = root.join("migrations");
    println!("cargo:rerun-if-changed={}", migrations.display());
    let sqlite = tree(&migrations.join("sqlite"));
    let postgres = tree(&migrations.join("postgres"));
    let both = tree(&migrations.join("both"));

    let mut lists = [String::new(), String::new()];
    let numbers: std::collections::BTreeSet<i64> = sqlite
        .keys()
        .chain(postgres.keys())
        .chain(both.keys())
        .copied()
        .collect();
    for number in numbers {
        let (lite, pg) = match (
            sqlite.get(&number),
            postgres.get(&number),
            both.get(&number),
        ) {
            (Some(lite), Some(pg), None) if lite.0 == pg.0 => (lite.clone(), pg.clone()),
            (None, None, Some((name, path))) => {
                let text = std::fs::read_to_string(path).expect("read migration");
                let pg_text = shared_sql::for_postgres(&text)
                    .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.0));
                let pg_path = out_dir.join(format!("postgres_{number:04}_{name}.sql"));
                std::fs::write(&pg_path, pg_text).expect("write migration");
                ((name.clone(), path.clone()), (name.clone(), pg_path))
            }
            _ => panic!(
                "migration {number:04}: either one file in migrations/both, or one in each of \
                 migrations/sqlite and migrations/postgres with the same name"
            ),
        };
        for (list, (name, path)) in lists.iter_mut().zip([lite, pg]) {
            let _ = writeln!(
                list,
                "    ({number}, {name:?}, include_str!({:?})),",
                path.display().to_string()
            );
        }
    }
    for (engine, list) in ["sqlite", "postgres"].iter().zip(lists) {
        std::fs::write(
            out_dir.join(format!("migrations_{engine}.rs")),
            format!("&[\n{list}]\n"),
        )
        .expect("write migration list");
    }
}
