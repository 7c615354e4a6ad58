//! ritrovo-loadgen: a lean load worker for bench/s1_quiz_burst.py --client rust.
//!
//! It speaks the stdin/stdout protocol of bench/lib/worker.py for the S1 job:
//! one JSON job on the first line of stdin; then `{"event": "ready"}`, and per
//! round `{"cmd": "go", "t0"}` -> `acked`, `{"cmd": "final", "seq", "wait"}` ->
//! `result`, each a JSON line on stdout. Every time is CLOCK_MONOTONIC seconds,
//! the clock of Python's time.monotonic(), so the coordinator compares them
//! with its own and other workers' directly. `result` has the fields of
//! worker.py's, plus `closed` (connections the server closed or lost) and
//! `epoll` ([waits, events] of the reading thread in the round).
//!
//! Joins run on `concurrency` threads with blocking sockets; once joined, a
//! connection's reads move to one epoll thread (edge-triggered, non-blocking
//! reads) that serves every connection of the process. Of each server frame
//! only what S1 needs is read: the head of a `state`/`patch` (type, seq,
//! base; the same gap rule as ritrovo.client's lean mode), and `id`, `code`,
//! `result.verdict` of `ack`/`error`. Guesses are sent by the main thread at
//! their scheduled times (blocking writes, under a per-connection lock shared
//! with the pongs and resyncs of the reading thread). Arrival times are taken
//! when a frame is handled, as in worker.py.
//!
//! What a frame costs, measured at P = 2,000 against the reference (~2.5 KB
//! deflated states, ~20,000 frames a round): about 30 us of the load core
//! per frame with a thread per connection and a simple inflater, 17-20 us
//! now; what is left is mostly the kernel's (epoll, recv, the guesses' sends)
//! and cache misses on each connection's 32 KiB deflate window.
//!
//! Bench-only tool, std only (no crates).

mod inflate;
mod json;
mod sys;
mod ws;

use json::{num, quote, Json};
use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

/// What is recorded of one connection (by whichever thread reads it).
#[derive(Default)]
struct St {
    state_seq: i64,
    resyncing: bool,
    /// (seq, arrival) of every new state, whole or patched.
    arrivals: Vec<(i64, f64)>,
    /// (request id, arrival, outcome) of the replies of the current round.
    replies: Vec<(u64, f64, String)>,
    frames: u64,
    bytes: u64,
    state_size: usize,
    welcome: bool,
    join_error: Option<(u64, String)>,
    closed: Option<String>,
}

struct Conn {
    writer: Mutex<ws::Writer>,
    /// The receiving half, once the join is done and the epoll thread reads it.
    reader: Mutex<Option<ws::Reader>>,
    next_id: AtomicU64,
    st: Mutex<St>,
    seq: AtomicI64,
    guess_id: AtomicU64,
    wire: AtomicU64,
}

impl Conn {
    fn id(&self) -> u64 {
        self.next_id.fetch_add(1, SeqCst)
    }
    fn send(&self, text: &str) -> io::Result<()> {
        self.writer.lock().unwrap().text(text.as_bytes())
    }
}

/// epoll_wait calls and the events they returned (the result's `epoll`).
static WAITS: AtomicU64 = AtomicU64::new(0);
static EVENTS: AtomicU64 = AtomicU64::new(0);

struct Shared {
    /// Replies to the guesses of the current round; `all_replied` is notified
    /// when they reach `expected`.
    replied: AtomicUsize,
    expected: AtomicUsize,
    all_replied: (Mutex<()>, Condvar),
    version: i64,
    epoll: sys::Epoll,
}

