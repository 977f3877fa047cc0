//! A CSV file cut into pieces that each start at a record, so that the
//! pieces can be parsed side by side: parsing is most of the time of
//! reading a file, and one parser keeps only one core busy.
//!
//! A cut is made just after a newline that ends a record. Whether a
//! newline ends a record depends only on the quoting before it, which is
//! followed here as the CSV reader follows it (RFC 4180, doubled quotes,
//! a quote opening a field only at its start), jumping from quote to
//! quote rather than reading byte by byte.
//!
//! A piece is then read record by record by [`Records`], which splits
//! fields as the csv crate does (RFC 4180 with its leniency: blank lines
//! skipped, CR, LF or CRLF ending a record, text after a closing quote
//! kept, an unterminated quote running to the end) but jumps from one
//! delimiter to the next with memchr instead of stepping a state machine
//! through every byte of the texts.

use std::io::BufRead;

/// How far the quoting of the bytes scanned so far goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quoting {
    /// Outside quotes; `field_start`: the next byte starts a field.
    Unquoted {
        field_start: bool,
    },
    Quoted,
    /// A quote inside a quoted field: it closes the field unless the
    /// next byte is a quote too.
    QuoteInQuoted,
}

/// Finds the newlines that end records.
#[derive(Clone, Copy, Debug)]
pub struct RecordEnds {
    state: Quoting,
}

impl Default for RecordEnds {
    fn default() -> Self {
        Self {
            state: Quoting::Unquoted { field_start: true },
        }
    }
}

fn ends_field(byte: u8) -> bool {
    matches!(byte, b',' | b'\n' | b'\r')
}

impl RecordEnds {
    /// Scans `bytes`, which follow the bytes scanned before; returns the
    /// offset just past the first newline that ends a record (the scan
    /// stops there), or None when there is none (all were scanned).
    pub fn next_end(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut at = 0;
        while at < bytes.len() {
            match self.state {
                Quoting::Quoted => match memchr::memchr(b'"', &bytes[at..]) {
                    Some(quote) => {
                        at += quote + 1;
                        self.state = Quoting::QuoteInQuoted;
                    }
                    None => return None,
                },
                Quoting::QuoteInQuoted => {
                    let byte = bytes[at];
                    at += 1;
                    self.state = match byte {
                        b'"' => Quoting::Quoted,
                        _ => Quoting::Unquoted {
                            field_start: ends_field(byte),
                        },
                    };
                    if byte == b'\n' {
                        return Some(at);
                    }
                }
                Quoting::Unquoted { field_start } => {
                    let rest = &bytes[at..];
                    let Some(found) = memchr::memchr2(b'"', b'\n', rest) else {
                        if let Some(&last) = rest.last() {
                            self.state = Quoting::Unquoted {
                                field_start: ends_field(last),
                            };
                        }
                        return None;
                    };
                    let starts_field = match found {
                        0 => field_start,
                        _ => ends_field(rest[found - 1]),
                    };
                    at += found + 1;
                    if rest[found] == b'\n' {
                        self.state = Quoting::Unquoted { field_start: true };
                        return Some(at);
                    }
                    // A quote opens a quoted field at its start; elsewhere
                    // it is a character of the field.
                    self.state = match starts_field {
                        true => Quoting::Quoted,
                        false => Quoting::Unquoted { field_start: false },
                    };
                }
            }
        }
        None
    }

    /// The offset just past the last record end in `bytes`, scanning them
    /// all.
    fn last_end(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut last = None;
        let mut from = 0;
        while let Some(end) = self.next_end(&bytes[from..]) {
            from += end;
            last = Some(from);
        }
        last
    }
}

/// One record of a piece: where its fields are. A field is a span of
/// the piece, or, when undoing its quotes changed it (a doubled quote,
/// text after the closing quote), a span of the record's own buffer:
/// fields are not copied otherwise.
#[derive(Debug, Default)]
pub struct Record {
    /// Start and end of each field, and whether in `unquoted`.
    fields: Vec<(usize, usize, bool)>,
    unquoted: Vec<u8>,
    /// Where the record is in its piece (terminator excluded).
    span: std::ops::Range<usize>,
}

