//! Brokers started and stopped by the tests themselves, on free loopback ports: rumqttd
//! in-process, and Mosquitto as a child process with its configuration generated per test.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A free loopback address (the port is released for the broker to take).
pub fn free_addr() -> io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// Waits until `addr` accepts connections, for up to 10 s.
pub async fn ready(addr: SocketAddr) -> io::Result<()> {
    for _ in 0..1000 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no broker on {addr}"),
    ))
}

/// rumqttd, embedded in this process on its own threads. It cannot be stopped; it ends
/// with the process.
#[derive(Debug)]
pub struct Rumqttd {
    addr: SocketAddr,
}

impl Rumqttd {
    /// Starts a broker on a free loopback port and waits until it accepts connections.
    pub async fn start() -> io::Result<Self> {
        Self::start_on(free_addr()?, None).await
    }

    /// Starts a broker on `addr`, requiring `user` (name and password) if given, and waits
    /// until it accepts connections.
    pub async fn start_on(addr: SocketAddr, user: Option<(String, String)>) -> io::Result<Self> {
        let server = rumqttd::ServerSettings {
            name: "v4".into(),
            listen: addr,
            tls: None,
            next_connection_delay_ms: 0,
            connections: rumqttd::ConnectionSettings {
                connection_timeout_ms: 60_000,
                max_payload_size: 1024 * 1024,
                max_inflight_count: 100,
                auth: user.map(|user| HashMap::from([user])),
                external_auth: None,
                dynamic_filters: true,
            },
        };
        let config = rumqttd::Config {
            router: rumqttd::RouterConfig {
                max_connections: 20_000,
                max_outgoing_packet_count: 200,
                max_segment_size: 100 * 1024 * 1024,
                max_segment_count: 10,
                custom_segment: None,
                initialized_filters: None,
                shared_subscriptions_strategy: Default::default(),
            },
            v4: Some(HashMap::from([("v4".into(), server)])),
            ..Default::default()
        };
        std::thread::Builder::new()
            .name("rumqttd".into())
            .spawn(move || {
                if let Err(error) = rumqttd::Broker::new(config).start() {
                    eprintln!("rumqttd: {error}");
                }
            })?;
        ready(addr).await?;
        Ok(Self { addr })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// How to configure a Mosquitto.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct MosquittoConfig {
    /// Keep sessions and messages on disk, saved on every change, so they survive a
    /// restart (even after SIGKILL).
    pub persistence: bool,
    /// Require this user name and password.
    pub user: Option<(String, String)>,
    /// Lines added to the configuration as they are.
    pub extra: String,
    /// Files written into its directory before it starts: name and contents. Mosquitto runs
    /// in that directory, so [`extra`](Self::extra) names them by their relative path.
    pub files: Vec<(String, Vec<u8>)>,
}

impl MosquittoConfig {
    /// Sessions and messages kept on disk, saved on every change.
    pub fn persistent() -> Self {
        Self {
            persistence: true,
            ..Self::default()
        }
    }

    /// Its listener speaks TLS only, with certificates generated for it (see [`Pki`]), and
    /// requires a client certificate if `require_client_certificate`.
    pub fn tls(require_client_certificate: bool) -> Self {
        Self {
            extra: format!(
                "cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate {require_client_certificate}\n",
                Pki::CA,
                Pki::SERVER_CERT,
                Pki::SERVER_KEY
            ),
            files: Pki::generate().files,
            ..Self::default()
        }
    }
}

/// Certificates for a TLS listener, as PEM files in the broker's directory: a CA ([`Self::CA`]),
/// a server certificate it signed for `localhost`, a client certificate it signed, and a
/// second CA of the same name that signed nothing the broker has ([`Self::UNTRUSTED_CA`]).
#[derive(Debug)]
pub struct Pki {
    /// The files: name and contents.
    pub files: Vec<(String, Vec<u8>)>,
}

impl Pki {
    /// The CA that signed the server's and the client's certificates.
    pub const CA: &str = "ca.pem";
    /// Another CA, with the same name, that signed neither.
    pub const UNTRUSTED_CA: &str = "untrusted-ca.pem";
    /// The server's certificate, for `localhost`.
    pub const SERVER_CERT: &str = "server.pem";
    /// The server's private key.
    pub const SERVER_KEY: &str = "server.key";
    /// The client's certificate.
    pub const CLIENT_CERT: &str = "client.pem";
    /// The client's private key.
    pub const CLIENT_KEY: &str = "client.key";

