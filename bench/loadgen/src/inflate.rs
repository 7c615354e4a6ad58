//! Raw DEFLATE (RFC 1951) decoder for permessage-deflate (RFC 7692), std only.
//!
//! One `Inflater` per connection. With context takeover (the default that
//! aiohttp uses) a message may refer back into the previous messages' output,
//! so each message is decoded onto the end of a linear history (`hist`) that
//! keeps at least the last 32 KiB; once it passes `SLIDE_AT` the last 32 KiB
//! are moved to the front. The Huffman tables are rebuilt for every block, so
//! they are not kept per connection but per thread (`TABLES`: they stay in
//! the caches while thousands of connections take turns). Table entries carry the length/distance base and
//! extra-bit count, so a symbol costs one look-up; codes longer than `FAST`
//! bits (rare) are decoded bit by bit. The bit buffer is refilled 8 bytes at a
//! time, and matches are copied 16 bytes at a time into slack space.
//! `bench/loadgen/check.py` compares it with zlib.

use std::ptr;

const FAST: u32 = 9;
const FAST_SIZE: usize = 1 << FAST;
const WINDOW: usize = 32 * 1024;
const SLIDE_AT: usize = 64 * 1024;
const CAPACITY: usize = SLIDE_AT + 16 * 1024;
const SLACK: usize = 258 + 32; // room kept free past the output for one match, over-copied
const MAX_MESSAGE: usize = 64 << 20;

const LBASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEXT: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DBASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DEXT: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
const CL_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// REV9[x]: the 9 bits of x in reverse order.
const REV9: [u16; FAST_SIZE] = {
    let mut t = [0u16; FAST_SIZE];
    let mut x = 0;
    while x < FAST_SIZE {
        let mut r = 0;
        let mut b = 0;
        while b < FAST {
            if x & (1 << b) != 0 {
                r |= 1 << (FAST - 1 - b);
            }
            b += 1;
        }
        t[x] = r as u16;
        x += 1;
    }
    t
};

pub type Error = &'static str;

// A decoded symbol, as a table entry (u32):
//   bits 0-3 code length (0: not in the fast table), 4-7 extra bits,
//   8-9 kind, 16-31 value (the literal, or the length/distance base).
const LITERAL: u32 = 0;
const BASE: u32 = 1; // a length (litlen table) or a distance (distance table)
const END: u32 = 2;
const INVALID: u32 = 3;

#[derive(Clone, Copy, PartialEq)]
enum Alphabet {
    LitLen,
    Dist,
    Plain, // the code-length code: the value is the symbol
}

fn entry_of(alphabet: Alphabet, sym: u16) -> u32 {
    let s = sym as usize;
    let (kind, extra, value) = match alphabet {
        Alphabet::Plain => (LITERAL, 0, sym as u32),
        Alphabet::LitLen if s < 256 => (LITERAL, 0, sym as u32),
        Alphabet::LitLen if s == 256 => (END, 0, 0),
        Alphabet::LitLen if s < 286 => (BASE, LEXT[s - 257] as u32, LBASE[s - 257] as u32),
        Alphabet::Dist if s < 30 => (BASE, DEXT[s] as u32, DBASE[s] as u32),
        _ => (INVALID, 0, 0),
    };
    (value << 16) | (kind << 8) | (extra << 4)
}

/// A canonical Huffman code: a fast table for short codes, counts and sorted
/// symbols for the bit-by-bit decode of long ones.
struct Huff {
    fast: [u32; FAST_SIZE],
    fast_bits: u32,
    alphabet: Alphabet,
    count: [u16; 16],
    sym: [u16; 320],
}

impl Huff {
    fn new(alphabet: Alphabet) -> Huff {
        Huff {
            fast: [0; FAST_SIZE],
            fast_bits: 1,
            alphabet,
            count: [0; 16],
            sym: [0; 320],
        }
    }

