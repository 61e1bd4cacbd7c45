//! The template form's state: every input as a signal, filled from a [`Template`] and read back
//! into one.

use super::files::FileRow;
use super::packages::{PackageRow, packages_of, rows_of};
use super::scripts::ScriptRow;
use domain::template::{Template, TemplateSource};
use domain::{BucketId, FieldErrors};
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct TemplateForm {
    pub source: RwSignal<TemplateSource>,
    pub name: RwSignal<String>,
    pub description: RwSignal<String>,
    pub version: RwSignal<String>,
    pub os_template: RwSignal<String>,
    pub tags: RwSignal<String>,
    pub cores: RwSignal<String>,
    pub memory_mib: RwSignal<String>,
    pub swap_mib: RwSignal<String>,
    pub disk_gib: RwSignal<String>,
    pub storage: RwSignal<String>,
    pub bridge: RwSignal<String>,
    pub unprivileged: RwSignal<bool>,
    pub nesting: RwSignal<bool>,
    pub keyctl: RwSignal<bool>,
    pub fuse: RwSignal<bool>,
    pub scripts: RwSignal<Vec<ScriptRow>>,
    pub files: RwSignal<Vec<FileRow>>,
    pub packages: RwSignal<Vec<PackageRow>>,
    pub bucket_ids: RwSignal<Vec<BucketId>>,
}

impl TemplateForm {
    pub fn new(t: &Template) -> Self {
        Self {
            source: RwSignal::new(t.source),
            name: RwSignal::new(t.name.clone()),
            description: RwSignal::new(t.description.clone()),
            version: RwSignal::new(t.version.clone()),
            os_template: RwSignal::new(t.os_template.clone()),
            tags: RwSignal::new(t.tags.join(", ")),
            cores: RwSignal::new(t.cores.to_string()),
            memory_mib: RwSignal::new(t.memory_mib.to_string()),
            swap_mib: RwSignal::new(t.swap_mib.to_string()),
            disk_gib: RwSignal::new(t.disk_gib.to_string()),
            storage: RwSignal::new(t.storage.clone()),
            bridge: RwSignal::new(t.bridge.clone()),
            unprivileged: RwSignal::new(t.unprivileged),
            nesting: RwSignal::new(t.nesting),
            keyctl: RwSignal::new(t.keyctl),
            fuse: RwSignal::new(t.fuse),
            scripts: RwSignal::new(t.scripts.iter().map(ScriptRow::new).collect()),
            files: RwSignal::new(t.files.iter().map(FileRow::new).collect()),
            packages: RwSignal::new(rows_of(&t.packages)),
            bucket_ids: RwSignal::new(t.bucket_ids.clone()),
        }
    }

    /// Replaces every input with `t`'s values.
    pub fn load(&self, t: &Template) {
        let fresh = Self::new(t);
        self.source.set(t.source);
        for (mine, theirs) in [
            (self.name, fresh.name),
            (self.description, fresh.description),
            (self.version, fresh.version),
            (self.os_template, fresh.os_template),
            (self.tags, fresh.tags),
            (self.cores, fresh.cores),
            (self.memory_mib, fresh.memory_mib),
            (self.swap_mib, fresh.swap_mib),
            (self.disk_gib, fresh.disk_gib),
            (self.storage, fresh.storage),
            (self.bridge, fresh.bridge),
        ] {
            mine.set(theirs.get_untracked());
        }
        self.unprivileged.set(t.unprivileged);
        self.nesting.set(t.nesting);
        self.keyctl.set(t.keyctl);
        self.fuse.set(t.fuse);
        self.scripts.set(fresh.scripts.get_untracked());
        self.files.set(fresh.files.get_untracked());
        self.packages.set(fresh.packages.get_untracked());
        self.bucket_ids.set(t.bucket_ids.clone());
    }

    /// The template as typed (list rows in their on-screen order, so error keys match them),
    /// or the field errors the shared validation finds.
    pub fn template(&self) -> Result<Template, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut number = |field: &str, value: RwSignal<String>| {
            errors
                .check(
                    field,
                    value
                        .get_untracked()
                        .trim()
                        .parse::<u32>()
                        .map_err(|_| "Enter a whole number.".to_owned()),
                )
                .unwrap_or(0)
        };
        let typed = Template {
            cores: number("cores", self.cores),
            memory_mib: number("memory_mib", self.memory_mib),
            swap_mib: number("swap_mib", self.swap_mib),
            disk_gib: number("disk_gib", self.disk_gib),
            source: self.source.get_untracked(),
            name: self.name.get_untracked(),
            description: self.description.get_untracked(),
            version: self.version.get_untracked().trim().to_owned(),
            os_template: self.os_template.get_untracked(),
            storage: self.storage.get_untracked(),
            bridge: self.bridge.get_untracked(),
            unprivileged: self.unprivileged.get_untracked(),
            nesting: self.nesting.get_untracked(),
            keyctl: self.keyctl.get_untracked(),
            fuse: self.fuse.get_untracked(),
            tags: split_tags(&self.tags.get_untracked()),
            scripts: self
                .scripts
                .with_untracked(|r| r.iter().map(ScriptRow::script).collect()),
            files: self
                .files
                .with_untracked(|r| r.iter().map(FileRow::file).collect()),
            packages: self.packages.with_untracked(|r| packages_of(r)),
            bucket_ids: self.bucket_ids.get_untracked(),
        };
        if let Err(found) = typed.validated() {
            for (field, message) in found.0 {
                errors.add(&field, message);
            }
        }
        errors.into_result(typed)
    }
}

/// Tags as typed: separated by commas, semicolons or spaces.
pub fn split_tags(text: &str) -> Vec<String> {
    text.split([',', ';', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}
