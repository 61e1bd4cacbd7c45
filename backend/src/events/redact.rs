//! Replaces registered secrets in event messages before they are stored or published.

use std::borrow::Cow;

/// What a secret is replaced with.
pub const REDACTED: &str = "********";

/// The secrets to hide, longest first so a secret containing another is hidden whole.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Redactor {
    /// Registers a secret; empty strings are ignored (they would match everywhere).
    pub fn add(&mut self, secret: impl Into<String>) {
        let secret = secret.into();
        if secret.is_empty() || self.secrets.contains(&secret) {
            return;
        }
        self.secrets.push(secret);
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// `text` with every registered secret replaced by [`REDACTED`].
    pub fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_every_occurrence_longest_first() {
        let mut r = Redactor::default();
        r.add("pass");
        r.add("password123");
        r.add("");
        assert_eq!(
            r.apply("password123 and pass and password123"),
            "******** and ******** and ********"
        );
        assert!(matches!(r.apply("nothing here"), Cow::Borrowed(_)));
        assert_eq!(format!("{r:?}"), "Redactor { secrets: 2 }");
    }
}
