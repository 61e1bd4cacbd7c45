//! Accounts as the browser and the server both see them: roles, the rules for user names and
//! passwords (the command line's `server user create` checks the same), and the forms of the
//! users page and the account page.

use crate::UserId;
use crate::text_enum;
use crate::validation::FieldErrors;
use serde::{Deserialize, Serialize};

text_enum!(
    /// What an account may do. Admins do everything; operators create and manage containers
    /// but not nodes or accounts, and open only the credentials of containers they created.
    Role {
        Admin => "admin",
        Operator => "operator",
    }
);

impl Role {
    /// The word the pages show.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Operator => "Operator",
        }
    }
}

/// Shortest password an account may have.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password an account may have (argon2 would take more, a form has no need to).
pub const MAX_PASSWORD_LEN: usize = 1024;
/// Longest user name.
pub const MAX_USERNAME_LEN: usize = 64;

/// A user name: 1 to 64 ASCII letters, digits, dots, dashes, underscores or `@`, as typed
/// (surrounding spaces dropped).
pub fn username(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("Enter a user name.".into());
    }
    if value.chars().count() > MAX_USERNAME_LEN {
        return Err(format!("At most {MAX_USERNAME_LEN} characters."));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
    {
        return Err("Use letters, digits, dots, dashes, underscores or @.".into());
    }
    Ok(value.to_owned())
}

/// A new password: between [`MIN_PASSWORD_LEN`] and [`MAX_PASSWORD_LEN`] characters, kept as
/// typed (spaces count).
pub fn password(value: &str) -> Result<(), String> {
    let length = value.chars().count();
    if length < MIN_PASSWORD_LEN {
        return Err(format!("Use at least {MIN_PASSWORD_LEN} characters."));
    }
    if length > MAX_PASSWORD_LEN {
        return Err(format!("At most {MAX_PASSWORD_LEN} characters."));
    }
    Ok(())
}

/// A new password typed twice, checked into `errors` under `field` and `confirm_field`.
fn new_password(
    errors: &mut FieldErrors,
    field: &str,
    confirm_field: &str,
    password_value: &str,
    confirm: &str,
) {
    if errors.check(field, password(password_value)).is_some() && password_value != confirm {
        errors.add(confirm_field, "The two passwords differ.");
    }
}

/// The users page's "Add user" form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUserForm {
    pub username: String,
    pub password: String,
    /// The password typed again.
    pub confirm: String,
    pub role: Option<Role>,
}

/// A checked [`NewUserForm`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
}

impl NewUserForm {
    pub fn validate(&self) -> Result<NewUser, FieldErrors> {
        let mut errors = FieldErrors::new();
        let username = errors.check("username", username(&self.username));
        new_password(
            &mut errors,
            "password",
            "confirm",
            &self.password,
            &self.confirm,
        );
        if self.role.is_none() {
            errors.add("role", "Choose a role.");
        }
        match (username, self.role) {
            (Some(username), Some(role)) if errors.is_empty() => Ok(NewUser {
                username,
                password: self.password.clone(),
                role,
            }),
            _ => Err(errors),
        }
    }
}

/// A new password typed twice (an admin's reset).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordForm {
    pub password: String,
    pub confirm: String,
}

impl PasswordForm {
    /// The new password, when both fields agree and it follows the rules.
    pub fn validate(&self) -> Result<String, FieldErrors> {
        let mut errors = FieldErrors::new();
        new_password(
            &mut errors,
            "password",
            "confirm",
            &self.password,
            &self.confirm,
        );
        errors.into_result(self.password.clone())
    }
}

/// The account page's "Change password" form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePasswordForm {
    pub current_password: String,
    pub new_password: String,
    pub confirm: String,
}

impl ChangePasswordForm {
    /// The new password, when the current one is given and the new one is typed twice alike.
    pub fn validate(&self) -> Result<String, FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.current_password.is_empty() {
            errors.add("current_password", "Enter your current password.");
        }
        new_password(
            &mut errors,
            "new_password",
            "confirm",
            &self.new_password,
            &self.confirm,
        );
        errors.into_result(self.new_password.clone())
    }
}

/// One row of the users page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    /// When it was created, `YYYY-MM-DD HH:MM UTC`.
    pub created: String,
    /// The account of the person looking.
    pub is_you: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_follow_the_command_lines_rules() {
        assert_eq!(
            username("  alice.b-c_d@home "),
            Ok("alice.b-c_d@home".into())
        );
        for bad in ["", "   ", "al ice", "bob;rm", "ünïcode", &"a".repeat(65)] {
            assert!(username(bad).is_err(), "{bad:?}");
        }
        assert!(username(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn passwords_are_typed_twice_alike_and_long_enough() {
        let form = |password: &str, confirm: &str| PasswordForm {
            password: password.into(),
            confirm: confirm.into(),
        };
        assert_eq!(
            form("12345678", "12345678").validate(),
            Ok("12345678".into())
        );
        let short = form("1234567", "1234567").validate().unwrap_err();
        assert!(short.get("password").is_some());
        let differ = form("12345678", "12345679").validate().unwrap_err();
        assert_eq!(differ.get("confirm"), Some("The two passwords differ."));
        assert!(differ.get("password").is_none());
        assert!(
            form(&"x".repeat(1025), &"x".repeat(1025))
                .validate()
                .is_err()
        );
    }

    #[test]
    fn a_new_user_needs_a_name_a_password_twice_and_a_role() {
        let form = NewUserForm {
            username: "bob".into(),
            password: "long enough".into(),
            confirm: "long enough".into(),
            role: Some(Role::Operator),
        };
        assert_eq!(
            form.validate(),
            Ok(NewUser {
                username: "bob".into(),
                password: "long enough".into(),
                role: Role::Operator,
            })
        );
        let errors = NewUserForm::default().validate().unwrap_err();
        for field in ["username", "password", "role"] {
            assert!(errors.get(field).is_some(), "{field}");
        }
        let change = ChangePasswordForm::default().validate().unwrap_err();
        assert!(change.get("current_password").is_some());
        assert!(change.get("new_password").is_some());
    }

    #[test]
    fn roles_are_lowercase_words() {
        assert_eq!(
            serde_json::to_string(&Role::Operator).unwrap(),
            "\"operator\""
        );
        assert_eq!("admin".parse::<Role>(), Ok(Role::Admin));
    }
}