    /// Generates them all (fresh keys every time).
    pub fn generate() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        let ca = || {
            let key = KeyPair::generate().expect("a CA key");
            let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            // Distinct names: OpenSSL takes a certificate whose subject is its issuer's for a
            // self-signed one.
            params
                .distinguished_name
                .push(DnType::CommonName, "mqtt test CA");
            let cert = params.self_signed(&key).expect("a CA certificate");
            (cert, key)
        };
        let (ca_cert, ca_key) = ca();
        let mut files = vec![(Self::CA.to_owned(), ca_cert.pem().into_bytes())];
        for (who, names, cert_file, key_file) in [
            ("server", "localhost", Self::SERVER_CERT, Self::SERVER_KEY),
            ("client", "client", Self::CLIENT_CERT, Self::CLIENT_KEY),
        ] {
            let key = KeyPair::generate().expect("a key");
            let mut params = CertificateParams::new(vec![names.to_owned()]).expect("params");
            params.distinguished_name.push(DnType::CommonName, who);
            let cert = params
                .signed_by(&key, &ca_cert, &ca_key)
                .expect("a certificate");
            files.push((cert_file.to_owned(), cert.pem().into_bytes()));
            files.push((key_file.to_owned(), key.serialize_pem().into_bytes()));
        }
        let (untrusted, _) = ca();
        files.push((Self::UNTRUSTED_CA.to_owned(), untrusted.pem().into_bytes()));
        Self { files }
    }
}

/// A Mosquitto child process on a free loopback port, with its own directory. Killed, and
/// its directory removed, on drop.
#[derive(Debug)]
pub struct Mosquitto {
    addr: SocketAddr,
    dir: PathBuf,
    child: Option<Child>,
}

impl Mosquitto {
    /// Starts Mosquitto with `config` on a free port and waits until it accepts
    /// connections.
    pub async fn start(config: &MosquittoConfig) -> io::Result<Self> {
        Self::start_on(free_addr()?, config).await
    }

    /// Starts Mosquitto with `config` on `addr` and waits until it accepts connections.
    pub async fn start_on(addr: SocketAddr, config: &MosquittoConfig) -> io::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mqtt-conformance-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        // Run as root, Mosquitto drops to its own user, which must still write here.
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777))?;
        let mut conf = format!("listener {} 127.0.0.1\n", addr.port());
        match &config.user {
            Some((user, password)) => {
                let file = dir.join("passwords");
                std::fs::write(&file, format!("{user}:{password}\n"))?;
                run(Command::new("mosquitto_passwd").arg("-U").arg(&file))?;
                writeln!(
                    conf,
                    "allow_anonymous false\npassword_file {}",
                    file.display()
                )
                .ok();
            }
            None => conf.push_str("allow_anonymous true\n"),
        }
        if config.persistence {
            writeln!(
                conf,
                "persistence true\npersistence_location {}/\nautosave_on_changes true\nautosave_interval 1",
                dir.display()
            )
            .ok();
        }
        conf.push_str("max_queued_messages 1000000\nmax_inflight_messages 20\n");
        conf.push_str(&config.extra);
        for (name, contents) in &config.files {
            std::fs::write(dir.join(name), contents)?;
        }
        std::fs::write(dir.join("mosquitto.conf"), conf)?;
        let mut broker = Self {
            addr,
            dir,
            child: None,
        };
        broker.run().await?;
        Ok(broker)
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its directory: configuration, persistence, and whatever a test puts there.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts the process again (same port, same directory) after a stop or a kill, and
    /// waits until it accepts connections.
    pub async fn run(&mut self) -> io::Result<()> {
        self.spawn()?;
        ready(self.addr).await
    }

    /// Starts the process again, without waiting for it (see [`ready`]).
    pub fn spawn(&mut self) -> io::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("mosquitto.log"))?;
        let child = Command::new(mosquitto_binary())
            .arg("-c")
            .arg(self.dir.join("mosquitto.conf"))
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("mosquitto: {e} (install it: apt-get install mosquitto)"),
                )
            })?;
        self.child = Some(child);
        Ok(())
    }

    /// Stops gracefully (SIGTERM: it saves its state) and waits for the process to end.
    pub fn stop(&mut self) -> io::Result<()> {
        if let Some(mut child) = self.child.take() {
            run(Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string()))?;
            child.wait()?;
        }
        Ok(())
    }

    /// Kills at once (SIGKILL), as a crash or a power cut would.
    pub fn kill(&mut self) -> io::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }
}

impl Drop for Mosquitto {
    /// Kills it and removes its directory, unless a test is failing: then the directory (its
    /// log, configuration and database) stays for the post-mortem.
    fn drop(&mut self) {
        let _ = self.kill();
        match std::thread::panicking() {
            true => eprintln!("mosquitto's directory, kept: {}", self.dir.display()),
            false => drop(std::fs::remove_dir_all(&self.dir)),
        }
    }
}

fn mosquitto_binary() -> PathBuf {
    ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("mosquitto"))
}

fn run(command: &mut Command) -> io::Result<()> {
    let status = command.status()?;
    match status.success() {
        true => Ok(()),
        false => Err(io::Error::other(format!("{command:?} failed: {status}"))),
    }
}
