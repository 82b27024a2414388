//! A TCP proxy between the server and its database that a test can break and mend, as
//! crates.io's chaosproxy does: the database "stops" for this server only, while the
//! PostgreSQL that every other test uses runs on.

use sqlx::postgres::PgConnectOptions;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::watch;

/// Where the database listens: a TCP address, or a Unix socket (the private cluster that
/// `scripts/test` starts listens on a socket only).
#[derive(Debug, Clone)]
pub enum Upstream {
    Tcp(String),
    Unix(std::path::PathBuf),
}

impl Upstream {
    /// Where `options` connect.
    pub fn of(options: &PgConnectOptions) -> Upstream {
        let port = options.get_port();
        match options.get_socket() {
            Some(dir) => Upstream::Unix(dir.join(format!(".s.PGSQL.{port}"))),
            None if options.get_host().starts_with('/') => Upstream::Unix(format!("{}/.s.PGSQL.{port}", options.get_host()).into()),
            None => Upstream::Tcp(format!("{}:{port}", options.get_host())),
        }
    }
}

pub struct ChaosProxy {
    pub addr: SocketAddr,
    broken: watch::Sender<bool>,
}

impl ChaosProxy {
    /// Forwards connections to `upstream` for as long as the test runs.
    pub async fn start(upstream: Upstream) -> Arc<ChaosProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (broken, watching) = watch::channel(false);
        let proxy = Arc::new(ChaosProxy { addr: listener.local_addr().unwrap(), broken });
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut broken = watching.clone();
                if *broken.borrow() {
                    continue; // Dropped at once: the database is "down".
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let copied = async {
                        match upstream {
                            Upstream::Tcp(addr) => {
                                let mut outbound = TcpStream::connect(addr).await?;
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await
                            }
                            Upstream::Unix(path) => {
                                let mut outbound = UnixStream::connect(path).await?;
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await
                            }
                        }
                    };
                    tokio::select! {
                        _ = copied => {}
                        _ = broken.wait_for(|down| *down) => {}
                    }
                });
            }
        });
        proxy
    }

    /// Drops every connection, and every new one, until [`ChaosProxy::mend`].
    pub fn break_all(&self) {
        self.broken.send_replace(true);
    }

    pub fn mend(&self) {
        self.broken.send_replace(false);
    }
}
