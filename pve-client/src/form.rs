//! `application/x-www-form-urlencoded` bodies the way PVE parses them.
//!
//! Booleans must be exactly `1`/`0` (PVE rejects `true`), and every byte outside the unreserved
//! set is percent-encoded, spaces as `%20`, so SSH keys with spaces, `+` and newlines arrive intact.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything except RFC 3986 unreserved characters gets encoded.
const FORM_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An ordered list of form fields. Its `Debug` shows only the keys: values may be secrets.
#[derive(Clone, Default)]
pub struct FormBody {
    fields: Vec<(String, String)>,
}

impl FormBody {
    /// An empty body.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a text field.
    pub fn text(mut self, key: &str, value: impl Into<String>) -> Self {
        self.fields.push((key.to_owned(), value.into()));
        self
    }

    /// Adds a text field when there is a value.
    pub fn opt_text(self, key: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.text(key, v),
            None => self,
        }
    }

    /// Adds a boolean field as `1`/`0`.
    pub fn flag(self, key: &str, value: bool) -> Self {
        self.text(key, if value { "1" } else { "0" })
    }

    /// The fields in insertion order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The value of a field, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The encoded body.
    pub fn encode(&self) -> String {
        self.fields
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, FORM_VALUE),
                    utf8_percent_encode(v, FORM_VALUE)
                )
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

impl std::fmt::Debug for FormBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.fields.iter().map(|(k, _)| k))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_spaces_newlines_and_plus() {
        let body = FormBody::new()
            .text(
                "ssh-public-keys",
                "ssh-ed25519 AAAA+b/c= me@host\nssh-rsa X",
            )
            .flag("unprivileged", true)
            .flag("onboot", false)
            .text("net0", "name=eth0,bridge=vmbr0,ip=10.0.0.2/24");
        assert_eq!(
            body.encode(),
            "ssh-public-keys=ssh-ed25519%20AAAA%2Bb%2Fc%3D%20me%40host%0Assh-rsa%20X\
             &unprivileged=1&onboot=0&net0=name%3Deth0%2Cbridge%3Dvmbr0%2Cip%3D10.0.0.2%2F24"
        );
    }

    #[test]
    fn debug_hides_values() {
        let body = FormBody::new().text("password", "hunter22");
        assert_eq!(format!("{body:?}"), "[\"password\"]");
    }
}
