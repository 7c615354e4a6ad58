//! Just enough JSON: a parser for the coordinator's job and commands, a
//! writer's helpers for the events, and a byte scanner that reads a few
//! fields of a server frame without decoding it.

#[allow(dead_code)]
#[derive(Debug, Clone)]
pub enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn f64(&self) -> Option<f64> {
        match self {
            Json::Num(x) => Some(*x),
            _ => None,
        }
    }
    pub fn str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn arr(&self) -> Option<&[Json]> {
        match self {
            Json::Arr(a) => Some(a),
            _ => None,
        }
    }
}

pub fn parse(text: &str) -> Result<Json, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("trailing data at {}", p.i));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn lit(&mut self, word: &str, v: Json) -> Result<Json, String> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(format!("bad literal at {}", self.i))
        }
    }
    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.peek() {
            None => Err("unexpected end".into()),
            Some(b'{') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(Json::Obj(items));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.ws();
                    if self.peek() != Some(b':') {
                        return Err(format!("expected ':' at {}", self.i));
                    }
                    self.i += 1;
                    let v = self.value()?;
                    items.push((k, v));
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Obj(items));
                        }
                        _ => return Err(format!("expected ',' or '}}' at {}", self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Json::Arr(items));
                }
                loop {
                    items.push(self.value()?);
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Arr(items));
                        }
                        _ => return Err(format!("expected ',' or ']' at {}", self.i)),
                    }
                }
            }
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b't') => self.lit("true", Json::Bool(true)),
            Some(b'f') => self.lit("false", Json::Bool(false)),
            Some(b'n') => self.lit("null", Json::Null),
            Some(_) => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
                t.parse::<f64>()
                    .map(Json::Num)
                    .map_err(|_| format!("bad number {t:?}"))
            }
        }
    }
    fn hex4(&mut self) -> Result<u32, String> {
        let t = self.s.get(self.i..self.i + 4).ok_or("short \\u escape")?;
        let t = std::str::from_utf8(t).map_err(|e| e.to_string())?;
        self.i += 4;
        u32::from_str_radix(t, 16).map_err(|e| e.to_string())
    }
    fn string(&mut self) -> Result<String, String> {
        if self.peek() != Some(b'"') {
            return Err(format!("expected a string at {}", self.i));
        }
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek().ok_or("unterminated string")?;
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.peek().ok_or("unterminated escape")?;
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let mut u = self.hex4()?;
                            if (0xd800..0xdc00).contains(&u) && self.s[self.i..].starts_with(b"\\u")
                            {
                                self.i += 2;
                                let lo = self.hex4()?;
                                u = 0x10000
                                    + ((u - 0xd800) << 10)
                                    + (lo.wrapping_sub(0xdc00) & 0x3ff);
                            }
                            char::from_u32(u).unwrap_or('\u{fffd}')
                        }
                        _ => return Err(format!("bad escape at {}", self.i)),
                    };
                    let mut b = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                }
                _ => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|e| e.to_string())
    }
}

/// A JSON string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number (null when not finite).
pub fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "null".into()
    }
}

// -- the byte scanner for server frames -----------------------------------------

/// The head of a server frame, `{"type":"K","v":N,"seq":S,"base":B,...`: the
/// server (orjson) writes these keys first, in this order, without spaces.
pub struct Head<'a> {
    pub kind: &'a [u8],
    pub seq: Option<i64>,
    pub base: Option<i64>,
}

pub fn head(m: &[u8]) -> Option<Head<'_>> {
    const OPEN: &[u8] = b"{\"type\":\"";
    if !m.starts_with(OPEN) {
        // Not written as Ritrovo and the reference write (orjson): read the
        // top-level fields the slow way.
        let mut h = Head {
            kind: b"",
            seq: None,
            base: None,
        };
        let ok = fields(m, |k, v| match k {
            b"type" => h.kind = unquote(v),
            b"seq" => h.seq = int(v),
            b"base" => h.base = int(v),
            _ => {}
        });
        return if ok { Some(h) } else { None };
    }
    let mut i = OPEN.len();
    let start = i;
    while i < m.len() && m[i] != b'"' {
        i += 1;
    }
    let kind = &m[start..i];
    i += 1;
    let _v = int_field(m, &mut i, b",\"v\":");
    let seq = int_field(m, &mut i, b",\"seq\":");
    let base = int_field(m, &mut i, b",\"base\":");
    Some(Head { kind, seq, base })
}

fn int_field(m: &[u8], i: &mut usize, key: &[u8]) -> Option<i64> {
    if *i > m.len() || !m[*i..].starts_with(key) {
        return None;
    }
    let mut j = *i + key.len();
    let neg = m.get(j) == Some(&b'-');
    if neg {
        j += 1;
    }
    let digits = j;
    let mut v: i64 = 0;
    while j < m.len() && m[j].is_ascii_digit() {
        v = v.saturating_mul(10).saturating_add((m[j] - b'0') as i64);
        j += 1;
    }
    if j == digits {
        return None;
    }
    *i = j;
    Some(if neg { -v } else { v })
}

pub fn int(v: &[u8]) -> Option<i64> {
    let mut i = 0;
    int_field(v, &mut i, b"")
}

/// The text of a JSON string value (without its quotes; escapes left as they are).
pub fn unquote(v: &[u8]) -> &[u8] {
    if v.len() >= 2 && v[0] == b'"' && v[v.len() - 1] == b'"' {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

/// Calls `f(key, raw value)` for each top-level field of a JSON object (keys
/// as they are written, escapes included). False if the text is not one.
pub fn fields<'a>(m: &'a [u8], mut f: impl FnMut(&'a [u8], &'a [u8])) -> bool {
    let mut i = skip_ws(m, 0);
    if m.get(i) != Some(&b'{') {
        return false;
    }
    i = skip_ws(m, i + 1);
    if m.get(i) == Some(&b'}') {
        return true;
    }
    loop {
        i = skip_ws(m, i);
        if m.get(i) != Some(&b'"') {
            return false;
        }
        let Some(kend) = skip_string(m, i) else {
            return false;
        };
        let key = &m[i + 1..kend - 1];
        i = skip_ws(m, kend);
        if m.get(i) != Some(&b':') {
            return false;
        }
        i = skip_ws(m, i + 1);
        let Some(vend) = skip_value(m, i) else {
            return false;
        };
        f(key, &m[i..vend]);
        i = skip_ws(m, vend);
        match m.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => return true,
            _ => return false,
        }
    }
}

/// The raw value of top-level field `key` of an object.
pub fn field<'a>(m: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut found = None;
    fields(m, |k, v| {
        if found.is_none() && k == key {
            found = Some(v);
        }
    });
    found
}

fn skip_ws(m: &[u8], mut i: usize) -> usize {
    while i < m.len() && matches!(m[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// `m[i]` is an opening quote: the index after the closing one.
fn skip_string(m: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < m.len() {
        match m[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn skip_value(m: &[u8], i: usize) -> Option<usize> {
    match *m.get(i)? {
        b'"' => skip_string(m, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < m.len() {
                match m[j] {
                    b'"' => {
                        j = skip_string(m, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < m.len() && !matches!(m[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            Some(j)
        }
    }
}
