//! A minimal RFC 6455 WebSocket client over std::net::TcpStream.
//!
//! The upgrade does not check Sec-WebSocket-Accept (loopback, bench only).
//! Client frames are masked; server frames are expected unmasked (unmasked if
//! not). Fragmented messages are reassembled; permessage-deflate (RFC 7692)
//! is offered when asked and inflated by `inflate::Inflater` (sent frames are
//! never compressed, which the extension allows).

use crate::inflate::Inflater;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

pub struct Url {
    pub host: String,
    pub port: u16,
    pub path: String,
}

pub fn parse_url(url: &str) -> Result<Url, String> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| format!("only ws:// URLs: {url}"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match authority.rfind(':') {
        Some(i) => (
            &authority[..i],
            authority[i + 1..]
                .parse::<u16>()
                .map_err(|e| e.to_string())?,
        ),
        None => (authority, 80),
    };
    Ok(Url {
        host: host.to_string(),
        port,
        path,
    })
}

/// A small xorshift generator: masks and handshake keys (no security needed).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = ((b[0] as u32) << 16) | ((b[1] as u32) << 8) | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(T[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The sending half: frames from the client, masked.
pub struct Writer {
    pub stream: TcpStream,
    pub rng: Rng,
    frame: Vec<u8>,
}

impl Writer {
    pub fn send(&mut self, opcode: u8, payload: &[u8]) -> io::Result<()> {
        let f = &mut self.frame;
        f.clear();
        f.push(0x80 | opcode);
        let n = payload.len();
        if n < 126 {
            f.push(0x80 | n as u8);
        } else if n < 65536 {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
        let mask = (self.rng.next() as u32).to_ne_bytes();
        f.extend_from_slice(&mask);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
        self.stream.write_all(f)
    }

    pub fn text(&mut self, payload: &[u8]) -> io::Result<()> {
        self.send(0x1, payload)
    }
}

pub enum Event<'a> {
    Message(&'a [u8]),
    Ping(Vec<u8>),
    Close(u16),
}

/// The receiving half.
pub struct Reader {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    inflater: Option<Inflater>,
    frag: Vec<u8>,
    frag_compressed: bool,
    /// Bytes read from the socket so far (frames, headers and all).
    pub wire: u64,
    /// Non-blocking mode (after the join, under epoll): reads never wait, and
    /// a read that did not fill the buffer means the socket is drained until
    /// the next readiness event sets `may_read` again.
    nonblocking: bool,
    pub may_read: bool,
}

const CHUNK: usize = 16 * 1024;

impl Reader {
    pub fn set_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.stream.set_read_timeout(t)
    }

