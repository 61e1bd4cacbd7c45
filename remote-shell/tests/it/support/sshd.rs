//! A throw-away OpenSSH `sshd` on 127.0.0.1, configured in a temporary directory and
//! killed on drop.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use remote_shell::{ConnectOptions, DeployKey, HostKey, RemotePath, SshSession};
use tempfile::TempDir;

use super::fake_pct;

const SSHD: &str = "/usr/sbin/sshd";

/// A private sshd. Layout of its directory: `etc/` (config, host key, authorized keys, log),
/// `client_ed25519` (the client's key), `bin/pct` (the fake), `work/` (scratch space for
/// tests), `ct/VMID/` (fake container roots).
pub struct Sshd {
    dir: TempDir,
    port: u16,
    user: String,
    client_key: DeployKey,
    child: Option<Child>,
}

impl Sshd {
    /// Starts a fresh sshd and waits until it accepts connections. Another process may take
    /// the free port before sshd binds it (tests run side by side); sshd then moves to a new one.
    pub fn start() -> Sshd {
        let mut sshd = Sshd::stopped();
        for _ in 0..5 {
            match sshd.try_spawn() {
                Ok(()) => return sshd,
                Err(log) if log.contains("Address already in use") => {
                    sshd.port = free_port();
                    sshd.write_config();
                }
                Err(log) => panic!("{log}"),
            }
        }
        panic!("sshd found no free port:\n{}", sshd.log());
    }

    /// Writes keys and configuration for a free port, without starting sshd.
    pub fn stopped() -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: these tests need OpenSSH's server (apt-get install openssh-server)"
        );
        // sshd refuses to start without its privilege-separation directory, which the
        // package's service unit normally creates.
        fs::create_dir_all("/run/sshd").expect("create /run/sshd");
        let dir = tempfile::Builder::new()
            .prefix("remote-shell-sshd-")
            .tempdir()
            .expect("temp dir");
        for sub in ["etc", "bin", "work", "ct", "home"] {
            fs::create_dir(dir.path().join(sub)).expect("create test dir");
        }
        let client_key =
            DeployKey::load_or_create(&dir.path().join("client_ed25519")).expect("client key");
        fs::write(
            dir.path().join("etc/authorized_keys"),
            format!("{}\n", client_key.public_openssh()),
        )
        .expect("write authorized_keys");
        fake_pct::install(dir.path());
        let sshd = Sshd {
            port: free_port(),
            user: whoami(),
            client_key,
            child: None,
            dir,
        };
        sshd.new_host_key();
        sshd.write_config();
        sshd
    }

    /// Starts sshd on its port and waits until it listens.
    pub fn spawn(&mut self) {
        if let Err(log) = self.try_spawn() {
            panic!("{log}");
        }
    }

    /// Starts sshd on its port and waits until it listens, or says why it did not.
    fn try_spawn(&mut self) -> Result<(), String> {
        assert!(self.child.is_none(), "sshd is already running");
        let log = fs::File::create(self.log_path()).expect("sshd log");
        let mut child = Command::new(SSHD)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(self.etc("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {SSHD}: {e}"));
        // Watch the log rather than probe the port, so that tests can count connections.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.log().contains("Server listening on") {
            if let Some(status) = child.try_wait().expect("sshd status") {
                return Err(format!("sshd exited with {status}:\n{}", self.log()));
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("sshd did not listen in time:\n{}", self.log()));
            }
            sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
        Ok(())
    }

    /// Kills sshd; connections already open keep their own processes until they end.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Restarts sshd on the same port with a newly generated host key.
    pub fn restart_with_new_host_key(&mut self) {
        self.stop();
        self.new_host_key();
        self.spawn();
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Options for connecting as the test user with the authorized key, nothing pinned.
    pub fn options(&self) -> ConnectOptions {
        ConnectOptions::new(
            "127.0.0.1",
            self.port,
            self.user.clone(),
            self.client_key.clone(),
        )
        .with_connect_timeout(Duration::from_secs(20))
    }

    /// A connected session, first use.
    pub async fn connect(&self) -> SshSession {
        remote_shell::connect(&self.options())
            .await
            .expect("connect to test sshd")
    }

    /// The host key sshd presents now.
    pub fn host_key(&self) -> HostKey {
        let line = fs::read_to_string(self.etc("host_ed25519.pub")).expect("host key");
        HostKey::parse(&line).expect("parse host key")
    }

    /// What sshd has logged since it was last started.
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The local scratch directory commands may write to.
    pub fn work_dir(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// The sessions' home (empty: no shell start-up files).
    pub fn home_dir(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// `work/relative` as a remote path (sshd runs on this machine).
    pub fn work_path(&self, relative: &str) -> RemotePath {
        let work = self.work_dir();
        RemotePath::new(work.to_str().expect("UTF-8 temp dir"))
            .and_then(|p| p.join(relative))
            .expect("valid work path")
    }

    /// The local directory that is `/` inside fake container `vmid`.
    pub fn container_root(&self, vmid: u32) -> PathBuf {
        self.dir.path().join("ct").join(vmid.to_string())
    }

    fn new_host_key(&self) {
        let key = self.etc("host_ed25519");
        let _ = fs::remove_file(&key);
        let _ = fs::remove_file(key.with_extension("pub"));
        let status = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "test-host", "-f"])
            .arg(&key)
            .status()
            .expect("run ssh-keygen (apt-get install openssh-client)");
        assert!(status.success(), "ssh-keygen failed");
    }

    fn write_config(&self) {
        let config = format!(
            "Port {port}\n\
             ListenAddress 127.0.0.1\n\
             HostKey {host_key}\n\
             PidFile {pid}\n\
             AuthorizedKeysFile {authorized}\n\
             UsePAM no\n\
             StrictModes no\n\
             PermitRootLogin yes\n\
             PubkeyAuthentication yes\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             MaxSessions 64\n\
             LogLevel VERBOSE\n\
             Subsystem sftp internal-sftp\n\
             SetEnv PATH={bin}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME={home}\n",
            port = self.port,
            host_key = self.etc("host_ed25519").display(),
            pid = self.etc("sshd.pid").display(),
            authorized = self.etc("authorized_keys").display(),
            bin = self.dir.path().join("bin").display(),
            // A home of the sessions' own, as a fresh container's root has: the shell that
            // sshd starts reads no start-up file of the user running the tests (on this
            // machine root's `.bashrc` runs `pyenv init`, whose rehash can print into a
            // command's stderr when two shells start at once).
            home = self.dir.path().join("home").display(),
        );
        fs::write(self.etc("sshd_config"), config).expect("write sshd_config");
    }

    fn etc(&self, name: &str) -> PathBuf {
        self.dir.path().join("etc").join(name)
    }

    fn log_path(&self) -> PathBuf {
        self.etc("sshd.log")
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

fn whoami() -> String {
    let out = Command::new("whoami").output().expect("run whoami");
    String::from_utf8(out.stdout)
        .expect("user name")
        .trim()
        .to_owned()
}
