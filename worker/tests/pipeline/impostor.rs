//! [`Impostor`]: an OpenSSH sshd that is not the container, listening at the container's address
//! on another port. It would accept the worker's node key and then run only a command that
//! leaves a marker file, so a test can tell whether the worker offered a key or ran anything.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";

pub struct Impostor {
    dir: tempfile::TempDir,
    child: Child,
    pub port: u16,
}

impl Impostor {
    /// Starts sshd on `ip` (a free port) trusting `authorized_key`, and waits until it listens.
    pub fn start(ip: Ipv4Addr, authorized_key: &str) -> Impostor {
        std::fs::create_dir_all("/run/sshd").expect("create /run/sshd");
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let status = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "impostor", "-f"])
            .arg(path("host_ed25519"))
            .status()
            .expect("run ssh-keygen (apt-get install openssh-client)");
        assert!(status.success());
        std::fs::write(path("authorized_keys"), format!("{authorized_key}\n")).unwrap();
        let port = TcpListener::bind(SocketAddr::from((ip, 0)))
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let config = format!(
            "ListenAddress {ip}:{port}\nHostKey {key}\nPidFile {pid}\nAuthorizedKeysFile {auth}\n\
             UsePAM no\nStrictModes no\nPermitRootLogin yes\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nLogLevel VERBOSE\nForceCommand touch {marker}\n",
            key = path("host_ed25519").display(),
            pid = path("sshd.pid").display(),
            auth = path("authorized_keys").display(),
            marker = path("ran-a-command").display(),
        );
        std::fs::write(path("sshd_config"), config).unwrap();
        let log = std::fs::File::create(path("sshd.log")).unwrap();
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(path("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("run sshd (apt-get install openssh-server)");
        let impostor = Impostor { dir, child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !impostor.log().contains("Server listening on") {
            assert!(
                Instant::now() < deadline,
                "sshd did not start:\n{}",
                impostor.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        impostor
    }

    /// `SHA256:…` of the host key it presents.
    pub fn fingerprint(&self) -> String {
        let line = std::fs::read_to_string(self.path("host_ed25519.pub")).unwrap();
        remote_shell::HostKey::parse(&line).unwrap().fingerprint()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("sshd.log")).unwrap_or_default()
    }

    /// Whether anyone got to run a command.
    pub fn ran_a_command(&self) -> bool {
        self.path("ran-a-command").exists()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Impostor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
