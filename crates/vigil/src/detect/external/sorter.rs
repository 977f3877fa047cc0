//! External merge sort: records are buffered up to a memory budget, sorted
//! and written to run files in a spill directory, then merged. Memory is
//! the budget plus a read buffer per run being merged.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use rayon::prelude::*;

/// A record that can go to disk and come back.
pub trait Record: Ord + Clone + Send + Sized {
    fn encode(&self, out: &mut Vec<u8>);
    /// The next record, or `None` at a clean end of input.
    fn decode(input: &mut impl BufRead) -> std::io::Result<Option<Self>>;
    /// Approximate bytes the record holds in memory.
    fn size(&self) -> usize;
}

/// Runs merged at once; more are merged in passes.
const FAN_IN: usize = 64;
const RUN_BUFFER: usize = 256 * 1024;

/// A directory of run files, removed with everything in it when dropped.
pub struct SpillDir {
    path: PathBuf,
    next: AtomicUsize,
}

impl SpillDir {
    pub fn new(parent: &Path) -> anyhow::Result<Arc<Self>> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = parent.join(format!("vigil-detect-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create the spill directory {}", path.display()))?;
        Ok(Arc::new(Self {
            path,
            next: AtomicUsize::new(0),
        }))
    }

    fn new_file(&self) -> PathBuf {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.path.join(format!("run-{n}"))
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Sorts records of any number, keeping at most `budget` bytes of them in
/// memory.
pub struct Sorter<T: Record> {
    dir: Arc<SpillDir>,
    budget: usize,
    used: usize,
    dedup: bool,
    buffer: Vec<T>,
    runs: Vec<PathBuf>,
    /// Records pushed.
    pub len: u64,
}

impl<T: Record> Sorter<T> {
    /// `dedup`: equal records are kept once.
    pub fn new(dir: Arc<SpillDir>, budget: usize, dedup: bool) -> Self {
        Self {
            dir,
            budget: budget.max(1 << 16),
            used: 0,
            dedup,
            buffer: Vec::new(),
            runs: Vec::new(),
            len: 0,
        }
    }

    pub fn push(&mut self, record: T) -> anyhow::Result<()> {
        self.used += record.size() + std::mem::size_of::<T>();
        self.buffer.push(record);
        self.len += 1;
        if self.used >= self.budget {
            self.spill()?;
        }
        Ok(())
    }

    fn sort_buffer(&mut self) {
        self.buffer.par_sort_unstable();
        if self.dedup {
            self.buffer.dedup();
        }
    }

    fn spill(&mut self) -> anyhow::Result<()> {
        self.sort_buffer();
        let path = self.dir.new_file();
        write_run(&path, std::mem::take(&mut self.buffer))?;
        self.runs.push(path);
        self.used = 0;
        Ok(())
    }

    /// Every record pushed, in order.
    pub fn finish(mut self) -> anyhow::Result<Sorted<T>> {
        if self.runs.is_empty() {
            self.sort_buffer();
            return Ok(Sorted::Memory(std::mem::take(&mut self.buffer).into_iter()));
        }
        if !self.buffer.is_empty() {
            self.spill()?;
        }
        let mut runs = std::mem::take(&mut self.runs);
        while runs.len() > FAN_IN {
            let mut next = Vec::new();
            for group in runs.chunks(FAN_IN) {
                let mut merge = Merge::<T>::open(group, self.dedup)?;
                let path = self.dir.new_file();
                let mut out = BufWriter::with_capacity(RUN_BUFFER, create(&path)?);
                let mut bytes = Vec::new();
                while let Some(record) = merge.next_record()? {
                    bytes.clear();
                    record.encode(&mut bytes);
                    out.write_all(&bytes).with_context(|| spill_error(&path))?;
                }
                out.flush().with_context(|| spill_error(&path))?;
                for done in group {
                    let _ = std::fs::remove_file(done);
                }
                next.push(path);
            }
            runs = next;
        }
        Ok(Sorted::Merge(Merge::open(&runs, self.dedup)?))
    }
}

fn spill_error(path: &Path) -> String {
    format!(
        "cannot write the spill file {} (is the disk full? see --temp-dir)",
        path.display()
    )
}

fn create(path: &Path) -> anyhow::Result<File> {
    File::create(path).with_context(|| spill_error(path))
}

fn write_run<T: Record>(path: &Path, records: Vec<T>) -> anyhow::Result<()> {
    let mut out = BufWriter::with_capacity(RUN_BUFFER, create(path)?);
    let mut bytes = Vec::new();
    for record in records {
        bytes.clear();
        record.encode(&mut bytes);
        out.write_all(&bytes).with_context(|| spill_error(path))?;
    }
    out.flush().with_context(|| spill_error(path))
}

/// Sorted records, from memory or merged from runs.
pub enum Sorted<T: Record> {
    Memory(std::vec::IntoIter<T>),
    Merge(Merge<T>),
}

impl<T: Record> Sorted<T> {
    pub fn next_record(&mut self) -> anyhow::Result<Option<T>> {
        match self {
            Sorted::Memory(records) => Ok(records.next()),
            Sorted::Merge(merge) => merge.next_record(),
        }
    }
}

/// A k-way merge of sorted run files.
pub struct Merge<T: Record> {
    readers: Vec<(BufReader<File>, PathBuf)>,
    heap: BinaryHeap<Reverse<(T, usize)>>,
    dedup: bool,
    last: Option<T>,
}

impl<T: Record> Merge<T> {
    fn open(paths: &[PathBuf], dedup: bool) -> anyhow::Result<Self> {
        let mut merge = Self {
            readers: Vec::with_capacity(paths.len()),
            heap: BinaryHeap::with_capacity(paths.len()),
            dedup,
            last: None,
        };
        for path in paths {
            let file = File::open(path)
                .with_context(|| format!("cannot read the spill file {}", path.display()))?;
            merge
                .readers
                .push((BufReader::with_capacity(RUN_BUFFER, file), path.clone()));
            merge.refill(merge.readers.len() - 1)?;
        }
        Ok(merge)
    }

    fn refill(&mut self, run: usize) -> anyhow::Result<()> {
        let Some((reader, path)) = self.readers.get_mut(run) else {
            return Ok(());
        };
        if let Some(record) = T::decode(reader)
            .with_context(|| format!("the spill file {} is damaged", path.display()))?
        {
            self.heap.push(Reverse((record, run)));
        }
        Ok(())
    }

    pub fn next_record(&mut self) -> anyhow::Result<Option<T>> {
        loop {
            let Some(Reverse((record, run))) = self.heap.pop() else {
                return Ok(None);
            };
            self.refill(run)?;
            if self.dedup {
                if self.last.as_ref() == Some(&record) {
                    continue;
                }
                self.last = Some(record.clone());
            }
            return Ok(Some(record));
        }
    }
}

// Encoding helpers: little-endian integers, length-prefixed strings.

pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}
pub fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

