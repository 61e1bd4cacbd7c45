//! Auth tickets (`PVE:user@realm:HEXTIME::signature`) and CSRF prevention tokens.
//!
//! PVE signs tickets with RSA; the simulator uses HMAC-SHA256 with a key kept in the state
//! directory, so tickets survive a restart. The CSRF token is `HEXTIME:base64(HMAC)` as PVE's.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Tickets and CSRF tokens live two hours, like PVE's.
pub const LIFETIME_SECS: i64 = 2 * 3600;
/// Tickets from up to five minutes in the future are accepted (clock skew).
const GRACE_SECS: i64 = 300;

/// Signs and verifies tickets and CSRF tokens.
pub struct TicketSigner {
    key: [u8; 32],
}

impl TicketSigner {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn mac(&self, domain: &str, data: &str) -> Vec<u8> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(domain.as_bytes());
        mac.update(b"\0");
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// A new ticket for `userid` issued at `now` (unix seconds).
    pub fn ticket(&self, userid: &str, now: i64) -> String {
        let data = format!("PVE:{userid}:{now:08X}");
        let signature = STANDARD.encode(self.mac("ticket", &data));
        format!("{data}::{signature}")
    }

    /// The user id of a valid, unexpired ticket.
    pub fn verify_ticket(&self, ticket: &str, now: i64) -> Option<String> {
        let (data, signature) = ticket.rsplit_once("::")?;
        let rest = data.strip_prefix("PVE:")?;
        let (userid, hextime) = rest.rsplit_once(':')?;
        let issued = i64::from_str_radix(hextime, 16).ok()?;
        let expected = STANDARD.encode(self.mac("ticket", data));
        if expected != signature || !fresh(issued, now) {
            return None;
        }
        Some(userid.to_string())
    }

    /// A CSRF prevention token for `userid`.
    pub fn csrf_token(&self, userid: &str, now: i64) -> String {
        let hextime = format!("{now:08X}");
        let signature = STANDARD_NO_PAD.encode(self.mac("csrf", &format!("{hextime}:{userid}")));
        format!("{hextime}:{signature}")
    }

    pub fn verify_csrf(&self, token: &str, userid: &str, now: i64) -> bool {
        let Some((hextime, signature)) = token.split_once(':') else {
            return false;
        };
        let Ok(issued) = i64::from_str_radix(hextime, 16) else {
            return false;
        };
        let expected = STANDARD_NO_PAD.encode(self.mac("csrf", &format!("{hextime}:{userid}")));
        expected == signature && fresh(issued, now)
    }
}

fn fresh(issued: i64, now: i64) -> bool {
    let age = now - issued;
    age > -GRACE_SECS && age < LIFETIME_SECS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_round_trip_and_expiry() {
        let signer = TicketSigner::new([7; 32]);
        let ticket = signer.ticket("root@pam", 1_700_000_000);
        assert!(ticket.starts_with("PVE:root@pam:6553F100::"));
        assert_eq!(
            signer.verify_ticket(&ticket, 1_700_000_100).as_deref(),
            Some("root@pam")
        );
        assert_eq!(
            signer.verify_ticket(&ticket, 1_700_000_000 + LIFETIME_SECS),
            None
        );
        let forged = ticket.replace("root@pam", "admin@pve");
        assert_eq!(signer.verify_ticket(&forged, 1_700_000_100), None);
    }

    #[test]
    fn csrf_token_is_bound_to_user() {
        let signer = TicketSigner::new([1; 32]);
        let token = signer.csrf_token("root@pam", 1_700_000_000);
        assert_eq!(token.len(), 8 + 1 + 43);
        assert!(signer.verify_csrf(&token, "root@pam", 1_700_000_010));
        assert!(!signer.verify_csrf(&token, "other@pve", 1_700_000_010));
    }
}
