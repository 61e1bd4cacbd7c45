//! Just enough shell parsing to find `pct` commands in a node command line: splits at
//! top-level `&&`, `||`, `;` and newlines, and splits each part into words (quotes and
//! backslashes as in sh). Parts using pipes, redirections, expansions or globs are marked
//! as not simple.

/// How a part is joined to the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    First,
    And,
    Or,
    Then,
}

/// One part of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub join: Join,
    /// The part's source text (for handing it to a real shell).
    pub text: String,
    pub words: Vec<String>,
    /// No pipes, redirections, substitutions, globs or background jobs.
    pub simple: bool,
}

struct Builder {
    parts: Vec<Part>,
    join: Join,
    start: usize,
    words: Vec<String>,
    word: Option<String>,
    simple: bool,
}

impl Builder {
    fn end_word(&mut self) {
        if let Some(w) = self.word.take() {
            self.words.push(w);
        }
    }

    fn push_char(&mut self, c: char) {
        self.word.get_or_insert_with(String::new).push(c);
    }

    fn end_part(&mut self, line: &str, end: usize, next: Join, next_start: usize) {
        self.end_word();
        let text = line[self.start..end].trim().to_string();
        if !text.is_empty() {
            self.parts.push(Part {
                join: self.join,
                text,
                words: std::mem::take(&mut self.words),
                simple: self.simple,
            });
        }
        self.words.clear();
        self.join = if self.parts.is_empty() {
            Join::First
        } else {
            next
        };
        self.start = next_start;
        self.simple = true;
    }
}

/// Splits `line` into parts.
pub fn split(line: &str) -> Vec<Part> {
    let mut b = Builder {
        parts: Vec::new(),
        join: Join::First,
        start: 0,
        words: Vec::new(),
        word: None,
        simple: true,
    };
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        let next = chars.get(i + 1).map(|(_, c)| *c);
        match c {
            ' ' | '\t' => b.end_word(),
            '\'' => {
                b.word.get_or_insert_with(String::new);
                i += 1;
                while i < chars.len() && chars[i].1 != '\'' {
                    b.push_char(chars[i].1);
                    i += 1;
                }
            }
            '"' => {
                b.word.get_or_insert_with(String::new);
                i += 1;
                while i < chars.len() && chars[i].1 != '"' {
                    let ch = chars[i].1;
                    if ch == '\\'
                        && matches!(chars.get(i + 1).map(|x| x.1), Some('"' | '\\' | '$' | '`'))
                    {
                        i += 1;
                        b.push_char(chars[i].1);
                    } else {
                        if ch == '$' || ch == '`' {
                            b.simple = false;
                        }
                        b.push_char(ch);
                    }
                    i += 1;
                }
            }
            '\\' => {
                if let Some(n) = next {
                    if n != '\n' {
                        b.push_char(n);
                    }
                    i += 1;
                }
            }
            ';' | '\n' => b.end_part(line, pos, Join::Then, pos + 1),
            '&' if next == Some('&') => {
                b.end_part(line, pos, Join::And, pos + 2);
                i += 1;
            }
            '|' if next == Some('|') => {
                b.end_part(line, pos, Join::Or, pos + 2);
                i += 1;
            }
            '&' | '|' | '<' | '>' | '(' | ')' | '`' | '$' | '*' | '?' | '[' | '{' | '~' => {
                b.simple = false;
                b.push_char(c);
            }
            '#' if b.word.is_none() => {
                b.simple = false;
                b.push_char(c);
            }
            _ => b.push_char(c),
        }
        i += 1;
    }
    b.end_part(line, line.len(), Join::Then, line.len());
    b.parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_parts_and_words() {
        let parts = split(
            "cat > /tmp/x && pct push 100 /tmp/x '/etc/my app.conf' --perms 0644; echo \"done $X\"",
        );
        assert_eq!(parts.len(), 3);
        assert!(!parts[0].simple);
        assert_eq!(parts[1].join, Join::And);
        assert_eq!(
            parts[1].words,
            [
                "pct",
                "push",
                "100",
                "/tmp/x",
                "/etc/my app.conf",
                "--perms",
                "0644"
            ]
        );
        assert!(parts[1].simple);
        assert_eq!(parts[2].join, Join::Then);
        assert!(!parts[2].simple);
        let parts = split("pct exec 100 -- bash -c 'echo a && echo b' || true");
        assert_eq!(
            parts[0].words,
            ["pct", "exec", "100", "--", "bash", "-c", "echo a && echo b"]
        );
        assert_eq!(parts[1].join, Join::Or);
    }
}