fn emit(line: &str) {
    let out = io::stdout();
    let mut out = out.lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn emit_error(message: &str) {
    emit(&format!(
        "{{\"event\": \"error\", \"error\": {}}}",
        quote(message)
    ));
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One message from the server: update the connection's record.
fn on_message(conn: &Conn, shared: &Shared, m: &[u8], at: f64) {
    let head = json::head(m);
    let mut resync = false;
    {
        let mut st = conn.st.lock().unwrap();
        st.frames += 1;
        st.bytes += m.len() as u64;
        match head {
            Some(h) if h.kind == b"state" || h.kind == b"patch" => {
                // As ritrovo.client's lean mode: a state sets the seq, a patch
                // moves it on only from its base (else: resync, once).
                let new_state = match h.seq {
                    None => true,
                    Some(seq) if h.kind == b"state" => {
                        st.state_seq = st.state_seq.max(seq);
                        st.resyncing = false;
                        true
                    }
                    Some(seq) => {
                        if st.resyncing || h.base != Some(st.state_seq) {
                            if !st.resyncing {
                                st.resyncing = true;
                                resync = true;
                            }
                            false
                        } else {
                            st.state_seq = seq;
                            true
                        }
                    }
                };
                if new_state {
                    st.state_size = m.len();
                    let s = st.state_seq;
                    if st.arrivals.last().map(|x| x.0) != Some(s) {
                        st.arrivals.push((s, at));
                    }
                    conn.seq.store(s, SeqCst);
                }
            }
            Some(h) if h.kind == b"ack" || h.kind == b"error" => {
                let ack = h.kind == b"ack";
                let (mut id, mut code, mut result) = (None, None, None);
                json::fields(m, |k, v| match k {
                    b"id" => id = json::int(v),
                    b"code" => code = Some(v),
                    b"result" => result = Some(v),
                    _ => {}
                });
                if let Some(id) = id {
                    let id = id as u64;
                    let outcome = if ack {
                        result
                            .and_then(|r| json::field(r, b"verdict"))
                            .map(|v| lossy(json::unquote(v)))
                            .unwrap_or_else(|| "ack".into())
                    } else {
                        let code = code.map(|c| lossy(json::unquote(c))).unwrap_or_default();
                        st.join_error = Some((id, code.clone()));
                        format!("error:{code}")
                    };
                    st.replies.push((id, at, outcome));
                    if id == conn.guess_id.load(SeqCst)
                        && shared.replied.fetch_add(1, SeqCst) + 1 == shared.expected.load(SeqCst)
                    {
                        let _guard = shared.all_replied.0.lock().unwrap();
                        shared.all_replied.1.notify_all();
                    }
                }
            }
            Some(h) if h.kind == b"welcome" => st.welcome = true,
            _ => {}
        }
    }
    if resync {
        let id = conn.id();
        let _ = conn.send(&format!(
            "{{\"type\":\"resync\",\"v\":{},\"id\":{id}}}",
            shared.version
        ));
    }
}

enum Stop {
    /// Nothing more to read for now (non-blocking), or a read timed out (blocking).
    Again,
    /// The connection is gone.
    Gone(String),
}

/// Read and handle one event.
fn pump(conn: &Conn, shared: &Shared, r: &mut ws::Reader) -> Result<(), Stop> {
    let result = match r.next() {
        Ok(ws::Event::Message(m)) => {
            let at = crate::sys::now();
            on_message(conn, shared, m, at);
            Ok(())
        }
        Ok(ws::Event::Ping(p)) => {
            let _ = conn.writer.lock().unwrap().send(0xA, &p);
            Ok(())
        }
        Ok(ws::Event::Close(code)) => {
            let _ = conn.writer.lock().unwrap().send(0x8, &code.to_be_bytes());
            Err(Stop::Gone(format!("closed by the server ({code})")))
        }
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Err(Stop::Again)
        }
        Err(e) => Err(Stop::Gone(e.to_string())),
    };
    conn.wire.store(r.wire, SeqCst);
    result
}

fn blocking_pump(conn: &Conn, shared: &Shared, r: &mut ws::Reader) -> Result<(), String> {
    match pump(conn, shared, r) {
        Ok(()) => Ok(()),
        Err(Stop::Again) => Err("timed out".into()),
        Err(Stop::Gone(e)) => Err(e),
    }
}

/// The reading thread: every joined connection of this process, through epoll.
fn read_loop(slots: Arc<Vec<OnceLock<Arc<Conn>>>>, shared: Arc<Shared>) {
    let mut events = vec![sys::EpollEvent { events: 0, data: 0 }; 512];
    loop {
        let n = shared.epoll.wait(&mut events, 1000);
        WAITS.fetch_add(1, SeqCst);
        EVENTS.fetch_add(n as u64, SeqCst);
        for ev in &events[..n] {
            let token = ev.data as usize;
            let Some(conn) = slots.get(token).and_then(OnceLock::get) else {
                continue;
            };
            let mut slot = conn.reader.lock().unwrap();
            let Some(r) = slot.as_mut() else { continue };
            r.may_read = true;
            loop {
                match pump(conn, &shared, r) {
                    Ok(()) => {}
                    Err(Stop::Again) => break,
                    Err(Stop::Gone(e)) => {
                        shared.epoll.delete(r.fd());
                        *slot = None;
                        conn.st.lock().unwrap().closed = Some(e);
                        break;
                    }
                }
            }
        }
    }
}

struct Job {
    url: ws::Url,
    code: String,
    players: Vec<(String, String)>,
    offsets: Vec<f64>,
    texts: Vec<String>,
    deflate: bool,
    rounds: usize,
    concurrency: usize,
    round_timeout: f64,
}

fn parse_job(j: &Json) -> Result<Job, String> {
    let s = |k: &str| {
        j.get(k)
            .and_then(Json::str)
            .map(str::to_string)
            .ok_or(format!("job.{k}"))
    };
    let list = |k: &str| j.get(k).and_then(Json::arr).ok_or(format!("job.{k}"));
    let players = list("players")?
        .iter()
        .map(|p| {
            let a = p.arr().unwrap_or(&[]);
            let name = a.first().and_then(Json::str).unwrap_or("").to_string();
            let team = a.get(1).and_then(Json::str).unwrap_or("").to_string();
            (name, team)
        })
        .collect();
    let offsets = list("offsets")?
        .iter()
        .map(|x| x.f64().unwrap_or(0.0))
        .collect();
    let texts = list("texts")?
        .iter()
        .map(|x| x.str().unwrap_or("").to_string())
        .collect();
    let compression = j
        .get("compression")
        .and_then(Json::str)
        .unwrap_or("deflate");
    Ok(Job {
        url: ws::parse_url(&s("url")?)?,
        code: s("code")?,
        players,
        offsets,
        texts,
        deflate: !matches!(compression, "none" | ""),
        rounds: j.get("rounds").and_then(Json::f64).unwrap_or(1.0) as usize,
        concurrency: j
            .get("concurrency")
            .and_then(Json::f64)
            .unwrap_or(20.0)
            .max(1.0) as usize,
        round_timeout: j.get("round_timeout").and_then(Json::f64).unwrap_or(120.0),
    })
}

/// The next command `expected` from the coordinator (others are skipped).
fn command(stdin: &mut io::StdinLock, expected: &str) -> Json {
    loop {
        let mut line = String::new();
        match stdin.read_line(&mut line) {
            Ok(0) | Err(_) => std::process::exit(0), // the coordinator went away
            Ok(_) => {}
        }
        if let Ok(msg) = json::parse(line.trim()) {
            if msg.get("cmd").and_then(Json::str) == Some(expected) {
                return msg;
            }
        }
    }
}

fn join_one(
    i: usize,
    job: &Job,
    shared: &Shared,
    slots: &[OnceLock<Arc<Conn>>],
    seed: u64,
) -> Result<(), String> {
    let deadline = sys::now() + 600.0;
    let mut rng = ws::Rng(seed ^ ((i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1);
    let mut attempt = 0;
    let (writer, mut reader) = loop {
        // Bounded retries: a saturated server may drop a handshake.
        match ws::connect(&job.url, job.deflate, &mut rng, Duration::from_secs(300)) {
            Ok(pair) => break pair,
            Err(e) if attempt < 2 => {
                attempt += 1;
                let _ = e;
                thread::sleep(Duration::from_secs(1));
            }
            Err(e) => return Err(format!("connect: {e}")),
        }
    };
    let conn = Arc::new(Conn {
        writer: Mutex::new(writer),
        reader: Mutex::new(None),
        next_id: AtomicU64::new(1),
        st: Mutex::new(St {
            state_seq: -1,
            ..St::default()
        }),
        seq: AtomicI64::new(-1),
        guess_id: AtomicU64::new(0),
        wire: AtomicU64::new(0),
    });
    let (name, team) = &job.players[i];
    let remaining = || Duration::from_secs_f64((deadline - sys::now()).max(0.001));
    'busy: for busy in 0..20 {
        let id = conn.id();
        let mut hello = format!(
            "{{\"type\":\"join\",\"v\":{},\"id\":{id},\"room\":{},\"name\":{}",
            shared.version,
            quote(&job.code),
            quote(name)
        );
        if !team.is_empty() {
            hello.push_str(&format!(",\"team\":{}", quote(team)));
        }
        hello.push('}');
        conn.send(&hello).map_err(|e| format!("send join: {e}"))?;
        loop {
            {
                let mut st = conn.st.lock().unwrap();
                if st.welcome {
                    break 'busy;
                }
                if let Some((eid, code)) = st.join_error.take() {
                    if eid == id {
                        // Redis: concurrent joins of one room may give up with "busy".
                        if code == "busy" && busy < 19 {
                            drop(st);
                            thread::sleep(Duration::from_secs_f64(0.2 * (busy + 1) as f64));
                            continue 'busy;
                        }
                        return Err(format!("join refused: {code}"));
                    }
                }
            }
            reader
                .set_timeout(Some(remaining()))
                .map_err(|e| e.to_string())?;
            blocking_pump(&conn, shared, &mut reader).map_err(|e| format!("join: {e}"))?;
        }
    }
    if !conn.st.lock().unwrap().welcome {
        return Err("join: no welcome".into());
    }
    while conn.seq.load(SeqCst) == -1 {
        reader
            .set_timeout(Some(remaining()))
            .map_err(|e| e.to_string())?;
        blocking_pump(&conn, shared, &mut reader).map_err(|e| format!("first state: {e}"))?;
    }
    conn.st.lock().unwrap().replies.clear();
    // Hand the reading over to the epoll thread, once the frames that the
    // last read brought with the first state (`you`, a ping...) are handled:
    // edge-triggered epoll only reports data that arrives from now on.
    reader.set_nonblocking().map_err(|e| e.to_string())?;
    loop {
        match pump(&conn, shared, &mut reader) {
            Ok(()) => {}
            Err(Stop::Again) => break,
            Err(Stop::Gone(e)) => return Err(format!("after the first state: {e}")),
        }
    }
    let fd = reader.fd();
    *conn.reader.lock().unwrap() = Some(reader);
    let _ = slots[i].set(conn);
    shared
        .epoll
        .add(fd, i as u64)
        .map_err(|e| format!("epoll: {e}"))?;
    Ok(())
}

fn s1(j: &Json, stdin: &mut io::StdinLock) -> Result<(), String> {
    let job = parse_job(j)?;
    let n = job.players.len();
    if job.offsets.len() != n || job.texts.len() != n {
        return Err("players, offsets and texts differ in length".into());
    }
    let shared = Arc::new(Shared {
        replied: AtomicUsize::new(0),
        expected: AtomicUsize::new(usize::MAX),
        all_replied: (Mutex::new(()), Condvar::new()),
        version: j.get("v").and_then(Json::f64).unwrap_or(2.0) as i64,
        epoll: sys::Epoll::new().map_err(|e| format!("epoll: {e}"))?,
    });
    let started = sys::now();
    let slots: Arc<Vec<OnceLock<Arc<Conn>>>> = Arc::new((0..n).map(|_| OnceLock::new()).collect());
    {
        let (slots, shared) = (slots.clone(), shared.clone());
        thread::Builder::new()
            .name("reader".into())
            .spawn(move || read_loop(slots, shared))
            .map_err(|e| format!("reader thread: {e}"))?;
    }
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    let seed = sys::seed();
    thread::scope(|scope| {
        for _ in 0..job.concurrency.min(n) {
            thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn_scoped(scope, || loop {
                    let i = next.fetch_add(1, SeqCst);
                    if i >= n {
                        return;
                    }
                    if let Err(e) = join_one(i, &job, &shared, &slots, seed) {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{}: {e}", job.players[i].0));
                    }
                })
                .expect("joiner thread");
        }
    });
    let failures = failures.into_inner().unwrap();
    if !failures.is_empty() {
        let sample: Vec<String> = failures.iter().take(3).map(|f| quote(f)).collect();
        return Err(format!(
            "{} joins failed: [{}]",
            failures.len(),
            sample.join(", ")
        ));
    }
    let conns: Vec<Arc<Conn>> = slots.iter().map(|s| s.get().unwrap().clone()).collect();
    emit(&format!(
        "{{\"event\": \"ready\", \"n\": {n}, \"seconds\": {}, \"client\": \"rust\"}}",
        num(sys::now() - started)
    ));

    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| job.offsets[a].total_cmp(&job.offsets[b]));
    let totals = |conns: &[Arc<Conn>]| {
        let (mut frames, mut bytes, mut wire) = (0u64, 0u64, 0u64);
        for c in conns {
            let st = c.st.lock().unwrap();
            frames += st.frames;
            bytes += st.bytes;
            wire += c.wire.load(SeqCst);
        }
        (frames, bytes, wire)
    };

    for _ in 0..job.rounds {
        let go = command(stdin, "go");
        let t0 = go.get("t0").and_then(Json::f64).ok_or("go without t0")?;
        for c in &conns {
            c.guess_id.store(0, SeqCst);
            c.st.lock().unwrap().replies.clear();
        }
        shared.replied.store(0, SeqCst);
        shared.expected.store(n, SeqCst);
        let cpu0 = sys::cpu_seconds();
        let (frames0, bytes0, wire0) = totals(&conns);
        let (waits0, events0) = (WAITS.load(SeqCst), EVENTS.load(SeqCst));
        // (client, request id, sent at)
        let mut sends: Vec<(usize, u64, f64)> = Vec::with_capacity(n);
        for &i in &order {
            let wait = t0 + job.offsets[i] - sys::now();
            if wait > 0.0 {
                thread::sleep(Duration::from_secs_f64(wait));
            }
            let c = &conns[i];
            let id = c.id();
            c.guess_id.store(id, SeqCst);
            let frame = format!(
                "{{\"type\":\"guess\",\"v\":{},\"id\":{id},\"text\":{}}}",
                shared.version,
                quote(&job.texts[i])
            );
            let sent = sys::now();
            if let Err(e) = c.send(&frame) {
                eprintln!("guess of client {i} not sent: {e}");
            }
            sends.push((i, id, sent));
        }
        // Bounded: a round the server never finishes is reported (unanswered), not waited for.
        let deadline = sys::now() + job.round_timeout;
        {
            let (lock, cv) = &shared.all_replied;
            let mut guard = lock.lock().unwrap();
            while shared.replied.load(SeqCst) < n && sys::now() < deadline {
                let left = Duration::from_secs_f64((deadline - sys::now()).clamp(0.001, 0.5));
                guard = cv.wait_timeout(guard, left).unwrap().0;
            }
        }
        let mut latencies = Vec::new();
        let mut timeline = Vec::new();
        let mut kinds: Vec<(String, u64)> = Vec::new();
        let mut accepted_last: Option<f64> = None;
        let mut replies_n = 0usize;
        for &(i, id, sent) in &sends {
            let st = conns[i].st.lock().unwrap();
            for (rid, at, outcome) in &st.replies {
                if *rid != id {
                    continue;
                }
                replies_n += 1;
                latencies.push(at - sent);
                timeline.push((sent - t0, at - sent));
                match kinds.iter_mut().find(|(k, _)| k == outcome) {
                    Some(entry) => entry.1 += 1,
                    None => kinds.push((outcome.clone(), 1)),
                }
                if !outcome.starts_with("error:") {
                    accepted_last = Some(accepted_last.map_or(sent, |a: f64| a.max(sent)));
                }
                break;
            }
        }
        let last_send = sends.iter().map(|s| s.2).fold(f64::MIN, f64::max);
        let first_send = sends.iter().map(|s| s.2).fold(f64::MAX, f64::min);
        emit(&format!(
            "{{\"event\": \"acked\", \"n\": {replies_n}, \"last_send\": {}, \"first_send\": {}, \
             \"last_accepted_send\": {}}}",
            num(last_send),
            num(first_send),
            accepted_last.map_or("null".into(), num)
        ));

        let fin = command(stdin, "final");
        let final_seq = fin
            .get("seq")
            .and_then(Json::f64)
            .ok_or("final without seq")? as i64;
        let wait = fin.get("wait").and_then(Json::f64).unwrap_or(60.0);
        let deadline = sys::now() + wait;
        // Bounded wait for every client to see the final state.
        while sys::now() < deadline && !conns.iter().all(|c| c.seq.load(SeqCst) >= final_seq) {
            thread::sleep(Duration::from_millis(50));
        }
        let mut final_at = Vec::new();
        let mut missing = 0usize;
        let mut state_max = 0usize;
        for c in &conns {
            let st = c.st.lock().unwrap();
            state_max = state_max.max(st.state_size);
            match st.arrivals.iter().find(|(s, _)| *s >= final_seq) {
                Some((_, at)) => final_at.push(*at),
                None => missing += 1,
            }
        }
        let (frames1, bytes1, wire1) = totals(&conns);
        timeline.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let list = |v: &[f64]| v.iter().map(|x| num(*x)).collect::<Vec<_>>().join(", ");
        let timeline_s = timeline
            .iter()
            .map(|(a, b)| format!("[{}, {}]", num(*a), num(*b)))
            .collect::<Vec<_>>()
            .join(", ");
        let kinds_s = kinds
            .iter()
            .map(|(k, v)| format!("{}: {v}", quote(k)))
            .collect::<Vec<_>>()
            .join(", ");
        emit(&format!(
            "{{\"event\": \"result\", \"latencies\": [{}], \"timeline\": [{timeline_s}], \
             \"kinds\": {{{kinds_s}}}, \"unanswered\": {}, \"final_at\": [{}], \"missing\": {missing}, \
             \"frames\": {}, \"bytes\": {}, \"wire_bytes\": {}, \"max_rss_kib\": {}, \"cpu_s\": {}, \
             \"state_bytes_max\": {state_max}, \"closed\": {}, \"epoll\": [{}, {}]}}",
            list(&latencies),
            sends.len() - latencies.len(),
            list(&final_at),
            frames1 - frames0,
            bytes1 - bytes0,
            wire1 - wire0,
            sys::hwm_kib(),
            num(sys::cpu_seconds() - cpu0),
            conns.iter().filter(|c| c.st.lock().unwrap().closed.is_some()).count(),
            WAITS.load(SeqCst) - waits0,
            EVENTS.load(SeqCst) - events0,
        ));
    }
    Ok(())
}

/// `ritrovo-loadgen inflate-check [--no-takeover]`: inflate the hex-encoded
/// permessage-deflate payloads on stdin (one message a line, one connection)
/// and print each result in hex (bench/loadgen/check.py compares with zlib).
fn inflate_check(takeover: bool) {
    let mut inf = inflate::Inflater::new(takeover);
    let stdin = io::stdin();
    let out = io::stdout();
    let mut out = out.lock();
    for line in stdin.lock().lines() {
        let line = line.unwrap_or_default();
        let hex = line.trim().as_bytes();
        let data: Vec<u8> = (0..hex.len() / 2)
            .map(|k| {
                u8::from_str_radix(
                    std::str::from_utf8(&hex[2 * k..2 * k + 2]).unwrap_or("00"),
                    16,
                )
                .unwrap_or(0)
            })
            .collect();
        match inf.message(&data) {
            Ok(start) => {
                let text: String = inf.hist[start..]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let _ = writeln!(out, "{text}");
            }
            Err(e) => {
                let _ = writeln!(out, "error: {e}");
            }
        }
    }
}

/// `ritrovo-loadgen inflate-bench`: lines `stream hex` (many connections'
/// messages, interleaved); inflates them all and prints the time per message.
fn inflate_bench() {
    let mut input: Vec<(usize, Vec<u8>)> = Vec::new();
    for line in io::stdin().lock().lines() {
        let line = line.unwrap_or_default();
        let Some((id, hex)) = line.trim().split_once(' ') else {
            continue;
        };
        let hex = hex.as_bytes();
        let data: Vec<u8> = (0..hex.len() / 2)
            .map(|k| {
                u8::from_str_radix(
                    std::str::from_utf8(&hex[2 * k..2 * k + 2]).unwrap_or("00"),
                    16,
                )
                .unwrap_or(0)
            })
            .collect();
        input.push((id.parse().unwrap_or(0), data));
    }
    let streams = input.iter().map(|x| x.0).max().unwrap_or(0) + 1;
    let mut infs: Vec<inflate::Inflater> =
        (0..streams).map(|_| inflate::Inflater::new(true)).collect();
    let t = sys::now();
    let mut out = 0usize;
    for (id, data) in &input {
        let inf = &mut infs[*id];
        let start = inf.message(data).expect("inflate");
        out += inf.hist.len() - start;
    }
    let dt = sys::now() - t;
    println!(
        "{} messages, {} streams, {:.1} KB out each: {:.2} us per message",
        input.len(),
        streams,
        out as f64 / input.len() as f64 / 1e3,
        dt * 1e6 / input.len() as f64
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("inflate-bench") {
        inflate_bench();
        return;
    }
    if args.get(1).map(String::as_str) == Some("inflate-check") {
        inflate_check(args.get(2).map(String::as_str) != Some("--no-takeover"));
        return;
    }
    sys::raise_file_limit();
    let stdin = io::stdin();
    let mut stdin = stdin.lock();
    let mut first = String::new();
    if stdin.read_line(&mut first).unwrap_or(0) == 0 {
        return;
    }
    let outcome = match json::parse(first.trim()) {
        Err(e) => Err(format!("bad job: {e}")),
        Ok(job) => match job.get("kind").and_then(Json::str) {
            Some("s1") => s1(&job, &mut stdin),
            other => Err(format!("ritrovo-loadgen only runs S1 jobs, not {other:?}")),
        },
    };
    match outcome {
        Err(e) => emit_error(&e),
        Ok(()) => {
            // Linger until the coordinator stops this process (it kills its
            // workers and reaps them): a worker that exits on its own while the
            // coordinator starts the next server can race asyncio's child
            // watcher ("Unknown child process pid ...").
            let mut rest = String::new();
            while stdin.read_line(&mut rest).unwrap_or(0) > 0 {
                rest.clear();
            }
        }
    }
    // Exit without closing every connection politely, as bench/lib/worker.py does.
    let _ = io::stdout().flush();
    std::process::exit(0);
}
