//! The built web app's size: the wasm and JavaScript files Trunk wrote, raw and compressed as a
//! server or CDN would send them (gzip level 9, brotli quality 11).

use crate::report::{Report, Verdict, kb};
use anyhow::{Context, bail};
use std::io::Write;
use std::path::Path;

/// Raw, gzip and brotli sizes of one kind of file.
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
    let mut wasm = Sizes::default();
    let mut js = Sizes::default();
    let (mut wasm_files, mut js_files) = (0, 0);
    for entry in std::fs::read_dir(site_root)
        .with_context(|| format!("cannot read {}", site_root.display()))?
    {
        let path = entry?.path();
        let (bucket, files) = match path.extension().and_then(|e| e.to_str()) {
            Some("wasm") => (&mut wasm, &mut wasm_files),
            Some("js") => (&mut js, &mut js_files),
            _ => continue,
        };
        bucket.add(sizes(&std::fs::read(&path)?)?);
        *files += 1;
    }
    if wasm.raw == 0 {
        bail!(
            "no .wasm file in {}: build the app with trunk build",
            site_root.display()
        );
    }
    let mut total = wasm;
    total.add(js);
    let dir = site_root.display();
    report.add(
        "app size: wasm",
        format!("{wasm_files} .wasm file(s) in {dir}"),
        wasm.text(),
        "",
        Verdict::Info,
    );
    report.add(
        "app size: js",
        format!("{js_files} .js file(s) in {dir}"),
        js.text(),
        "",
        Verdict::Info,
    );
    report.add(
        "app size: wasm + js",
        format!("the browser app in {dir} (trunk release build); gzip -9, brotli -q 11"),
        total.text(),
        "<= 250 kB brotli",
        Verdict::of(total.brotli <= 250_000),
    );
    Ok(())
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
