//! picket-server's modules form no cycle, at any level of the tree.
//!
//! Every `crate::…`, `super::…` and `self::…` path in every file under `src/` (comments and
//! string literals left out) is resolved to the module it names. Two modules that are children
//! of the same folder (the crate root's top-level modules, `sts/`'s files, `graph/handlers/`'s
//! files, …) depend on each other when a file anywhere under one names something under the
//! other; those dependencies must form no cycle, so each part can be read and changed with
//! only what is below it in mind. A folder's own file (`mod.rs`) is its front: it may name its
//! children and they may use what it defines; that is not counted as a cycle.
//!
//! Items are named through their module's path, never through a re-export of the crate root
//! (`crate::router`), so the graph sees every dependency.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type ModPath = Vec<String>;

/// One dependency: `from` names `to`, in `file`, by `path`.
#[derive(Debug, Clone)]
struct Use {
    from: ModPath,
    to: ModPath,
    file: String,
    path: String,
}

#[test]
fn the_modules_of_picket_server_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&src, &src, &mut files);
    let graph = Graph::new(&files);
    let cycles = graph.cycles();
    assert!(
        cycles.is_empty(),
        "module cycles:\n\n{}",
        cycles.join("\n\n")
    );
    assert!(
        graph.problems.is_empty(),
        "paths the module graph cannot follow:\n{}",
        graph.problems.join("\n")
    );
    // The graph is not empty by accident (a parser that found nothing finds no cycle).
    let top = graph.edges_under(&[]);
    assert!(
        top.len() >= 40,
        "only {} dependencies between top-level modules were found",
        top.len()
    );
    for (folder, from, to) in [
        ("", "http", "graph"),
        ("", "graph", "error"),
        ("", "sts", "state"),
        ("sts", "token", "device_login"),
        ("graph", "dispatch", "handlers"),
        ("graph::handlers", "health_issues", "sensors"),
    ] {
        let folder: ModPath = folder
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        assert!(
            graph
                .edges_under(&folder)
                .contains_key(&(from.to_string(), to.to_string())),
            "{from} → {to} not found in {folder:?}"
        );
    }
}

#[test]
fn a_cycle_is_found_and_named() {
    let files = vec![
        ("lib.rs".to_string(), "mod a; mod b; mod c;".to_string()),
        (
            "a.rs".to_string(),
            "use crate::b::thing; // crate::c::not_a_dependency\n".to_string(),
        ),
        (
            "b/mod.rs".to_string(),
            "mod x; mod y; pub fn thing() { crate::c::f(\"crate::a::g\") }".to_string(),
        ),
        ("b/x.rs".to_string(), "use super::y::Y;".to_string()),
        (
            "b/y.rs".to_string(),
            "pub struct Y; use super::{x::X, thing}; #[cfg(test)] mod tests { use super::*; }"
                .to_string(),
        ),
        (
            "c.rs".to_string(),
            "pub fn f(_: &str) { let _ = '\"'; let _ = r#\"crate::b\"#; crate::a::g(); }\nmod inner { use super::super::b; }".to_string(),
        ),
    ];
    let graph = Graph::new(&files);
    assert!(graph.problems.is_empty(), "{:?}", graph.problems);
    let top = graph.edges_under(&[]);
    let names: BTreeSet<_> = top.keys().cloned().collect();
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        names,
        BTreeSet::from([
            pair("a", "b"),
            pair("b", "c"),
            pair("c", "a"),
            pair("c", "b")
        ])
    );
    let cycles = graph.cycles();
    assert_eq!(cycles.len(), 2, "{cycles:#?}");
    let text = cycles.join("\n");
    assert!(text.contains("a → b → c → a"), "{text}");
    assert!(text.contains("in crate::b: x → y → x"), "{text}");
    assert!(text.contains("b/x.rs: super::y::Y"), "{text}");
    assert!(text.contains("crate::b::thing"), "{text}");

    // A re-export of the crate root hides the module it comes from.
    let files = vec![
        ("lib.rs".to_string(), "mod a; pub use a::f;".to_string()),
        ("a.rs".to_string(), "pub fn f() { crate::f() }".to_string()),
    ];
    let graph = Graph::new(&files);
    assert_eq!(graph.problems.len(), 1, "{:?}", graph.problems);
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read src")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("under src");
            let rel = rel.to_string_lossy().replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&path).expect("read file")));
        }
    }
}

