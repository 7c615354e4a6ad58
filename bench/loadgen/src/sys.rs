//! What the worker needs from the system: the CLOCK_MONOTONIC clock (the one
//! Python's time.monotonic() reads, so times compare across processes), its
//! own CPU time and memory from /proc, and the open-file limit. The two libc
//! calls are declared here (libc is linked by std anyway; no crate needed).

use std::fs;

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

#[repr(C)]
struct Rlimit {
    cur: u64,
    max: u64,
}

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    fn sysconf(name: i32) -> i64;
    fn getrlimit(resource: i32, rlim: *mut Rlimit) -> i32;
    fn setrlimit(resource: i32, rlim: *const Rlimit) -> i32;
}

const CLOCK_MONOTONIC: i32 = 1;
const SC_CLK_TCK: i32 = 2;
const RLIMIT_NOFILE: i32 = 7;

/// CLOCK_MONOTONIC in seconds: the same clock as Python's time.monotonic().
pub fn now() -> f64 {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    unsafe {
        clock_gettime(CLOCK_MONOTONIC, &mut ts);
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// utime + stime of this process (every thread) so far, from /proc/self/stat.
pub fn cpu_seconds() -> f64 {
    let tck = unsafe { sysconf(SC_CLK_TCK) }.max(1) as f64;
    let Ok(stat) = fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / tck
}

/// Peak resident memory (VmHWM) in KiB.
pub fn hwm_kib() -> u64 {
    let Ok(status) = fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Raise the soft limit of open files to the hard limit.
pub fn raise_file_limit() {
    let mut r = Rlimit { cur: 0, max: 0 };
    unsafe {
        if getrlimit(RLIMIT_NOFILE, &mut r) == 0 && r.cur < r.max {
            r.cur = r.max;
            setrlimit(RLIMIT_NOFILE, &r);
        }
    }
}

/// A seed for the masks and handshake keys.
pub fn seed() -> u64 {
    let mut b = [0u8; 8];
    if let Ok(mut f) = fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut b);
    }
    u64::from_ne_bytes(b) ^ (now() * 1e9) as u64 ^ (std::process::id() as u64) << 32 | 1
}

// -- epoll and non-blocking reads (the readers of all connections share one thread) --

#[cfg_attr(target_arch = "x86_64", repr(C, packed))]
#[cfg_attr(not(target_arch = "x86_64"), repr(C))]
#[derive(Clone, Copy)]
pub struct EpollEvent {
    pub events: u32,
    pub data: u64,
}

extern "C" {
    fn epoll_create1(flags: i32) -> i32;
    fn epoll_ctl(epfd: i32, op: i32, fd: i32, event: *mut EpollEvent) -> i32;
    fn epoll_wait(epfd: i32, events: *mut EpollEvent, maxevents: i32, timeout: i32) -> i32;
    fn recv(fd: i32, buf: *mut u8, len: usize, flags: i32) -> isize;
}

const EPOLL_CLOEXEC: i32 = 0x80000;
const EPOLL_CTL_ADD: i32 = 1;
const EPOLL_CTL_DEL: i32 = 2;
pub const EPOLLIN: u32 = 0x001;
pub const EPOLLRDHUP: u32 = 0x2000;
pub const EPOLLET: u32 = 1 << 31;
const MSG_DONTWAIT: i32 = 0x40;

pub struct Epoll(i32);

impl Epoll {
    pub fn new() -> std::io::Result<Epoll> {
        let fd = unsafe { epoll_create1(EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Epoll(fd))
    }

    /// Watch `fd` for input, edge-triggered (the reader reads until a short
    /// read or EAGAIN after each event); events carry `token`.
    pub fn add(&self, fd: i32, token: u64) -> std::io::Result<()> {
        let mut ev = EpollEvent {
            events: EPOLLIN | EPOLLRDHUP | EPOLLET,
            data: token,
        };
        if unsafe { epoll_ctl(self.0, EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    pub fn delete(&self, fd: i32) {
        let mut ev = EpollEvent { events: 0, data: 0 };
        unsafe {
            epoll_ctl(self.0, EPOLL_CTL_DEL, fd, &mut ev);
        }
    }

    /// Wait up to `timeout_ms` for events; returns how many of `events` are filled.
    pub fn wait(&self, events: &mut [EpollEvent], timeout_ms: i32) -> usize {
        let n = unsafe { epoll_wait(self.0, events.as_mut_ptr(), events.len() as i32, timeout_ms) };
        n.max(0) as usize
    }
}

/// recv(2) with MSG_DONTWAIT: the socket stays blocking for the writer's sends.
pub fn recv_nowait(fd: i32, buf: &mut [u8]) -> std::io::Result<usize> {
    let n = unsafe { recv(fd, buf.as_mut_ptr(), buf.len(), MSG_DONTWAIT) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(n as usize)
}
