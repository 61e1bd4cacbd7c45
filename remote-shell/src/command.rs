//! [`Command`]: a program and its arguments, turned into a command line with every word quoted.

use std::fmt;

use crate::error::RemoteError;
use crate::quote::shell_quote;

/// A remote command: a program and its arguments.
///
/// The remote side runs command lines through the user's shell, so every word is quoted with
/// [`shell_quote`] when the line is built; data passed as an argument is never parsed by it.
/// `Debug` shows only the program, since arguments may carry data.
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    program: String,
    args: Vec<String>,
}

impl Command {
    /// A command running `program`, looked up on the remote `PATH`.
    pub fn new(program: impl Into<String>) -> Self {
        Command {
            program: program.into(),
            args: Vec::new(),
        }
    }

    /// `sh -c SCRIPT sh`: a fixed script whose data comes in as `$1`, `$2`, … through
    /// [`arg`](Self::arg). The script is `'static` so that it is written in the source, not
    /// assembled from data.
    pub fn sh(script: &'static str) -> Self {
        Command::new("sh").arg("-c").arg(script).arg("sh")
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// The program name, the part of a command that is safe to log.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The command line to send: every word quoted, separated by spaces.
    pub fn to_command_line(&self) -> Result<String, RemoteError> {
        let words = std::iter::once(&self.program).chain(&self.args);
        let mut line = String::new();
        for word in words {
            if word.contains('\0') {
                return Err(RemoteError::BadArgument {
                    program: self.program.clone(),
                });
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&shell_quote(word));
        }
        Ok(line)
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("program", &self.program)
            .field("args", &self.args.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Command;

    #[test]
    fn every_word_is_quoted() {
        let line = Command::new("printf")
            .arg("%s")
            .arg("a'b c")
            .to_command_line()
            .unwrap();
        assert_eq!(line, r"'printf' '%s' 'a'\''b c'");
    }

    #[test]
    fn sh_passes_data_as_positional_arguments() {
        let line = Command::sh(r#"echo "$1""#)
            .arg("$(id)")
            .to_command_line()
            .unwrap();
        assert_eq!(line, r#"'sh' '-c' 'echo "$1"' 'sh' '$(id)'"#);
    }

    #[test]
    fn nul_bytes_are_rejected() {
        assert!(Command::new("echo").arg("a\0b").to_command_line().is_err());
    }

    #[test]
    fn debug_hides_arguments() {
        let debug = format!("{:?}", Command::new("echo").arg("secret"));
        assert!(!debug.contains("secret"), "{debug}");
    }
}
