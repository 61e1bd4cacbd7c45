//! [`TcpGate`]: a TCP forwarder in front of a real server that a test can shut and open again,
//! to take a dependency (PostgreSQL, Redis) away from one process without stopping it for every
//! other test.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Forwards connections from its own loopback port to `target` while open.
pub struct TcpGate {
    address: SocketAddr,
    target: SocketAddr,
    state: Arc<Mutex<Forwarding>>,
}

#[derive(Default)]
struct Forwarding {
    acceptor: Option<JoinHandle<()>>,
    connections: Vec<JoinHandle<()>>,
}

impl TcpGate {
    /// An open gate to `target` on a free port of 127.0.0.1.
    pub async fn start(target: SocketAddr) -> TcpGate {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gate = TcpGate {
            address: listener.local_addr().unwrap(),
            target,
            state: Arc::default(),
        };
        gate.accept_on(listener);
        gate
    }

    /// The address clients connect to instead of the target.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Refuses new connections and cuts every open one, as if the target went down.
    pub fn shut(&self) {
        let mut state = self.state.lock().unwrap();
        if let Some(acceptor) = state.acceptor.take() {
            acceptor.abort();
        }
        for connection in state.connections.drain(..) {
            connection.abort();
        }
    }

    /// Accepts connections again, on the same port.
    pub async fn open(&self) {
        let listener = loop {
            match TcpListener::bind(self.address).await {
                Ok(listener) => break listener,
                // The aborted listener's socket closes a moment later.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        };
        self.accept_on(listener);
    }

    fn accept_on(&self, listener: TcpListener) {
        let target = self.target;
        let state = Arc::downgrade(&self.state);
        let acceptor = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let Some(state) = state.upgrade() else { return };
                let connection = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                let mut state = state.lock().unwrap();
                state.connections.retain(|c| !c.is_finished());
                state.connections.push(connection);
            }
        });
        self.state.lock().unwrap().acceptor = Some(acceptor);
    }
}

impl Drop for TcpGate {
    fn drop(&mut self) {
        self.shut();
    }
}