/// Reads exactly `N` bytes; `None` only at the very end of the input.
fn read_array<const N: usize>(input: &mut impl BufRead) -> std::io::Result<Option<[u8; N]>> {
    let mut buf = [0u8; N];
    let mut filled = 0;
    while filled < N {
        let n = input.read(&mut buf[filled..])?;
        if n == 0 {
            return if filled == 0 {
                Ok(None)
            } else {
                Err(std::io::ErrorKind::UnexpectedEof.into())
            };
        }
        filled += n;
    }
    Ok(Some(buf))
}

/// The first field of a record: `None` at a clean end of input.
pub fn first_u32(input: &mut impl BufRead) -> std::io::Result<Option<u32>> {
    Ok(read_array::<4>(input)?.map(u32::from_le_bytes))
}
pub fn get_u32(input: &mut impl BufRead) -> std::io::Result<u32> {
    first_u32(input)?.ok_or_else(|| std::io::ErrorKind::UnexpectedEof.into())
}
pub fn get_u64(input: &mut impl BufRead) -> std::io::Result<u64> {
    read_array::<8>(input)?
        .map(u64::from_le_bytes)
        .ok_or_else(|| std::io::ErrorKind::UnexpectedEof.into())
}
pub fn get_str(input: &mut impl BufRead) -> std::io::Result<String> {
    let len = get_u32(input)? as usize;
    string_of(input, len)
}
pub fn string_of(input: &mut impl BufRead, len: usize) -> std::io::Result<String> {
    let mut bytes = vec![0u8; len];
    input.read_exact(&mut bytes)?;
    String::from_utf8(bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(PartialEq, Eq, PartialOrd, Ord, Debug, Clone)]
    struct Word(String);

    impl Record for Word {
        fn encode(&self, out: &mut Vec<u8>) {
            put_str(out, &self.0);
        }
        fn decode(input: &mut impl BufRead) -> std::io::Result<Option<Self>> {
            let Some(len) = first_u32(input)? else {
                return Ok(None);
            };
            Ok(Some(Word(string_of(input, len as usize)?)))
        }
        fn size(&self) -> usize {
            self.0.len()
        }
    }

    fn sorted(words: &[String], budget: usize, dedup: bool) -> Vec<String> {
        let parent = std::env::temp_dir();
        let dir = SpillDir::new(&parent).unwrap();
        let mut sorter = Sorter::new(dir.clone(), budget, dedup);
        for w in words {
            sorter.push(Word(w.clone())).unwrap();
        }
        let mut out = Vec::new();
        let mut merged = sorter.finish().unwrap();
        while let Some(Word(w)) = merged.next_record().unwrap() {
            out.push(w);
        }
        out
    }

    #[test]
    fn sorts_in_memory_on_disk_and_in_passes() {
        let words: Vec<String> = (0..200_000u64)
            .map(|i| format!("w{}", i.wrapping_mul(2_654_435_761) % 50_000))
            .collect();
        let mut expected = words.clone();
        expected.sort();
        // In memory, many runs, and more runs than one merge takes (passes).
        for budget in [usize::MAX, 1 << 20, 1 << 16] {
            assert_eq!(sorted(&words, budget, false), expected, "budget {budget}");
        }
        let mut unique = expected.clone();
        unique.dedup();
        assert_eq!(sorted(&words, 1 << 16, true), unique);
    }

    #[test]
    fn the_spill_directory_is_removed() {
        let dir = SpillDir::new(&std::env::temp_dir()).unwrap();
        let path = dir.path.clone();
        std::fs::write(dir.new_file(), b"x").unwrap();
        drop(dir);
        assert!(!path.exists());
    }
}
