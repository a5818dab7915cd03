//! A real MQTT broker for the tests: Debian's `mosquitto`, started on a free loopback port
//! and stopped when dropped, and its own clients (`mosquitto_sub`, `mosquitto_pub`, from
//! `mosquitto-clients`) to read and set topics, so our client is checked by another one.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Mosquitto {
    pub port: u16,
    /// (username, password) when it refuses anonymous clients.
    pub login: Option<(String, String)>,
    /// The authority that signed its certificate, when it speaks TLS only.
    pub ca_file: Option<std::path::PathBuf>,
    child: Child,
    _dir: tempfile::TempDir,
}

/// One message as a client saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub retained: bool,
    pub topic: String,
    pub payload: String,
}

impl Mosquitto {
    /// A broker that lets anyone in.
    pub fn start() -> Mosquitto {
        Mosquitto::launch(None, false)
    }

    /// A broker that lets only `username` with `password` in.
    pub fn with_login(username: &str, password: &str) -> Mosquitto {
        Mosquitto::launch(Some((username.to_string(), password.to_string())), false)
    }

    /// A broker that speaks TLS only, with a certificate for 127.0.0.1 signed by its own
    /// authority (`ca_file`), made with `openssl`.
    pub fn with_tls() -> Mosquitto {
        Mosquitto::launch(None, true)
    }

    fn launch(login: Option<(String, String)>, tls: bool) -> Mosquitto {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // As root it would drop to the `mosquitto` user, who cannot read this private folder.
        let user = if unsafe { libc::geteuid() } == 0 { "user root\n" } else { "" };
        let mut conf = format!("{user}listener {port} 127.0.0.1\npersistence false\n");
        let ca_file = tls.then(|| {
            certificates(dir.path());
            let (ca, cert, key) =
                (dir.path().join("ca.crt"), dir.path().join("server.crt"), dir.path().join("server.key"));
            conf.push_str(&format!(
                "cafile {}\ncertfile {}\nkeyfile {}\n",
                ca.display(),
                cert.display(),
                key.display()
            ));
            ca
        });
        match &login {
            None => conf.push_str("allow_anonymous true\n"),
            Some((user, password)) => {
                let file = dir.path().join("passwords");
                let made = Command::new("mosquitto_passwd")
                    .args(["-b", "-c"])
                    .arg(&file)
                    .args([user, password])
                    .status()
                    .expect("mosquitto_passwd (Debian's mosquitto)");
                assert!(made.success());
                conf.push_str(&format!("allow_anonymous false\npassword_file {}\n", file.display()));
            }
        }
        let path = dir.path().join("mosquitto.conf");
        std::fs::write(&path, conf).unwrap();
        let child = Command::new(broker_program())
            .arg("-c")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto (Debian's mosquitto package)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "mosquitto did not listen on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Mosquitto { port, login, ca_file, child, _dir: dir }
    }

    fn client(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.args(["-h", "127.0.0.1", "-p", &self.port.to_string()]);
        if let Some(ca) = &self.ca_file {
            command.arg("--cafile").arg(ca);
        }
        if let Some((user, password)) = &self.login {
            command.args(["-u", user, "-P", password]);
        }
        command
    }

    /// The retained messages under `filter` now.
    pub fn retained(&self, filter: &str) -> Vec<Seen> {
        let output = self
            .client("mosquitto_sub")
            .args(["-t", filter, "--retained-only", "-W", "1", "-F", "%r\t%t\t%p"])
            .output()
            .expect("mosquitto_sub (Debian's mosquitto-clients)");
        parse(&String::from_utf8_lossy(&output.stdout))
    }

    /// Publishes `payload` to `topic`, retained, as Home Assistant does for its commands.
    pub fn publish_retained(&self, topic: &str, payload: &str) {
        let status = self.client("mosquitto_pub").args(["-t", topic, "-m", payload, "-r", "-q", "1"]).status().unwrap();
        assert!(status.success(), "mosquitto_pub to {topic}");
    }

    /// Listens to `filter` until [`Listening::finish`]; returns once it is subscribed (a
    /// probe published under the filter has come back to it).
    pub fn listen(&self, filter: &str) -> Listening {
        let mut child = self
            .client("mosquitto_sub")
            .args(["-t", filter, "-F", "%r\t%t\t%p"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("mosquitto_sub");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let collected = lines.clone();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
                collected.lock().unwrap().push(line);
            }
        });
        let probe = filter.replace(['#', '+'], "probe");
        let started = Instant::now();
        while !lines.lock().unwrap().iter().any(|l| l.contains(&format!("\t{probe}\t"))) {
            assert!(started.elapsed() < Duration::from_secs(10), "the subscriber never saw its probe");
            let status = self.client("mosquitto_pub").args(["-t", &probe, "-m", "probe"]).status().unwrap();
            assert!(status.success());
            std::thread::sleep(Duration::from_millis(50));
        }
        Listening { child, lines, probe }
    }

    /// Stops the broker now (a broker that is down).
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test authority and a server certificate for 127.0.0.1 it signed, in `dir`.
fn certificates(dir: &std::path::Path) {
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl").args(args).current_dir(dir).stderr(Stdio::null()).status();
        assert!(status.expect("openssl").success(), "openssl {args:?}");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=edge-mining test authority",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
}

/// `mosquitto`, which Debian puts in /usr/sbin (not on every user's PATH).
fn broker_program() -> &'static str {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("mosquitto").is_file()));
    if on_path { "mosquitto" } else { "/usr/sbin/mosquitto" }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A subscriber running in the background.
pub struct Listening {
    child: Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    probe: String,
}

impl Listening {
    /// What it saw so far, without its probes; stops it.
    pub fn finish(mut self) -> Vec<Seen> {
        std::thread::sleep(Duration::from_millis(300));
        let _ = self.child.kill();
        let _ = self.child.wait();
        let text = self.lines.lock().unwrap().join("\n");
        parse(&text).into_iter().filter(|m| m.topic != self.probe).collect()
    }
}

fn parse(text: &str) -> Vec<Seen> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, '\t');
            let retained = parts.next()? == "1";
            Some(Seen {
                retained,
                topic: parts.next()?.to_string(),
                payload: parts.next().unwrap_or_default().to_string(),
            })
        })
        .collect()
}
