//! The keys a file has already written, for the in-file duplicate check: about 18 bytes per
//! distinct key (a 10-million-row report has about 7.7 million orders: 140 MB).
//!
//! A key is remembered by its 64-bit hash, with the line of its first row (32 bits) and a 32-bit
//! fingerprint of its content packed into one word. The table is 256 open-addressing shards with
//! linear probing, filled up to 84–94 % and grown by 15 % at a time, so little memory sits
//! empty and growing never holds two copies of more than one small shard.

const SHARDS: usize = 256;
const LINE_BITS: u32 = 32;
const LINE_MASK: u64 = (1 << LINE_BITS) - 1;
/// Marks an empty slot; a key hash of 0 is stored as 1.
const EMPTY: u64 = 0;

pub struct SeenKeys {
    shards: Vec<Shard>,
    len: usize,
    /// Past this many keys in memory, they move to `disk`.
    spill_after: Option<usize>,
    disk: Option<Disk>,
}

/// Keys spilled to a temporary SQLite file: a B-tree keyed by the key hash, so memory stays
/// bounded for any number of orders. (SQLite's own "temporary database" may live in memory, so
/// this is a named file in the temp directory, unlinked as soon as it is open.)
struct Disk {
    conn: rusqlite::Connection,
}

impl Disk {
    fn open() -> rusqlite::Result<Disk> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!(
            "ebay-import-keys-{}-{nanos}.db",
            std::process::id()
        ));
        let conn = rusqlite::Connection::open(&path)?;
        // The open connection keeps the file; nothing else needs its name.
        let _ = std::fs::remove_file(&path);
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -8192;
             CREATE TABLE seen (k INTEGER PRIMARY KEY, v INTEGER NOT NULL);",
        )?;
        Ok(Disk { conn })
    }

    fn get(&self, key: u64) -> Option<u64> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT v FROM seen WHERE k = ?1")
            .ok()?;
        stmt.query_row([key as i64], |r| r.get::<_, i64>(0))
            .ok()
            .map(|v| v as u64)
    }

    fn put_all(&mut self, mut entries: Vec<(u64, u64)>) -> rusqlite::Result<()> {
        entries.sort_unstable_by_key(|(k, _)| *k as i64);
        let tx = self.conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("INSERT OR REPLACE INTO seen (k, v) VALUES (?1, ?2)")?;
            for (k, v) in entries {
                stmt.execute([k as i64, v as i64])?;
            }
        }
        tx.commit()
    }
}

#[derive(Default)]
struct Shard {
    keys: Vec<u64>,
    values: Vec<u64>,
    len: usize,
    /// Fill limit in percent. It differs a little between shards, so they do not all grow
    /// (and hold their old and new arrays) at the same moment.
    max_load: usize,
}

/// What is remembered of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub line: u64,
    fingerprint: u64,
}

impl Seen {
    pub fn same_content(&self, content: u64) -> bool {
        self.fingerprint == content >> LINE_BITS
    }
}

impl Default for SeenKeys {
    fn default() -> Self {
        Self::new()
    }
}

impl SeenKeys {
    pub fn new() -> Self {
        SeenKeys {
            shards: Self::empty_shards(),
            len: 0,
            spill_after: None,
            disk: None,
        }
    }

    /// Keeps at most `keys` keys in memory; the rest go to a temporary database on disk.
    pub fn spilling_after(keys: usize) -> Self {
        SeenKeys {
            spill_after: Some(keys.max(1)),
            ..Self::new()
        }
    }

    fn empty_shards() -> Vec<Shard> {
        let shard = |i: usize| Shard {
            max_load: 84 + i * 11 / SHARDS,
            ..Shard::default()
        };
        (0..SHARDS).map(shard).collect()
    }

    fn unpack(packed: u64) -> Seen {
        Seen {
            line: packed & LINE_MASK,
            fingerprint: packed >> LINE_BITS,
        }
    }

    /// Moves every key in memory to disk. A failing temporary database only costs memory: the
    /// keys then stay where they are.
    fn spill(&mut self) {
        if self.disk.is_none() {
            self.disk = Disk::open().ok();
        }
        let Some(disk) = self.disk.as_mut() else {
            self.spill_after = None;
            return;
        };
        let entries: Vec<(u64, u64)> = self
            .shards
            .iter()
            .flat_map(|s| {
                s.keys
                    .iter()
                    .zip(&s.values)
                    .filter(|(k, _)| **k != EMPTY)
                    .map(|(k, v)| (*k, *v))
            })
            .collect();
        if disk.put_all(entries).is_ok() {
            self.shards = Self::empty_shards();
            self.len = 0;
        } else {
            self.spill_after = None;
        }
    }

