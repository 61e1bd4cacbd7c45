//! `template.conf`: shell-style `KEY=value` assignments read as data. Quoting (`'…'`, `"…"`),
//! `export`, comments, and `${VAR:-default}` / `${VAR-default}` / `${VAR}` / `$VAR` expansions
//! (of keys set earlier in the same file; otherwise the default) are understood. Anything that
//! would need a shell to run, such as `$(…)` or backticks, is an error: nothing is executed.

/// A parse error on one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfError {
    pub line: u32,
    pub message: String,
}

/// The assignments in order, with their line numbers; later ones override earlier ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conf {
    pub entries: Vec<(String, String, u32)>,
}

impl Conf {
    pub fn get(&self, key: &str) -> Option<(&str, u32)> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, l)| (v.as_str(), *l))
    }
}

/// Parses the whole file, collecting every line's error.
pub fn parse(text: &str) -> Result<Conf, Vec<ConfError>> {
    let mut conf = Conf::default();
    let mut errors = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match parse_line(trimmed, &conf) {
            Ok((key, value)) => conf.entries.push((key, value, line)),
            Err(message) => errors.push(ConfError { line, message }),
        }
    }
    if errors.is_empty() {
        Ok(conf)
    } else {
        Err(errors)
    }
}

fn parse_line(line: &str, known: &Conf) -> Result<(String, String), String> {
    let line = line
        .strip_prefix("export ")
        .map(str::trim_start)
        .unwrap_or(line);
    let (key, rest) = line
        .split_once('=')
        .ok_or_else(|| "expected KEY=value".to_owned())?;
    let valid_key = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_key {
        return Err(format!(
            "{key:?} is not a variable name (no spaces around =)"
        ));
    }
    let value = parse_value(rest, known)?;
    Ok((key.to_owned(), value))
}

fn parse_value(text: &str, known: &Conf) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => loop {
                match chars.next() {
                    Some('\'') => break,
                    Some(c) => out.push(c),
                    None => return Err("unclosed single quote".into()),
                }
            },
            '"' => loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(c @ ('"' | '\\' | '$' | '`')) => out.push(c),
                        Some(c) => {
                            out.push('\\');
                            out.push(c);
                        }
                        None => return Err("unclosed double quote".into()),
                    },
                    Some('$') => out.push_str(&expand(&mut chars, known)?),
                    Some('`') => return Err(not_executed()),
                    Some(c) => out.push(c),
                    None => return Err("unclosed double quote".into()),
                }
            },
            '$' => out.push_str(&expand(&mut chars, known)?),
            '`' => return Err(not_executed()),
            '\\' => match chars.next() {
                Some(c) => out.push(c),
                None => return Err("a line may not end with \\".into()),
            },
            c if c.is_whitespace() => {
                let rest: String = chars.collect();
                let rest = rest.trim_start();
                if rest.is_empty() || rest.starts_with('#') {
                    return Ok(out);
                }
                return Err("unquoted space in the value: put the value in quotes".into());
            }
            ';' | '&' | '|' | '<' | '>' | '(' | ')' => {
                return Err(format!(
                    "{c:?} in an unquoted value: put the value in quotes"
                ));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

fn not_executed() -> String {
    "command substitution is not supported: template.conf is read as data, never executed".into()
}

fn expand(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    known: &Conf,
) -> Result<String, String> {
    let lookup = |name: &str| known.get(name).map(|(v, _)| v.to_owned());
    match chars.peek() {
        Some('(') => Err(not_executed()),
        Some('{') => {
            chars.next();
            let mut inner = String::new();
            loop {
                match chars.next() {
                    Some('}') => break,
                    Some(c) => inner.push(c),
                    None => return Err("unclosed ${".into()),
                }
            }
            if inner.contains("$(") || inner.contains('`') {
                return Err(not_executed());
            }
            let (name, default, colon) = if let Some((n, d)) = inner.split_once(":-") {
                (n, Some(d), true)
            } else if let Some((n, d)) = inner.split_once('-') {
                (n, Some(d), false)
            } else {
                (inner.as_str(), None, false)
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("unsupported expansion ${{{inner}}}"));
            }
            let default = default.map(|d| d.trim_matches('"').trim_matches('\'').to_owned());
            Ok(match (lookup(name), default) {
                (Some(v), Some(d)) if colon && v.is_empty() => d,
                (Some(v), _) => v,
                (None, Some(d)) => d,
                (None, None) => String::new(),
            })
        }
        Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
            let mut name = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    name.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            Ok(lookup(&name).unwrap_or_default())
        }
        _ => Ok("$".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        let cases: &[(&str, &str)] = &[
            ("A=plain", "plain"),
            ("A=\"double quoted\"", "double quoted"),
            ("A='single $NOT'", "single $NOT"),
            ("A=\"${TEMPLATE_CPU:-2}\"", "2"),
            ("A=${X-fallback}", "fallback"),
            ("A=\"say \\\"hi\\\"\"", "say \"hi\""),
            ("export A=exported", "exported"),
            ("A=value # trailing comment", "value"),
            ("A=", ""),
            ("A=\"web;db\"", "web;db"),
        ];
        for (line, expected) in cases {
            let conf = parse(line).unwrap_or_else(|e| panic!("{line}: {e:?}"));
            assert_eq!(conf.get("A").unwrap().0, *expected, "{line}");
        }
    }

    #[test]
    fn earlier_keys_expand() {
        let conf =
            parse("NAME=web\nDESC=\"the ${NAME} server\"\nEMPTY=\nD=${EMPTY:-x}\nE=${EMPTY-y}")
                .unwrap();
        assert_eq!(conf.get("DESC").unwrap().0, "the web server");
        assert_eq!(conf.get("D").unwrap().0, "x");
        assert_eq!(conf.get("E").unwrap().0, "");
    }

    #[test]
    fn errors_name_their_line_and_nothing_runs() {
        let text = "# comment\nA=ok\nB=$(touch /tmp/pwned)\nC=`id`\nnot an assignment\nD=\"unclosed\nE=a b\nF=a;b\n1X=y";
        let errors = parse(text).unwrap_err();
        let lines: Vec<u32> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9]);
        assert!(errors[0].message.contains("never executed"));
        assert!(!std::path::Path::new("/tmp/pwned").exists());
    }
}
