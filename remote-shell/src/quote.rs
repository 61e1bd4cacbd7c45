//! Quoting one word for a POSIX shell (`sh`, `dash`, `bash`, busybox `ash`).

/// Quotes `word` so that a POSIX shell reads it back as exactly one word, unchanged.
///
/// The whole word goes between single quotes, inside which nothing is special; each embedded
/// `'` becomes `'\''` (close, escaped quote, reopen). Words are always quoted, even safe ones,
/// so the result never depends on what the shell counts as special. A NUL byte cannot be
/// passed through a shell at all: [`Command`](crate::Command) rejects it before running.
pub fn shell_quote(word: &str) -> String {
    let mut quoted = String::with_capacity(word.len() + 2);
    quoted.push('\'');
    for c in word.chars() {
        if c == '\'' {
            quoted.push_str(r"'\''");
        } else {
            quoted.push(c);
        }
    }
    quoted.push('\'');
    quoted
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn plain_words_are_still_quoted() {
        assert_eq!(shell_quote("abc"), "'abc'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn single_quotes_are_closed_escaped_and_reopened() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("'"), r"''\'''");
    }

    #[test]
    fn everything_else_stays_literal() {
        for word in [
            "$(id)", "`id`", "a\nb", "\\", "*", "~", "a b", "!x", "\"", "{a,b}",
        ] {
            assert_eq!(shell_quote(word), format!("'{word}'"));
        }
    }
}