    fn build(&mut self, lens: &[u8]) -> Result<(), Error> {
        self.count = [0; 16];
        for &l in lens {
            self.count[l as usize] += 1;
        }
        self.count[0] = 0;
        let mut left: i32 = 1;
        for len in 1..16 {
            left <<= 1;
            left -= self.count[len] as i32;
            if left < 0 {
                return Err("over-subscribed code");
            }
        }
        let mut offs = [0u16; 16];
        for len in 1..15 {
            offs[len + 1] = offs[len] + self.count[len];
        }
        for (s, &l) in lens.iter().enumerate() {
            if l != 0 {
                self.sym[offs[l as usize] as usize] = s as u16;
                offs[l as usize] += 1;
            }
        }
        let longest = (1..16).rev().find(|&l| self.count[l] != 0).unwrap_or(1) as u32;
        let bits = longest.min(FAST);
        let size = 1usize << bits;
        self.fast_bits = bits;
        if left != 0 || longest > FAST {
            self.fast[..size].fill(0); // some entries stay empty: the slow path decides
        }
        let mut code: u32 = 0;
        let mut index = 0usize;
        for len in 1..=bits {
            for _ in 0..self.count[len as usize] {
                let e = entry_of(self.alphabet, self.sym[index]) | len;
                index += 1;
                // The code's bits, first bit lowest (stream order).
                let mut k = REV9[(code << (FAST - len)) as usize] as usize;
                while k < size {
                    self.fast[k] = e;
                    k += 1 << len;
                }
                code += 1;
            }
            code <<= 1;
        }
        Ok(())
    }
}

/// The bits of a message: its payload, then the 00 00 ff ff that RFC 7692
/// removes from the end of each message (read as if appended), then zeros.
struct Bits<'a> {
    d: &'a [u8],
    pos: usize, // bytes counted in `cnt` so far (may run past the end)
    buf: u64,
    cnt: u32,
}

const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];

impl<'a> Bits<'a> {
    /// At least 56 bits in the buffer.
    #[inline(always)]
    fn refill(&mut self) {
        if self.pos + 8 <= self.d.len() {
            let v = u64::from_le_bytes(self.d[self.pos..self.pos + 8].try_into().unwrap());
            self.buf |= v << self.cnt;
            self.pos += ((63 - self.cnt) >> 3) as usize;
            self.cnt |= 56;
        } else {
            self.refill_slow();
        }
    }

    #[cold]
    fn refill_slow(&mut self) {
        while self.cnt <= 56 {
            let b = if self.pos < self.d.len() {
                self.d[self.pos]
            } else {
                *TAIL.get(self.pos - self.d.len()).unwrap_or(&0)
            };
            self.pos += 1;
            self.buf |= (b as u64) << self.cnt;
            self.cnt += 8;
        }
    }

    /// `n` (at most 32) bits, refilling first if needed.
    #[inline(always)]
    fn bits(&mut self, n: u32) -> u32 {
        if self.cnt < n {
            self.refill();
        }
        self.take(n)
    }

    /// `n` bits, which the buffer holds.
    #[inline(always)]
    fn take(&mut self, n: u32) -> u32 {
        let v = (self.buf & ((1u64 << n) - 1)) as u32;
        self.buf >>= n;
        self.cnt -= n;
        v
    }

    fn consumed(&self) -> usize {
        self.pos * 8 - self.cnt as usize
    }

    /// Bits in the message, the tail included.
    fn total(&self) -> usize {
        (self.d.len() + TAIL.len()) * 8
    }

    fn overrun(&self) -> bool {
        self.consumed() > self.total()
    }

    /// The next symbol's entry (its code's bits consumed); needs >= 15 bits in the buffer.
    #[inline(always)]
    fn decode(&mut self, h: &Huff) -> Result<u32, Error> {
        let e = h.fast[(self.buf as usize) & ((1 << h.fast_bits) - 1)];
        let n = e & 15;
        if n != 0 {
            self.buf >>= n;
            self.cnt -= n;
            return Ok(e);
        }
        self.decode_slow(h)
    }

    #[cold]
    fn decode_slow(&mut self, h: &Huff) -> Result<u32, Error> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= self.bits(1) as i32;
            let count = h.count[len] as i32;
            if code - count < first {
                return Ok(
                    entry_of(h.alphabet, h.sym[(index + (code - first)) as usize]) | len as u32,
                );
            }
            index += count;
            first += count;
            first <<= 1;
            code <<= 1;
        }
        Err("bad code")
    }
}

