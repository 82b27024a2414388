//! How many operations an Automerge change holds, counted before Automerge reads it.
//!
//! A change stores its operations in columns, run-length encoded: a change of a hundred
//! bytes can say "the next 2^62 operations have this action". Automerge walks every
//! operation of a change when it decodes it (and allocates for each when it applies it),
//! so such a change would keep a server thread busy for ever. This reads only the change's
//! header and the run lengths of each column, a walk proportional to its bytes, and stops
//! as soon as a column holds more rows than the caller allows. The format is Automerge's
//! binary change chunk (automerge.org, "Binary Document Format"): magic bytes, checksum,
//! chunk type, length, then dependencies, actor, sequence number, start op, time,
//! message, other actors, the column metadata and the columns.

/// Why a change's operations could not be counted within the allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uncountable {
    /// The bytes are not a well-formed, uncompressed change chunk.
    Damaged,
    /// A column holds more rows than allowed.
    TooMany,
}

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHANGE_CHUNK: u8 = 1;
/// Bit 3 of a column spec: the column is DEFLATE-compressed (never in a change).
const DEFLATED: u64 = 0b1000;

/// The most rows any column of the change `bytes` holds (every column has one row per
/// operation, or per element of a group), if at most `allowed`.
pub fn operations_in_change(bytes: &[u8], allowed: u64) -> Result<u64, Uncountable> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(4)? != MAGIC {
        return Err(Uncountable::Damaged);
    }
    r.take(4)?; // checksum
    if r.take(1)? != [CHANGE_CHUNK] {
        return Err(Uncountable::Damaged);
    }
    let length = r.uleb()?;
    if length != (bytes.len() - r.at) as u64 {
        return Err(Uncountable::Damaged);
    }
    let dependencies = r.uleb()?;
    r.skip(dependencies.checked_mul(32).ok_or(Uncountable::Damaged)?)?;
    r.length_prefixed()?; // actor
    r.uleb()?; // sequence number
    r.uleb()?; // start op
    r.leb()?; // time
    r.length_prefixed()?; // message
    for _ in 0..r.uleb()? {
        r.length_prefixed()?; // other actors
    }
    let columns = r.uleb()?;
    let mut specs = Vec::new();
    for _ in 0..columns {
        let (spec, length) = (r.uleb()?, r.uleb()?);
        if spec & DEFLATED != 0 {
            return Err(Uncountable::Damaged);
        }
        specs.push((spec, length));
    }
    let mut most = 0;
    for (spec, length) in specs {
        let data = r.take(length)?;
        most = most.max(rows(spec & 0b111, data, allowed)?);
    }
    Ok(most)
}