impl Record {
    pub fn len(&self) -> usize {
        self.fields.len()
    }
    /// Field `i`, given the piece the record was read from.
    pub fn field<'a>(&'a self, piece: &'a [u8], i: usize) -> Option<&'a [u8]> {
        let &(start, end, unquoted) = self.fields.get(i)?;
        match unquoted {
            true => self.unquoted.get(start..end),
            false => piece.get(start..end),
        }
    }
    /// Field `i` as a span of the piece, if it is one.
    pub fn piece_span(&self, i: usize) -> Option<std::ops::Range<usize>> {
        let &(start, end, unquoted) = self.fields.get(i)?;
        (!unquoted).then_some(start..end)
    }
    /// The offset of the record's first byte in its piece.
    pub fn start(&self) -> usize {
        self.span.start
    }
    /// The record as written in the piece.
    pub fn raw<'p>(&self, piece: &'p [u8]) -> &'p [u8] {
        piece.get(self.span.clone()).unwrap_or_default()
    }
}

/// The records of a piece that starts at a record.
pub struct Records<'p> {
    input: &'p [u8],
    at: usize,
}

impl<'p> Records<'p> {
    pub fn new(input: &'p [u8]) -> Self {
        Self { input, at: 0 }
    }

    /// Reads the next record into `record`; false at the end.
    pub fn next_into(&mut self, record: &mut Record) -> bool {
        let input = self.input;
        // Blank lines (and the LF of a CRLF) are skipped.
        while let Some(b'\r' | b'\n') = input.get(self.at) {
            self.at += 1;
        }
        if self.at >= input.len() {
            return false;
        }
        record.fields.clear();
        record.unquoted.clear();
        let record_start = self.at;
        loop {
            let start = self.at;
            let rest = input.get(start..).unwrap_or_default();
            let end = match rest.first() {
                Some(b'"') => {
                    let (field, end) = quoted_field(rest);
                    record.fields.push(match field {
                        Some(inner) => (start + inner.start, start + inner.end, false),
                        None => {
                            let from = record.unquoted.len();
                            unquote(&rest[..end], &mut record.unquoted);
                            (from, record.unquoted.len(), true)
                        }
                    });
                    end
                }
                _ => {
                    let end = field_end(rest).unwrap_or(rest.len());
                    record.fields.push((start, start + end, false));
                    end
                }
            };
            self.at = start + end;
            // The field ends at a comma (another field follows), at the
            // end of a record, or at the end of the input.
            let delimiter = input.get(self.at).copied();
            if delimiter.is_some() {
                self.at += 1;
            }
            if delimiter != Some(b',') {
                record.span = record_start..start + end;
                return true;
            }
        }
    }
}

/// A field that opens with a quote (`bytes` start with it): where its
/// text is when it is a plain span of `bytes` (None when a doubled quote
/// or text after the closing quote must be undone), and where the field
/// ends (at its delimiter, or the end of `bytes`).
fn quoted_field(bytes: &[u8]) -> (Option<std::ops::Range<usize>>, usize) {
    let mut at = 1;
    let mut plain = true;
    loop {
        let Some(quote) = memchr::memchr(b'"', bytes.get(at..).unwrap_or_default()) else {
            // Unterminated: the field runs to the end.
            return (plain.then_some(1..bytes.len()), bytes.len());
        };
        let quote = at + quote;
        if bytes.get(quote + 1) == Some(&b'"') {
            plain = false;
            at = quote + 2;
            continue;
        }
        let after = bytes.get(quote + 1..).unwrap_or_default();
        let rest = field_end(after).unwrap_or(after.len());
        let end = quote + 1 + rest;
        return ((plain && rest == 0).then_some(1..quote), end);
    }
}

/// The text of a field that opens with a quote, as the csv crate reads
/// it: a doubled quote is one quote, the closing quote is dropped and
/// what follows it kept.
fn unquote(field: &[u8], out: &mut Vec<u8>) {
    let mut at = 1;
    loop {
        let rest = field.get(at..).unwrap_or_default();
        let Some(quote) = memchr::memchr(b'"', rest) else {
            out.extend_from_slice(rest);
            return;
        };
        out.extend_from_slice(&rest[..quote]);
        at += quote + 1;
        if field.get(at) == Some(&b'"') {
            out.push(b'"');
            at += 1;
        } else {
            out.extend_from_slice(field.get(at..).unwrap_or_default());
            return;
        }
    }
}

