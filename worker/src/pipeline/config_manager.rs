//! config-manager: what the deploy phase installs in every container. `config-sync.sh` puts
//! the infrahaus directories in order and runs the hooks in `/etc/config-manager/sync.d`; the
//! deploy phase runs it once and `config-manager.service` at every boot.

use remote_shell::shell_quote;

pub const CONFIG_DIR: &str = "/etc/config-manager";
pub const CREDENTIALS_DIR: &str = "/etc/infrahaus/credentials";
pub const LOG_DIR: &str = "/var/log/config-manager";
pub const CONFIG_ENV: &str = "/etc/config-manager/config.env";
pub const SYNC_SCRIPT: &str = "/etc/config-manager/config-sync.sh";
pub const SCRIPTS_DIR: &str = "/etc/config-manager/scripts";
pub const UNIT_PATH: &str = "/etc/systemd/system/config-manager.service";
pub const UNIT_NAME: &str = "config-manager.service";

/// What `config.env` describes.
pub struct EnvValues<'a> {
    pub container_id: &'a str,
    pub vmid: u32,
    pub hostname: &'a str,
    pub template: &'a str,
}

/// `/etc/config-manager/config.env`: shell assignments, every value quoted.
pub fn config_env(values: &EnvValues<'_>) -> String {
    let vmid = values.vmid.to_string();
    let pairs = [
        ("INFRAHAUS_CONTAINER_ID", values.container_id),
        ("INFRAHAUS_VMID", vmid.as_str()),
        ("INFRAHAUS_HOSTNAME", values.hostname),
        ("INFRAHAUS_TEMPLATE", values.template),
        ("CONFIG_DIR", CONFIG_DIR),
        ("CREDENTIALS_DIR", CREDENTIALS_DIR),
        ("LOG_DIR", LOG_DIR),
    ];
    let mut text = String::from(
        "# Written by infrahaus. Read by config-sync.sh; template scripts may source it.\n",
    );
    for (name, value) in pairs {
        text.push_str(&format!("{name}={}\n", shell_quote(value)));
    }
    text
}

/// `/etc/config-manager/config-sync.sh`.
pub const CONFIG_SYNC: &str = r#"#!/bin/sh
# config-sync: puts the container's infrahaus configuration in order. Run by infrahaus after
# deployment and by config-manager.service at every boot. Executable files in
# /etc/config-manager/sync.d run in name order; a failing hook fails the sync.
set -eu
. /etc/config-manager/config.env
mkdir -p "$CREDENTIALS_DIR" "$LOG_DIR" "$CONFIG_DIR/sync.d"
chmod 0700 "$CREDENTIALS_DIR"
for f in "$CREDENTIALS_DIR"/*; do
    if [ -f "$f" ]; then chmod 0600 "$f"; fi
done
for hook in "$CONFIG_DIR"/sync.d/*; do
    if [ -f "$hook" ] && [ -x "$hook" ]; then
        echo "config-sync: running hook ${hook##*/}"
        "$hook"
    fi
done
date -u '+%Y-%m-%dT%H:%M:%SZ' > "$LOG_DIR/last-sync"
echo "config-sync: $INFRAHAUS_HOSTNAME is in sync"
"#;

/// `/etc/systemd/system/config-manager.service`.
pub const UNIT: &str = "[Unit]
Description=infrahaus config-manager: apply the container's configuration at boot
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=/etc/config-manager/config-sync.sh
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_are_quoted() {
        let text = config_env(&EnvValues {
            container_id: "c1",
            vmid: 120,
            hostname: "web-1",
            template: "it's $(evil)",
        });
        assert!(text.contains("INFRAHAUS_VMID='120'\n"), "{text}");
        assert!(
            text.contains(r"INFRAHAUS_TEMPLATE='it'\''s $(evil)'"),
            "{text}"
        );
    }

    #[test]
    fn sync_script_passes_sh_syntax_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config-sync.sh");
        std::fs::write(&path, CONFIG_SYNC).unwrap();
        let status = std::process::Command::new("sh")
            .arg("-n")
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
    }
}
