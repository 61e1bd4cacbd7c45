//! The built web app's size: the wasm and JavaScript files the build wrote, raw and compressed
//! as a server or CDN would send them (gzip level 9, brotli quality 11).
//!
//! Two figures: the first screen, i.e. what the login page downloads (the files `index.html`
//! names and the scripts they import), and every file (the split build adds a module per page
//! and the modules they share, fetched when a page is first shown).

use crate::report::{Report, Verdict, kb};
use anyhow::{Context, bail};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Raw, gzip and brotli sizes of some files.
#[derive(Default, Clone, Copy)]
struct Sizes {
    raw: usize,
    gzip: usize,
    brotli: usize,
}

impl Sizes {
    fn add(&mut self, other: Sizes) {
        self.raw += other.raw;
        self.gzip += other.gzip;
        self.brotli += other.brotli;
    }

    fn text(self) -> String {
        format!(
            "raw {} / gzip {} / brotli {}",
            kb(self.raw),
            kb(self.gzip),
            kb(self.brotli)
        )
    }
}

pub fn run(report: &mut Report, site_root: &Path) -> anyhow::Result<()> {
    eprintln!("==> app size ({})", site_root.display());
    let index = std::fs::read_to_string(site_root.join("index.html"))
        .with_context(|| format!("no index.html in {}", site_root.display()))?;
    let all = app_files(site_root, &index)?;
    if !all
        .iter()
        .any(|f| f.extension().is_some_and(|e| e == "wasm"))
    {
        bail!(
            "no .wasm file in {}: build the app with trunk build",
            site_root.display()
        );
    }
    let first = first_screen(site_root)?;
    let dir = site_root.display();
    let (first_sizes, total) = (total_sizes(&first)?, total_sizes(&all)?);
    report.add(
        "app size: first screen",
        format!(
            "what the login page of {dir} loads: {} .wasm + {} .js file(s) named by index.html \
             and imported by them; gzip -9, brotli -q 11",
            count(&first, "wasm"),
            count(&first, "js")
        ),
        first_sizes.text(),
        "<= 250 kB brotli",
        Verdict::of(first_sizes.brotli <= 250_000),
    );
    report.add(
        "app size: all files",
        format!(
            "every .wasm ({}) and .js ({}) file in {dir}, the pages' modules included",
            count(&all, "wasm"),
            count(&all, "js")
        ),
        total.text(),
        "",
        Verdict::Info,
    );
    Ok(())
}

/// Every .wasm and .js file under `root`, but for the folders of a previous build's page modules
/// (kept for tabs opened before a redeploy): an `app-HASH` folder that `index` does not name.
fn app_files(root: &Path, index: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                if !name.starts_with("app-") || index.contains(name) {
                    dirs.push(path);
                }
            } else if is_app_file(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

fn is_app_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "wasm" || e == "js")
}

/// The .wasm and .js files `index.html` names (as quoted absolute paths) and, transitively, the
/// files those scripts import with relative paths (`from "./x.js"`).
fn first_screen(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let index = std::fs::read_to_string(root.join("index.html"))
        .with_context(|| format!("cannot read {}/index.html", root.display()))?;
    let mut seen = BTreeSet::new();
    let mut pending: Vec<PathBuf> = quoted(&index)
        .filter_map(|name| name.strip_prefix('/'))
        .map(|name| root.join(name))
        .filter(|path| is_app_file(path))
        .collect();
    while let Some(path) = pending.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        if path.extension().is_some_and(|e| e == "js") {
            let script = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let dir = path.parent().unwrap_or(root);
            pending.extend(
                imports(&script)
                    .filter_map(|name| name.strip_prefix("./"))
                    .map(|name| dir.join(name)),
            );
        }
    }
    for path in &seen {
        if !path.is_file() {
            bail!("index.html loads {}, which is missing", path.display());
        }
    }
    Ok(seen.into_iter().collect())
}

/// The strings between single or double quotes in `text` (each opened by ' or " and closed by
/// the same character).
fn quoted(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let open = rest.find(['"', '\''])?;
        let quote = rest[open..].chars().next()?;
        let inside = &rest[open + 1..];
        let close = inside.find(quote)?;
        rest = &inside[close + 1..];
        Some(&inside[..close])
    })
}

/// The module names of the `import … from "…"` statements in `script`.
fn imports(script: &str) -> impl Iterator<Item = &str> {
    script.lines().filter_map(|line| {
        let line = line.trim_start();
        if !line.starts_with("import ") {
            return None;
        }
        let (_, module) = line.rsplit_once(" from ")?;
        quoted(module).next()
    })
}

fn count(files: &[PathBuf], extension: &str) -> usize {
    files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == extension))
        .count()
}

fn total_sizes(files: &[PathBuf]) -> anyhow::Result<Sizes> {
    let mut total = Sizes::default();
    for file in files {
        total.add(sizes(&std::fs::read(file)?)?);
    }
    Ok(total)
}

fn sizes(bytes: &[u8]) -> anyhow::Result<Sizes> {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(bytes)?;
    let gzip = gzip.finish()?.len();
    let mut brotli = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut brotli, 64 * 1024, 11, 22);
        writer.write_all(bytes)?;
        writer.flush()?;
    }
    Ok(Sizes {
        raw: bytes.len(),
        gzip,
        brotli: brotli.len(),
    })
}
