//! A synchronous MQTT 3.1.1 client, over TCP or TLS (rustls), on the `mqtt-protocol` codec.
//!
//! One short session per use, as fits a tool that runs for a second and exits: connect with
//! a clean session, publish at QoS 1 and wait for every PUBACK, or subscribe and collect the
//! retained messages the subscription brings, then disconnect. No keep-alive loop, no
//! reconnect, no thread: every read and write is bounded by the session's one budget.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mqtt::control::variable_header::ConnectReturnCode;
use mqtt::packet::{
    ConnectPacket, DisconnectPacket, PublishPacket, QoSWithPacketIdentifier, SubscribePacket, VariablePacket,
};
use mqtt::{Decodable, Encodable, QualityOfService, TopicFilter, TopicName};

use crate::core::error::{ErrorKind, InputError};
use crate::transport::cgminer::transport::{connect, io};

/// Messages sent and not yet acknowledged, at most.
const IN_FLIGHT: usize = 64;

/// Where the broker is and how to log in.
pub struct Broker<'a> {
    pub host: &'a str,
    pub port: u16,
    /// TLS, with the broker's certificate checked against these roots (None: the public
    /// web roots).
    pub tls: Option<Option<&'a Path>>,
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
    pub client_id: &'a str,
}

/// One message to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub topic: String,
    pub payload: Vec<u8>,
    pub retain: bool,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => &tls.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buffer),
            Stream::Tls(tls) => tls.read(buffer),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(buffer),
            Stream::Tls(tls) => tls.write(buffer),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.flush(),
            Stream::Tls(tls) => tls.flush(),
        }
    }
}

/// A connected, logged-in session.
pub struct Session {
    stream: Stream,
    deadline: Instant,
    next_id: u16,
}

impl Session {
    /// Connects and logs in; refused credentials are an authentication error.
    pub fn open(broker: &Broker, budget: Duration) -> Result<Session, InputError> {
        let deadline = Instant::now() + budget;
        let tcp = connect(broker.host, broker.port, budget).map_err(InputError::from)?;
        let _ = tcp.set_nodelay(true);
        let stream = match broker.tls {
            None => Stream::Plain(tcp),
            Some(roots) => Stream::Tls(Box::new(tls(broker.host, roots, tcp)?)),
        };
        let mut session = Session { stream, deadline, next_id: 0 };
        let mut packet = ConnectPacket::new(broker.client_id);
        packet.set_clean_session(true);
        packet.set_keep_alive(60);
        packet.set_user_name(broker.username.map(str::to_string));
        packet.set_password(broker.password.map(str::to_string));
        session.send(&packet)?;
        match session.receive()? {
            VariablePacket::ConnackPacket(ack) => match ack.connect_return_code() {
                ConnectReturnCode::ConnectionAccepted => Ok(session),
                ConnectReturnCode::BadUserNameOrPassword | ConnectReturnCode::NotAuthorized => {
                    Err(InputError::auth("the broker refused the credentials (check username and password_file)"))
                }
                other => Err(InputError::refused(format!("the broker refused the connection ({other:?})"))),
            },
            other => Err(unexpected("CONNACK", &other)),
        }
    }

    /// Publishes every message at QoS 1 and waits for each acknowledgement, with at most
    /// [`IN_FLIGHT`] unacknowledged at a time (a farm publishes thousands).
    pub fn publish(&mut self, messages: &[Message]) -> Result<(), InputError> {
        let mut waiting = std::collections::BTreeSet::new();
        for message in messages {
            while waiting.len() >= IN_FLIGHT {
                self.acknowledged(&mut waiting)?;
            }
            let id = self.packet_id();
            let topic = TopicName::new(message.topic.clone())
                .map_err(|_| InputError::invalid(format!("`{}` is not an MQTT topic name", message.topic)))?;
            let mut packet = PublishPacket::new(topic, QoSWithPacketIdentifier::Level1(id), message.payload.clone());
            packet.set_retain(message.retain);
            self.send(&packet)?;
            waiting.insert(id);
        }
        while !waiting.is_empty() {
            self.acknowledged(&mut waiting)?;
        }
        Ok(())
    }

    /// Reads one packet; a PUBACK takes its message off `waiting`.
    fn acknowledged(&mut self, waiting: &mut std::collections::BTreeSet<u16>) -> Result<(), InputError> {
        if let VariablePacket::PubackPacket(ack) = self.receive()? {
            waiting.remove(&ack.packet_identifier());
        }
        Ok(())
    }