    pub fn fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.stream.as_raw_fd()
    }

    /// From now on, reads do not wait (see `nonblocking`); until the next
    /// readiness event, only frames already in the buffer are returned.
    pub fn set_nonblocking(&mut self) -> io::Result<()> {
        self.stream.set_read_timeout(None)?;
        self.nonblocking = true;
        self.may_read = false;
        Ok(())
    }

    fn fill(&mut self, need: usize) -> io::Result<()> {
        // Make room for at least `need` unread bytes plus one chunk of reading.
        if self.start > 0 && (self.buf.len() - self.end < CHUNK || self.start == self.end) {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let want = (self.start + need).max(self.end + CHUNK);
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
        let n = if self.nonblocking {
            if !self.may_read {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let room = self.buf.len() - self.end;
            let n = crate::sys::recv_nowait(self.fd(), &mut self.buf[self.end..])?;
            if n < room {
                self.may_read = false;
            }
            n
        } else {
            self.stream.read(&mut self.buf[self.end..])?
        };
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        self.wire += n as u64;
        self.end += n;
        Ok(())
    }

    /// The next message or control frame that needs the caller (pongs are dropped).
    pub fn next(&mut self) -> io::Result<Event<'_>> {
        loop {
            let avail = self.end - self.start;
            let b = &self.buf[self.start..self.end];
            let mut need = 2;
            if avail >= 2 {
                let (b0, b1) = (b[0], b[1]);
                let masked = b1 & 0x80 != 0;
                let len7 = (b1 & 0x7f) as usize;
                let ext = match len7 {
                    126 => 2,
                    127 => 8,
                    _ => 0,
                };
                let hdr = 2 + ext + if masked { 4 } else { 0 };
                need = hdr;
                if avail >= hdr {
                    let len = match len7 {
                        126 => u16::from_be_bytes([b[2], b[3]]) as usize,
                        127 => u64::from_be_bytes(b[2..10].try_into().unwrap()) as usize,
                        n => n,
                    };
                    if len > 256 << 20 {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "frame too large",
                        ));
                    }
                    need = hdr + len;
                    if avail >= hdr + len {
                        let p0 = self.start + hdr;
                        let p1 = p0 + len;
                        if masked {
                            let m: [u8; 4] = self.buf[p0 - 4..p0].try_into().unwrap();
                            for (i, x) in self.buf[p0..p1].iter_mut().enumerate() {
                                *x ^= m[i & 3];
                            }
                        }
                        self.start = p1;
                        let fin = b0 & 0x80 != 0;
                        let rsv1 = b0 & 0x40 != 0;
                        match b0 & 0x0f {
                            0x9 => return Ok(Event::Ping(self.buf[p0..p1].to_vec())),
                            0xA => continue,
                            0x8 => {
                                let code = if len >= 2 {
                                    u16::from_be_bytes([self.buf[p0], self.buf[p0 + 1]])
                                } else {
                                    1005
                                };
                                return Ok(Event::Close(code));
                            }
                            0x1 | 0x2 if fin => {
                                if rsv1 {
                                    return inflate(&mut self.inflater, &self.buf[p0..p1]);
                                }
                                return Ok(Event::Message(&self.buf[p0..p1]));
                            }
                            0x1 | 0x2 => {
                                self.frag.clear();
                                self.frag.extend_from_slice(&self.buf[p0..p1]);
                                self.frag_compressed = rsv1;
                                continue;
                            }
                            0x0 => {
                                self.frag.extend_from_slice(&self.buf[p0..p1]);
                                if !fin {
                                    continue;
                                }
                                if self.frag_compressed {
                                    return inflate(&mut self.inflater, &self.frag);
                                }
                                return Ok(Event::Message(&self.frag));
                            }
                            op => {
                                return Err(io::Error::new(
                                    io::ErrorKind::InvalidData,
                                    format!("unknown opcode {op}"),
                                ))
                            }
                        }
                    }
                }
            }
            self.fill(need)?;
        }
    }
}

fn inflate<'a>(inflater: &'a mut Option<Inflater>, payload: &[u8]) -> io::Result<Event<'a>> {
    let Some(inf) = inflater.as_mut() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "compressed frame, no deflate",
        ));
    };
    let start = inf
        .message(payload)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("inflate: {e}")))?;
    Ok(Event::Message(&inf.hist[start..]))
}

/// Open a WebSocket: TCP connect, HTTP/1.1 upgrade. `deflate` offers
/// permessage-deflate as browsers and `websockets` do.
pub fn connect(
    url: &Url,
    deflate: bool,
    rng: &mut Rng,
    timeout: Duration,
) -> io::Result<(Writer, Reader)> {
    let addr: SocketAddr = (url.host.as_str(), url.port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"))?;
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(timeout))?;
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&rng.next().to_ne_bytes());
    key[8..].copy_from_slice(&rng.next().to_ne_bytes());
    let mut request = format!(
        "GET {} HTTP/1.1\r\nHost: {}:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\nUser-Agent: ritrovo-loadgen\r\n",
        url.path,
        url.host,
        url.port,
        base64(&key)
    );
    if deflate {
        request
            .push_str("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
    }
    request.push_str("\r\n");
    let mut writer_stream = stream.try_clone()?;
    writer_stream.write_all(request.as_bytes())?;
    let mut reader = Reader {
        stream,
        buf: vec![0; CHUNK],
        start: 0,
        end: 0,
        inflater: None,
        frag: Vec::new(),
        frag_compressed: false,
        wire: 0,
        nonblocking: false,
        may_read: false,
    };
    let header_end = loop {
        if let Some(i) = reader.buf[..reader.end]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
        {
            break i + 4;
        }
        if reader.end > 64 * 1024 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "handshake response too long",
            ));
        }
        reader.fill(1)?;
    };
    let head = String::from_utf8_lossy(&reader.buf[..header_end]).to_string();
    let status = head.lines().next().unwrap_or("");
    if !status.starts_with("HTTP/1.1 101") {
        return Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            format!("upgrade refused: {status}"),
        ));
    }
    for line in head.lines().skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("sec-websocket-extensions")
            && value.contains("permessage-deflate")
        {
            let takeover = !value.contains("server_no_context_takeover");
            reader.inflater = Some(Inflater::new(takeover));
        }
    }
    reader.start = header_end;
    Ok((
        Writer {
            stream: writer_stream,
            rng: Rng(rng.next() | 1),
            frame: Vec::new(),
        },
        reader,
    ))
}