/// The tables of the block being decoded (one set per thread).
struct Tables {
    lit: Huff,
    dist: Huff,
    lencode: Huff,
    fixed: Option<(Huff, Huff)>,
}

thread_local! {
    static TABLES: std::cell::RefCell<Box<Tables>> = std::cell::RefCell::new(Box::new(Tables {
        lit: Huff::new(Alphabet::LitLen),
        dist: Huff::new(Alphabet::Dist),
        lencode: Huff::new(Alphabet::Plain),
        fixed: None,
    }));
}

pub struct Inflater {
    /// The output history; after `message`, the message is `hist[start..]`.
    pub hist: Vec<u8>,
    takeover: bool,
    /// The length of the previous message: what the next one most likely
    /// copies from, and about how much it writes.
    last_len: usize,
}

impl Inflater {
    pub fn new(takeover: bool) -> Inflater {
        // Touch the history's pages now (at connection time): page faults
        // while measuring would be charged to the load generator's CPU.
        let mut hist = vec![1u8; CAPACITY];
        hist.clear();
        Inflater {
            hist,
            takeover,
            last_len: 0,
        }
    }

    /// Inflate one message (its payload as sent: the 00 00 ff ff that RFC
    /// 7692 says to append is read as if it were there); returns where it
    /// starts in `hist`.
    pub fn message(&mut self, data: &[u8]) -> Result<usize, Error> {
        if !self.takeover {
            self.hist.clear();
        } else if self.hist.len() > SLIDE_AT {
            let cut = self.hist.len() - WINDOW;
            self.hist.copy_within(cut.., 0);
            self.hist.truncate(WINDOW);
        }
        if self.hist.capacity() < CAPACITY {
            self.hist.reserve_exact(CAPACITY - self.hist.len());
        }
        let start = self.hist.len();
        // Thousands of connections take turns: this one's history is out of
        // the caches. Ask for the lines the message will read and write all at
        // once, rather than one miss at a time as the decoding reaches them.
        let near = self.last_len.min(4096);
        prefetch(
            self.hist.as_ptr().wrapping_add(start - near.min(start)),
            near.min(start),
        );
        prefetch(
            self.hist.as_ptr().wrapping_add(start),
            near.min(self.hist.capacity() - start),
        );
        let mut b = Bits {
            d: data,
            pos: 0,
            buf: 0,
            cnt: 0,
        };
        let result = TABLES.with(|t| self.blocks(&mut b, start, &mut t.borrow_mut()));
        if result.is_err() {
            self.hist.truncate(start);
        }
        self.last_len = self.hist.len() - start;
        result.map(|_| start)
    }

    fn blocks(&mut self, b: &mut Bits, start: usize, t: &mut Tables) -> Result<(), Error> {
        while b.consumed() + 3 <= b.total() {
            let last = b.bits(1);
            match b.bits(2) {
                0 => self.stored(b)?,
                1 => {
                    if t.fixed.is_none() {
                        let mut l = [0u8; 288];
                        for (i, x) in l.iter_mut().enumerate() {
                            *x = match i {
                                0..=143 => 8,
                                144..=255 => 9,
                                256..=279 => 7,
                                _ => 8,
                            };
                        }
                        let mut fixed = (Huff::new(Alphabet::LitLen), Huff::new(Alphabet::Dist));
                        fixed.0.build(&l)?;
                        fixed.1.build(&[5u8; 30])?;
                        t.fixed = Some(fixed);
                    }
                    let fixed = t.fixed.as_ref().unwrap();
                    codes(&mut self.hist, start, b, &fixed.0, &fixed.1)?
                }
                2 => {
                    dynamic(b, &mut t.lencode, &mut t.lit, &mut t.dist)?;
                    codes(&mut self.hist, start, b, &t.lit, &t.dist)?
                }
                _ => return Err("bad block type"),
            }
            if b.overrun() {
                return Err("input ran out");
            }
            if last == 1 {
                break;
            }
        }
        Ok(())
    }

    fn stored(&mut self, b: &mut Bits) -> Result<(), Error> {
        let drop = b.cnt % 8;
        b.bits(drop);
        let len = b.bits(16);
        let nlen = b.bits(16);
        if len != !nlen & 0xffff {
            return Err("stored length");
        }
        for _ in 0..len {
            let byte = b.bits(8) as u8;
            self.hist.push(byte);
        }
        if b.overrun() {
            return Err("stored block ran out");
        }
        Ok(())
    }
}