/// `a/b.rs` and `a/b/mod.rs` are module `a::b`; `lib.rs` is the root.
fn module_of(file: &str) -> ModPath {
    let stem = file.trim_end_matches(".rs");
    let mut parts: ModPath = stem.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

struct Graph {
    modules: BTreeSet<ModPath>,
    uses: Vec<Use>,
    problems: Vec<String>,
}

impl Graph {
    fn new(files: &[(String, String)]) -> Self {
        let modules: BTreeSet<ModPath> = files.iter().map(|(f, _)| module_of(f)).collect();
        let mut graph = Graph {
            modules,
            uses: Vec::new(),
            problems: Vec::new(),
        };
        for (file, text) in files {
            let code = strip(text);
            graph.read_file(file, &code);
        }
        graph
    }

    fn read_file(&mut self, file: &str, code: &str) {
        let file_module = module_of(file);
        let tokens = tokenize(code);
        // Inline modules (`mod tests { … }`): (name, brace depth inside it).
        let mut inline: Vec<(String, usize)> = Vec::new();
        let mut depth = 0usize;
        let mut i = 0;
        while i < tokens.len() {
            let t = tokens[i].as_str();
            match t {
                "{" => depth += 1,
                "}" => {
                    if inline.last().is_some_and(|(_, d)| *d == depth) {
                        inline.pop();
                    }
                    depth = depth.saturating_sub(1);
                }
                "mod" if tokens.get(i + 2).is_some_and(|t| t == "{") => {
                    inline.push((tokens[i + 1].clone(), depth + 1));
                }
                "crate" | "super" | "self"
                    if tokens.get(i + 1).is_some_and(|t| t == "::")
                        && (i == 0 || !matches!(tokens[i - 1].as_str(), "::" | "$")) =>
                {
                    let mut here = file_module.clone();
                    here.extend(inline.iter().map(|(n, _)| n.clone()));
                    let (paths, next) = use_tree(&tokens, i);
                    for path in paths {
                        self.resolve(file, &file_module, &here, &path);
                    }
                    i = next;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// Records what `path` (its segments, from `crate`, `super` or `self`) depends on.
    fn resolve(&mut self, file: &str, file_module: &ModPath, here: &ModPath, path: &[String]) {
        let mut at: ModPath = match path[0].as_str() {
            "crate" => Vec::new(),
            _ => here.clone(),
        };
        // `crate::…` and `self::…` start where they say; each `super` goes up one.
        let mut rest = match path[0].as_str() {
            "crate" | "self" => &path[1..],
            _ => path,
        };
        while rest.first().is_some_and(|s| s == "super") {
            at.pop();
            rest = &rest[1..];
        }
        // Inside the file's own module (an inline test module's `super::*`): nothing to record.
        if at.len() > file_module.len() {
            return;
        }
        // The deepest module the path names; what follows is an item of it.
        let mut target = at.clone();
        for segment in rest {
            let mut deeper = target.clone();
            deeper.push(segment.clone());
            if self.modules.contains(&deeper) {
                target = deeper;
            } else {
                break;
            }
        }
        let text = path.join("::");
        if target.is_empty() && !file_module.is_empty() {
            if rest.first().is_some_and(|s| s != "*") {
                self.problems.push(format!(
                    "{file}: `{text}` names an item of the crate root; name it by its module"
                ));
            }
            return;
        }
        self.uses.push(Use {
            from: file_module.clone(),
            to: target,
            file: file.to_string(),
            path: text,
        });
    }

    /// The dependencies between the children of `folder`: (from, to) → the uses behind it.
    fn edges_under(&self, folder: &[String]) -> BTreeMap<(String, String), Vec<&Use>> {
        let mut out: BTreeMap<(String, String), Vec<&Use>> = BTreeMap::new();
        let d = folder.len();
        for u in &self.uses {
            if u.from.len() <= d || u.to.len() <= d {
                continue;
            }
            if u.from[..d] != *folder || u.to[..d] != *folder || u.from[d] == u.to[d] {
                continue;
            }
            out.entry((u.from[d].clone(), u.to[d].clone()))
                .or_default()
                .push(u);
        }
        out
    }

    /// Every cycle among the children of every folder, each named with the uses making it.
    fn cycles(&self) -> Vec<String> {
        let folders: BTreeSet<ModPath> = self
            .modules
            .iter()
            .filter(|m| !m.is_empty())
            .map(|m| m[..m.len() - 1].to_vec())
            .collect();
        let mut out = Vec::new();
        for folder in folders {
            let edges = self.edges_under(&folder);
            let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (from, to) in edges.keys() {
                next.entry(from.as_str()).or_default().push(to.as_str());
            }
            for component in strongly_connected(&next) {
                let cycle = shortest_cycle(&next, &component);
                let prefix = if folder.is_empty() {
                    "crate".to_string()
                } else {
                    format!("crate::{}", folder.join("::"))
                };
                let mut text = format!("in {prefix}: {}", cycle.join(" → "));
                for pair in cycle.windows(2) {
                    let uses = &edges[&(pair[0].to_string(), pair[1].to_string())];
                    text.push_str(&format!("\n  {} → {}:", pair[0], pair[1]));
                    for u in uses.iter().take(5) {
                        text.push_str(&format!("\n    {}: {}", u.file, u.path));
                    }
                    if uses.len() > 5 {
                        text.push_str(&format!("\n    … and {} more", uses.len() - 5));
                    }
                }
                if component.len() > cycle.len() - 1 {
                    text.push_str(&format!(
                        "\n  (tangled with it: {})",
                        component.iter().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
                out.push(text);
            }
        }
        out
    }
}

/// Components of more than one node (Tarjan's algorithm, iterative enough for a crate).
fn strongly_connected<'a>(next: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<BTreeSet<&'a str>> {
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<BTreeSet<&'a str>>,
    }
    fn visit<'a>(v: &'a str, next: &BTreeMap<&'a str, Vec<&'a str>>, s: &mut State<'a>) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for &w in next.get(v).map(Vec::as_slice).unwrap_or_default() {
            if !s.index.contains_key(w) {
                visit(w, next, s);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.insert(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for &v in next.keys() {
        if !s.index.contains_key(v) {
            visit(v, next, &mut s);
        }
    }
    s.out
}

/// A shortest cycle through the component's first node, as `[a, b, …, a]`.
fn shortest_cycle<'a>(
    next: &BTreeMap<&'a str, Vec<&'a str>>,
    component: &BTreeSet<&'a str>,
) -> Vec<&'a str> {
    let start = *component.iter().next().expect("non-empty");
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in next.get(v).map(Vec::as_slice).unwrap_or_default() {
            if w == start {
                // start → … → v, then back to start.
                let mut path = vec![v];
                let mut at = v;
                while at != start {
                    at = came_from[at];
                    path.push(at);
                }
                path.reverse();
                path.push(start);
                return path;
            }
            if component.contains(w) && !came_from.contains_key(w) {
                came_from.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    vec![start, start]
}

/// Code without comments, string, byte-string and char literals (each replaced by a space).
fn strip(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let at = |k: usize| chars.get(i + k).copied().unwrap_or('\0');
        if c == '/' && at(1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && at(1) == '*' {
            let mut nesting = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    nesting += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    nesting -= 1;
                    i += 2;
                    if nesting == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
            continue;
        }
        let prev_ident = i > 0 && ident(chars[i - 1]);
        // Raw strings: r"…", r#"…"#, br#"…"#.
        if (c == 'r' || (c == 'b' && at(1) == 'r')) && !prev_ident {
            let mut j = i + if c == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) == Some(&'"') {
                j += 1;
                loop {
                    if j >= chars.len() {
                        break;
                    }
                    if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                i = j;
                out.push(' ');
                continue;
            }
        }
        if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push(' ');
            continue;
        }
        if c == '\'' {
            // A char literal ('x', '\n', '\u{..}'), else a lifetime or label.
            if at(1) == '\\' {
                let mut j = i + 2;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push(' ');
                continue;
            }
            if at(2) == '\'' {
                i += 3;
                out.push(' ');
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Identifiers, `::` and single punctuation characters.
fn tokenize(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push("::".into());
            i += 2;
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

/// The paths a path or `use` tree starting at `tokens[start]` names, and the index after it.
fn use_tree(tokens: &[String], start: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    let mut i = start;
    loop {
        match tokens.get(i).map(String::as_str) {
            Some("{") => {
                let mut paths = Vec::new();
                i += 1;
                loop {
                    match tokens.get(i).map(String::as_str) {
                        Some("}") => {
                            i += 1;
                            break;
                        }
                        Some(",") => i += 1,
                        None => break,
                        Some(_) => {
                            let (inner, next) = use_tree(tokens, i);
                            for p in inner {
                                let mut full = prefix.clone();
                                // `{self, …}` names the prefix itself.
                                if p != ["self"] {
                                    full.extend(p);
                                }
                                paths.push(full);
                            }
                            if next == i {
                                i += 1;
                            } else {
                                i = next;
                            }
                        }
                    }
                }
                if paths.is_empty() {
                    paths.push(prefix);
                }
                return (paths, i);
            }
            Some(t) if t == "*" || t.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                prefix.push(t.to_string());
                i += 1;
                if tokens.get(i).is_some_and(|t| t == "::") {
                    i += 1;
                    continue;
                }
                return (vec![prefix], i);
            }
            _ => return (vec![prefix], i),
        }
    }
}