/// The first delimiter (comma, CR or LF) of `bytes`. Most fields are
/// short ids, for which eight bytes at a time in a register beat setting
/// up a vector search; past the first 32 bytes (texts), memchr searches.
fn field_end(bytes: &[u8]) -> Option<usize> {
    const SHORT: usize = 32;
    let mut at = 0;
    while let Some(word) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        let found = zero_bytes(word ^ spread(b','))
            | zero_bytes(word ^ spread(b'\r'))
            | zero_bytes(word ^ spread(b'\n'));
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
        if at >= SHORT {
            let rest = bytes.get(at..)?;
            return memchr::memchr3(b',', b'\r', b'\n', rest).map(|end| at + end);
        }
    }
    let rest = bytes.get(at..)?;
    let end = rest.iter().position(|&b| ends_field(b))?;
    Some(at + end)
}

/// `byte` in each byte of a word.
const fn spread(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// The high bit set in the zero bytes of `word`. Bits above the lowest
/// zero byte may be set wrongly (a borrow), never bits below it: the
/// lowest set bit marks the first zero byte.
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(spread(1)) & !word & spread(0x80)
}

/// Cuts what `reader` gives into pieces of about `size` bytes (more when
/// a record is longer) that start at a record, and hands each to `send`
/// (false: stop). The first record (the header) is the first piece, alone.
/// On a read error, the records read whole before it are sent, then the
/// error is returned.
pub fn cut(
    reader: &mut dyn BufRead,
    size: usize,
    spare: &mut dyn FnMut() -> Vec<u8>,
    send: &mut dyn FnMut(Vec<u8>) -> bool,
) -> std::io::Result<()> {
    let mut ends = RecordEnds::default();
    let mut buf = spare();
    // Bytes of `buf` scanned, and whether the next cut is the header's.
    let mut scanned = 0;
    let mut header = true;
    let mut eof = false;
    loop {
        // The header ends at the first record end; a piece at the first
        // after `size` bytes.
        let want = if header { 0 } else { size };
        let cut_at = loop {
            if scanned < want {
                let to = want.min(buf.len());
                ends.last_end(&buf[scanned..to]);
                scanned = to;
            }
            if scanned >= want {
                if let Some(end) = ends.next_end(&buf[scanned..]) {
                    scanned += end;
                    break Some(scanned);
                }
                scanned = buf.len();
            }
            if eof {
                break None;
            }
            match fill(reader, &mut buf) {
                Ok(more) => eof = !more,
                Err(e) => {
                    // The records read whole are kept.
                    if let Some(whole) = RecordEnds::default().last_end(&buf) {
                        buf.truncate(whole);
                        send(buf);
                    }
                    return Err(e);
                }
            }
        };
        header = false;
        let Some(cut_at) = cut_at else {
            // The end of the input: the rest is the last piece.
            if !buf.is_empty() {
                send(buf);
            }
            return Ok(());
        };
        let mut next = spare();
        next.extend_from_slice(&buf[cut_at..]);
        buf.truncate(cut_at);
        if !send(std::mem::replace(&mut buf, next)) {
            return Ok(());
        }
        scanned -= cut_at;
    }
}