    /// The retained messages under `filters`, as the broker holds them now. A message sent to
    /// `sentinel` after subscribing comes back after every retained one, so its arrival says
    /// all have come.
    pub fn retained(&mut self, filters: &[String], sentinel: &str) -> Result<Vec<(String, Vec<u8>)>, InputError> {
        let mut subscriptions = Vec::new();
        for filter in filters.iter().map(String::as_str).chain([sentinel]) {
            let filter = TopicFilter::new(filter)
                .map_err(|_| InputError::invalid(format!("`{filter}` is not an MQTT topic filter")))?;
            subscriptions.push((filter, QualityOfService::Level0));
        }
        let id = self.packet_id();
        self.send(&SubscribePacket::new(id, subscriptions))?;
        loop {
            match self.receive()? {
                VariablePacket::SubackPacket(ack) if ack.packet_identifier() == id => break,
                VariablePacket::PublishPacket(_) => {}
                other => return Err(unexpected("SUBACK", &other)),
            }
        }
        let topic = TopicName::new(sentinel.to_string())
            .map_err(|_| InputError::invalid(format!("`{sentinel}` is not an MQTT topic name")))?;
        self.send(&PublishPacket::new(topic, QoSWithPacketIdentifier::Level0, b"sync".to_vec()))?;
        let mut retained = Vec::new();
        loop {
            if let VariablePacket::PublishPacket(packet) = self.receive()? {
                if packet.topic_name() == sentinel {
                    return Ok(retained);
                }
                if packet.retain() {
                    retained.push((packet.topic_name().to_string(), packet.payload().to_vec()));
                }
            }
        }
    }

    /// Says goodbye; a broker that is gone by now changes nothing.
    pub fn close(mut self) {
        let _ = self.send(&DisconnectPacket::new());
    }

    fn packet_id(&mut self) -> u16 {
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        self.next_id
    }

    fn left(&self) -> Result<Duration, InputError> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| InputError::new(ErrorKind::Timeout, "the broker did not answer in time"))
    }

    fn send(&mut self, packet: &impl Encodable) -> Result<(), InputError> {
        let mut bytes = Vec::with_capacity(packet.encoded_length() as usize);
        packet.encode(&mut bytes).map_err(|e| InputError::invalid(format!("cannot encode an MQTT packet: {e}")))?;
        let left = self.left()?;
        self.stream.tcp().set_write_timeout(Some(left)).map_err(|e| InputError::from(io(e)))?;
        self.stream.write_all(&bytes).and_then(|()| self.stream.flush()).map_err(|e| InputError::from(io(e)))
    }

    fn receive(&mut self) -> Result<VariablePacket, InputError> {
        let left = self.left()?;
        self.stream.tcp().set_read_timeout(Some(left)).map_err(|e| InputError::from(io(e)))?;
        VariablePacket::decode(&mut self.stream).map_err(|e| match e {
            mqtt::packet::VariablePacketError::IoError(e) => InputError::from(io(e)).context("the broker"),
            other => InputError::invalid(format!("the broker sent what is not MQTT 3.1.1: {other}")),
        })
    }
}

fn unexpected(wanted: &str, got: &VariablePacket) -> InputError {
    let name = format!("{got:?}");
    let name = name.split('(').next().unwrap_or("a packet");
    InputError::invalid(format!("the broker sent {name} where {wanted} was due"))
}

/// TLS to `host` over `tcp`, checked against the roots in `ca_file` or the public web roots.
fn tls(
    host: &str,
    ca_file: Option<&Path>,
    tcp: TcpStream,
) -> Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>, InputError> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let place = path.display();
            let certificates = rustls::pki_types::CertificateDer::pem_file_iter(path)
                .map_err(|e| InputError::not_configured(format!("ca_file {place}: {e}")))?;
            for certificate in certificates {
                let certificate =
                    certificate.map_err(|e| InputError::not_configured(format!("ca_file {place}: {e}")))?;
                roots.add(certificate).map_err(|e| InputError::not_configured(format!("ca_file {place}: {e}")))?;
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| InputError::invalid(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|_| InputError::not_configured(format!("`{host}` is not a name TLS can check")))?;
    let connection =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| InputError::invalid(format!("TLS: {e}")))?;
    Ok(rustls::StreamOwned::new(connection, tcp))
}