    fn place(key: u64) -> (usize, u64) {
        let key = if key == EMPTY { 1 } else { key };
        ((key >> 56) as usize % SHARDS, key)
    }

    pub fn get(&self, key: u64) -> Option<Seen> {
        let (shard, key) = Self::place(key);
        let s = &self.shards[shard];
        let packed = match s.find(key) {
            Ok(slot) => Some(s.values[slot]),
            Err(_) => self.disk.as_ref().and_then(|d| d.get(key)),
        };
        packed.map(Self::unpack)
    }

    /// Remembers `key`, first seen at `line` (lines past 2^32 saturate) with `content`.
    pub fn insert(&mut self, key: u64, line: u64, content: u64) {
        let packed = (content >> LINE_BITS << LINE_BITS) | line.min(LINE_MASK);
        let (shard, key) = Self::place(key);
        // A key already on disk gets its new value in memory, which is looked at first.
        if self.shards[shard].insert(key, packed) {
            self.len += 1;
        }
        if self.spill_after.is_some_and(|max| self.len >= max) {
            self.spill();
        }
    }
}

impl Shard {
    /// The key's slot (`Ok`) or the empty slot where it would go (`Err`).
    fn find(&self, key: u64) -> Result<usize, usize> {
        let cap = self.keys.len();
        if cap == 0 {
            return Err(0);
        }
        // Spread the bits the shard choice did not use over the capacity (any size works).
        let mut slot =
            ((u128::from(key.wrapping_mul(0x9e37_79b9_7f4a_7c15)) * cap as u128) >> 64) as usize;
        loop {
            match self.keys[slot] {
                k if k == key => return Ok(slot),
                EMPTY => return Err(slot),
                _ => slot = if slot + 1 == cap { 0 } else { slot + 1 },
            }
        }
    }

    /// Returns whether the key is new here.
    fn insert(&mut self, key: u64, value: u64) -> bool {
        if (self.len + 1) * 100 > self.keys.len() * self.max_load {
            self.grow();
        }
        match self.find(key) {
            Ok(slot) => {
                self.values[slot] = value;
                false
            }
            Err(slot) => {
                self.keys[slot] = key;
                self.values[slot] = value;
                self.len += 1;
                true
            }
        }
    }

    fn grow(&mut self) {
        let cap = (self.keys.len() * 23 / 20).max(64);
        let keys = std::mem::replace(&mut self.keys, vec![EMPTY; cap]);
        let values = std::mem::replace(&mut self.values, vec![0; cap]);
        for (k, v) in keys.into_iter().zip(values) {
            if k != EMPTY {
                let slot = self.find(k).expect_err("keys are unique");
                self.keys[slot] = k;
                self.values[slot] = v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_line_and_content() {
        let mut seen = SeenKeys::new();
        assert_eq!(seen.get(42), None);
        seen.insert(42, 7, 0xdead_beef_0000_0000);
        let s = seen.get(42).unwrap();
        assert_eq!(s.line, 7);
        assert!(s.same_content(0xdead_beef_0000_0000));
        assert!(!s.same_content(0x1ead_beef_0000_0000));
        seen.insert(u64::MAX, 1 << 50, 0);
        assert_eq!(seen.get(u64::MAX).unwrap().line, LINE_MASK);
        seen.insert(0, 3, 0);
        assert_eq!(seen.get(0).unwrap().line, 3);
    }

    #[test]
    fn spilled_keys_are_found_on_disk_and_newer_values_win() {
        let mut seen = SeenKeys::spilling_after(1000);
        let key = |i: u64| i.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ (i << 7);
        for i in 0..5_000u64 {
            seen.insert(key(i), i, 0);
        }
        assert!(seen.disk.is_some());
        assert!(seen.len < 1000);
        for i in (0..5_000u64).step_by(7) {
            assert_eq!(seen.get(key(i)).unwrap().line, i, "key {i}");
        }
        assert!(seen.get(key(9_999)).is_none());
        seen.insert(key(3), 77, 0);
        assert_eq!(seen.get(key(3)).unwrap().line, 77);
    }

    #[test]
    fn holds_many_keys_through_growth() {
        let mut seen = SeenKeys::new();
        let key = |i: u64| i.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ (i << 7);
        for i in 0..200_000u64 {
            seen.insert(key(i), i, 0);
        }
        for i in (0..200_000u64).step_by(997) {
            assert_eq!(seen.get(key(i)).unwrap().line, i);
        }
        assert!(seen.get(key(300_000)).is_none());
    }
}