/// Appends what the reader has; false at the end of the input.
fn fill(reader: &mut dyn BufRead, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    loop {
        match reader.fill_buf() {
            Ok([]) => return Ok(false),
            Ok(bytes) => {
                let n = bytes.len();
                buf.extend_from_slice(bytes);
                reader.consume(n);
                return Ok(true);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records of `bytes` as the CSV reader splits them.
    fn records(bytes: &[u8]) -> Vec<csv::ByteRecord> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        reader.byte_records().map(Result::unwrap).collect()
    }

    /// Rows with quotes at the start of fields and inside them, doubled
    /// quotes, newlines and CRs inside quotes, CRLF, blank lines, a quote
    /// in an unquoted field, text after a closing quote.
    fn awkward_csv(rows: usize, seed: u64) -> Vec<u8> {
        let pieces: [&[u8]; 16] = [
            b"plain",
            b"\"quoted, with comma\"",
            b"\"two\nlines\"",
            b"\"a \"\"quote\"\" inside\"",
            b"mid\"quote",
            b"\"closed\"after",
            b"\"cr\rinside\"",
            b"",
            b"\"\"",
            b"\"\"\"\"",
            b"x\"\"y",
            b"\"ends with quote\"\"\"",
            b"caf\xc3\xa9",
            b"\"\n\"",
            b"a\"",
            b"\"unterminated-looking\"\"\n\"",
        ];
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        let mut out = Vec::new();
        for _ in 0..rows {
            for field in 0..(1 + next() % 4) {
                if field > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(pieces[next() % pieces.len()]);
            }
            out.extend_from_slice(match next() % 5 {
                0 => b"\r\n",
                1 => b"\n\n",
                _ => b"\n",
            });
        }
        out
    }

    fn cut_all(bytes: &[u8], size: usize) -> Vec<Vec<u8>> {
        let mut pieces = Vec::new();
        let mut reader = std::io::BufReader::with_capacity(7, bytes);
        cut(&mut reader, size, &mut Vec::new, &mut |p| {
            pieces.push(p);
            true
        })
        .unwrap();
        pieces
    }

    #[test]
    fn pieces_parsed_apart_give_the_records_of_the_whole() {
        for seed in 0..40 {
            let bytes = awkward_csv(200, seed);
            let whole = records(&bytes);
            for size in [1, 5, 64, 1_000] {
                let pieces = cut_all(&bytes, size);
                assert_eq!(pieces.concat(), bytes, "seed {seed}, size {size}");
                let apart: Vec<csv::ByteRecord> = pieces.iter().flat_map(|p| records(p)).collect();
                assert_eq!(apart, whole, "seed {seed}, size {size}");
                if size == 1 {
                    assert!(pieces.len() > 100, "cut at records");
                }
            }
        }
    }

    /// Every record of `bytes` as `Records` reads it, with its offset.
    fn own_records(bytes: &[u8]) -> Vec<(usize, Vec<Vec<u8>>)> {
        let mut records = Records::new(bytes);
        let mut record = Record::default();
        let mut out = Vec::new();
        while records.next_into(&mut record) {
            let fields = (0..record.len())
                .map(|i| record.field(bytes, i).unwrap().to_vec())
                .collect();
            out.push((record.start(), fields));
        }
        out
    }

    /// The csv crate's records of `bytes`, with the offset where each
    /// starts (past the blank lines and LF the crate places it before).
    fn crate_records(bytes: &[u8]) -> Vec<(usize, Vec<Vec<u8>>)> {
        records(bytes)
            .iter()
            .map(|r| {
                let mut start = r.position().unwrap().byte() as usize;
                while let Some(b'\r' | b'\n') = bytes.get(start) {
                    start += 1;
                }
                (start, r.iter().map(<[u8]>::to_vec).collect())
            })
            .collect()
    }

    #[test]
    fn records_are_split_as_the_csv_crate_splits_them() {
        for seed in 0..40 {
            let bytes = awkward_csv(100, seed);
            assert_eq!(own_records(&bytes), crate_records(&bytes), "seed {seed}");
        }
        // Random strings over the bytes that matter, mostly letters so
        // that fields run past the short scan (24 bytes) into memchr.
        let alphabet = b"aaaaaaaaaaaa,\"\r\n\xc3";
        let mut state = 7u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        for _ in 0..20_000 {
            let len = next() % 80;
            let bytes: Vec<u8> = (0..len)
                .map(|_| alphabet[next() % alphabet.len()])
                .collect();
            assert_eq!(own_records(&bytes), crate_records(&bytes), "{bytes:?}");
        }
    }

    #[test]
    fn the_header_is_a_piece_of_its_own() {
        let pieces = cut_all(b"a,\"b\nc\"\n1,2\n3,4\n", 1 << 20);
        assert_eq!(pieces, [b"a,\"b\nc\"\n".to_vec(), b"1,2\n3,4\n".to_vec()]);
    }

    #[test]
    fn a_read_error_keeps_the_whole_records_before_it() {
        struct Failing<'a>(&'a [u8]);
        impl std::io::Read for Failing<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::Error::other("damaged"));
                }
                let n = buf.len().min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut reader = std::io::BufReader::new(Failing(b"h\n1,\"x\ny\"\n2,z\n3,par"));
        let mut pieces = Vec::new();
        let outcome = cut(&mut reader, 1 << 20, &mut Vec::new, &mut |p| {
            pieces.push(p);
            true
        });
        assert!(outcome.is_err());
        assert_eq!(pieces, [b"h\n".to_vec(), b"1,\"x\ny\"\n2,z\n".to_vec()]);
    }
}