#[inline]
fn prefetch(p: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let mut k = 0;
        while k < len {
            _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(k) as *const i8);
            k += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (p, len);
}

fn dynamic(b: &mut Bits, lencode: &mut Huff, lit: &mut Huff, dist: &mut Huff) -> Result<(), Error> {
    let nlen = b.bits(5) as usize + 257;
    let ndist = b.bits(5) as usize + 1;
    let ncode = b.bits(4) as usize + 4;
    if nlen > 286 || ndist > 30 {
        return Err("bad counts");
    }
    let mut cl = [0u8; 19];
    for &i in CL_ORDER.iter().take(ncode) {
        cl[i] = b.bits(3) as u8;
    }
    lencode.build(&cl)?;
    let mut lens = [0u8; 320];
    let mut i = 0;
    while i < nlen + ndist {
        b.refill();
        let e = b.decode(lencode)?;
        let sym = e >> 16;
        if sym < 16 {
            lens[i] = sym as u8;
            i += 1;
            continue;
        }
        let (value, rep) = match sym {
            16 => {
                if i == 0 {
                    return Err("repeat with no previous length");
                }
                (lens[i - 1], 3 + b.take(2) as usize)
            }
            17 => (0, 3 + b.take(3) as usize),
            _ => (0, 11 + b.take(7) as usize),
        };
        if i + rep > nlen + ndist {
            return Err("too many lengths");
        }
        lens[i..i + rep].fill(value);
        i += rep;
        if b.overrun() {
            return Err("header ran out");
        }
    }
    if lens[256] == 0 {
        return Err("no end-of-block code");
    }
    lit.build(&lens[..nlen])?;
    dist.build(&lens[nlen..nlen + ndist])?;
    Ok(())
}

/// Decode one block's symbols onto the end of `out`.
fn codes(
    out: &mut Vec<u8>,
    start: usize,
    b: &mut Bits,
    lit: &Huff,
    dist: &Huff,
) -> Result<(), Error> {
    let mut n = out.len();
    let mut p = out.as_mut_ptr();
    let mut cap = out.capacity();
    let result = loop {
        if cap - n < SLACK {
            unsafe { out.set_len(n) };
            out.reserve(cap.max(64 * 1024));
            cap = out.capacity();
            p = out.as_mut_ptr();
        }
        // One refill covers a whole length/distance pair: 15 + 5 + 15 + 13 bits.
        if b.cnt < 48 {
            b.refill();
        }
        let e = match b.decode(lit) {
            Ok(e) => e,
            Err(err) => break Err(err),
        };
        match (e >> 8) & 3 {
            LITERAL => {
                unsafe { *p.add(n) = (e >> 16) as u8 };
                n += 1;
            }
            BASE => {
                let len = (e >> 16) as usize + b.take((e >> 4) & 15) as usize;
                let de = match b.decode(dist) {
                    Ok(de) => de,
                    Err(err) => break Err(err),
                };
                if (de >> 8) & 3 != BASE {
                    break Err("bad distance symbol");
                }
                let d = (de >> 16) as usize + b.take((de >> 4) & 15) as usize;
                if d > n {
                    break Err("distance too far back");
                }
                unsafe {
                    let src = p.add(n - d);
                    let dst = p.add(n);
                    if d >= 16 {
                        // 16 bytes at a time, past the end into the slack: each
                        // chunk reads only what earlier chunks (or the history) hold.
                        let mut k = 0;
                        while k < len {
                            ptr::copy_nonoverlapping(src.add(k), dst.add(k), 16);
                            k += 16;
                        }
                    } else if d == 1 {
                        ptr::write_bytes(dst, *src, len);
                    } else {
                        for k in 0..len {
                            *dst.add(k) = *src.add(k);
                        }
                    }
                }
                n += len;
            }
            END => break Ok(()),
            _ => break Err("bad literal/length symbol"),
        }
        if b.overrun() {
            break Err("input ran out");
        }
        if n - start > MAX_MESSAGE {
            break Err("message too large");
        }
    };
    unsafe { out.set_len(n) };
    result
}