/// Rows of one column of type `column_type` (Automerge's numbering).
fn rows(column_type: u64, data: &[u8], allowed: u64) -> Result<u64, Uncountable> {
    let mut r = Reader { bytes: data, at: 0 };
    let mut rows: u64 = 0;
    let mut add = |n: u64| {
        rows = rows.checked_add(n).filter(|total| *total <= allowed).ok_or(Uncountable::TooMany)?;
        Ok::<(), Uncountable>(())
    };
    match column_type {
        // Booleans: alternating run lengths, false first.
        4 => {
            while !r.done() {
                add(r.uleb()?)?;
            }
        }
        // Raw values: as many as the value metadata column says, bounded by their bytes.
        7 => {}
        // Run-length encoded (group counts, actors, integers, deltas, strings, value
        // metadata): a run of n copies of one value, n literal values, or n nulls.
        _ => {
            let skip_value = |r: &mut Reader| if column_type == 5 { r.length_prefixed() } else { r.leb().map(|_| ()) };
            while !r.done() {
                let count = r.leb()?;
                if count > 0 {
                    add(count as u64)?;
                    skip_value(&mut r)?;
                } else if count < 0 {
                    let literals = count.unsigned_abs();
                    add(literals)?;
                    for _ in 0..literals {
                        skip_value(&mut r)?;
                    }
                } else {
                    add(r.uleb()?)?;
                }
            }
        }
    }
    Ok(rows)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], Uncountable> {
        let end = usize::try_from(n).ok().and_then(|n| self.at.checked_add(n)).filter(|end| *end <= self.bytes.len());
        let end = end.ok_or(Uncountable::Damaged)?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn skip(&mut self, n: u64) -> Result<(), Uncountable> {
        self.take(n).map(|_| ())
    }

    fn length_prefixed(&mut self) -> Result<(), Uncountable> {
        let length = self.uleb()?;
        self.skip(length)
    }

    /// An unsigned LEB128 number of at most 64 bits.
    fn uleb(&mut self) -> Result<u64, Uncountable> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Uncountable::Damaged)
    }

    /// A signed LEB128 number of at most 64 bits.
    fn leb(&mut self) -> Result<i64, Uncountable> {
        let mut value: i64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            value |= i64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                if shift + 7 < 64 && byte & 0x40 != 0 {
                    value |= -1 << (shift + 7);
                }
                return Ok(value);
            }
        }
        Err(Uncountable::Damaged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;

    fn change_of(edit: impl FnOnce(&mut automerge::AutoCommit)) -> Vec<u8> {
        let mut doc = automerge::AutoCommit::new().with_actor(automerge::ActorId::from(vec![7u8; 16]));
        edit(&mut doc);
        doc.commit();
        let change = doc.get_changes(&[]).into_iter().last().unwrap().raw_bytes().to_vec();
        change
    }

    #[test]
    fn real_changes_count_their_operations() {
        let one = change_of(|d| {
            d.put(automerge::ROOT, "households", 12_i64).unwrap();
        });
        assert_eq!(operations_in_change(&one, 100), Ok(1));
        let list = change_of(|d| {
            let list = d.put_object(automerge::ROOT, "team_members", automerge::ObjType::List).unwrap();
            for (i, name) in ["Ana", "Ben", "Carla"].into_iter().enumerate() {
                d.insert(&list, i, name).unwrap();
            }
            d.put(automerge::ROOT, "community", "Poblacion").unwrap();
        });
        assert_eq!(operations_in_change(&list, 100), Ok(5));
        assert_eq!(operations_in_change(&list, 4), Err(Uncountable::TooMany));
    }

    /// A change chunk made by hand: one column of `spec`, holding `column`.
    pub(crate) fn chunk_with_column(spec: u8, column: &[u8]) -> Vec<u8> {
        let mut data = vec![0, 16];
        data.extend([7u8; 16]); // actor
        data.extend([1, 1, 0, 0, 0]); // seq, start op, time, message, other actors
        data.extend([1, spec, column.len() as u8]);
        data.extend(column);
        let mut chunk = MAGIC.to_vec();
        chunk.extend([0, 0, 0, 0, CHANGE_CHUNK, data.len() as u8]);
        chunk.extend(data);
        chunk
    }

    #[test]
    fn a_run_that_claims_billions_of_operations_is_refused_at_once() {
        // The action column (id 4, unsigned integers): a run of 2^60 copies of action 1.
        let run = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 1];
        assert_eq!(operations_in_change(&chunk_with_column(4 << 4 | 2, &run), 1_000_000), Err(Uncountable::TooMany));
        // The same as nulls, as booleans, and as a literal run that the bytes cannot hold.
        let nulls = [0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
        assert_eq!(operations_in_change(&chunk_with_column(4 << 4 | 2, &nulls), 1_000_000), Err(Uncountable::TooMany));
        let falses = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
        assert_eq!(operations_in_change(&chunk_with_column(3 << 4 | 4, &falses), 1_000_000), Err(Uncountable::TooMany));
        let literals = [0x7f, 1, 2];
        assert_eq!(operations_in_change(&chunk_with_column(4 << 4 | 2, &literals), 1_000_000), Err(Uncountable::Damaged));
        // A DEFLATE-compressed column never comes from Automerge in a change.
        assert_eq!(operations_in_change(&chunk_with_column(4 << 4 | 2 | 8, &[2, 1]), 1_000_000), Err(Uncountable::Damaged));
        assert_eq!(operations_in_change(&chunk_with_column(4 << 4 | 2, &[2, 1]), 1_000_000), Ok(2));
    }

    #[test]
    fn damaged_bytes_are_refused_and_never_panic() {
        let real = change_of(|d| {
            d.put(automerge::ROOT, "community", "Poblacion").unwrap();
        });
        for cut in 0..real.len() {
            assert_eq!(operations_in_change(&real[..cut], 100), Err(Uncountable::Damaged), "cut at {cut}");
        }
        let mut flipped = real.clone();
        for at in 0..flipped.len() {
            flipped[at] ^= 0xff;
            let _ = operations_in_change(&flipped, 100);
            flipped[at] ^= 0xff;
        }
    }
}
