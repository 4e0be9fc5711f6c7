//! TFRecord framing, the container of TensorBoard's event files. A record is the data's length
//! (u64, little-endian), the masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C
//! of the data (TensorFlow's `core/lib/io/record_writer.cc`; read back by tensorboard's
//! `data/server/tf_record.rs` and its Python `tensorflow_stub`).

use std::ops::Range;

/// The masked CRC-32C (Castagnoli) of `bytes`: LevelDB's rotation plus a constant, which
/// TFRecords use because "it is problematic to compute the CRC of a string that contains
/// embedded CRCs" (tensorboard's `data/server/masked_crc.rs`).
pub fn masked_crc32c(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Appends one record holding `data` to `out`.
pub fn frame(data: &[u8], out: &mut Vec<u8>) {
    let len = (data.len() as u64).to_le_bytes();
    out.reserve(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc32c(data).to_le_bytes());
}

/// The records of a file's bytes, in order.
#[derive(Debug, PartialEq)]
pub struct Records {
    /// Each record's whole frame (header, data and trailer) and its data, as ranges of the bytes.
    pub frames: Vec<(Range<usize>, Range<usize>)>,
    /// The bytes after the last good record: a record cut short by a kill, or damaged. Readers
    /// stop there (tensorboard treats a short tail as "not written yet"), so nothing after it
    /// would ever be read.
    pub torn_tail: bool,
}

/// Splits `bytes` into records, up to the first one that is incomplete or fails its checksums.
pub fn records(bytes: &[u8]) -> Records {
    let mut frames = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let Some(data) = record_at(bytes, at) else {
            return Records {
                frames,
                torn_tail: true,
            };
        };
        let end = data.end + 4;
        frames.push((at..end, data));
        at = end;
    }
    Records {
        frames,
        torn_tail: false,
    }
}

/// The data range of the record starting at `at`, when it is whole and its checksums match.
fn record_at(bytes: &[u8], at: usize) -> Option<Range<usize>> {
    let header = bytes.get(at..at + 12)?;
    let (len, len_crc) = header.split_at(8);
    if masked_crc32c(len) != u32::from_le_bytes(len_crc.try_into().ok()?) {
        return None;
    }
    let len = usize::try_from(u64::from_le_bytes(len.try_into().ok()?)).ok()?;
    let data = at + 12..(at + 12).checked_add(len)?;
    let trailer = bytes.get(data.end..data.end.checked_add(4)?)?;
    let payload = bytes.get(data.clone())?;
    (masked_crc32c(payload) == u32::from_le_bytes(trailer.try_into().ok()?)).then_some(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_crc_matches_known_values() {
        // RFC 3720 (iSCSI), B.4: CRC-32C of 32 zero bytes is 0x8a9136aa; masked by hand.
        let crc: u32 = 0x8a91_36aa;
        let masked = crc.rotate_right(15).wrapping_add(0xa282_ead8);
        assert_eq!(masked_crc32c(&[0; 32]), masked);
        // A record of a real TensorFlow event file (Event{file_version: "CRC test, one two"}),
        // the value tensorboard's own reader checks against.
        assert_eq!(masked_crc32c(b"\x1a\x11CRC test, one two"), 0x5794_d08a);
    }

    #[test]
    fn frames_read_back_and_a_torn_tail_is_found() {
        let mut bytes = Vec::new();
        frame(b"first", &mut bytes);
        frame(b"", &mut bytes);
        frame(b"third record", &mut bytes);
        let whole = records(&bytes);
        assert!(!whole.torn_tail);
        let datas: Vec<&[u8]> = whole
            .frames
            .iter()
            .map(|(_, d)| &bytes[d.clone()])
            .collect();
        assert_eq!(datas, [&b"first"[..], b"", b"third record"]);
        assert_eq!(whole.frames.last().unwrap().0.end, bytes.len());

        type Case = (fn(&mut Vec<u8>), usize, &'static str);
        let cases: [Case; 3] = [
            (
                |b| b.truncate(b.len() - 3),
                2,
                "last record cut short (killed mid-write)",
            ),
            (
                |b| b.truncate(b.len() - 20),
                2,
                "cut inside the last record's data",
            ),
            (
                |b| {
                    let n = b.len();
                    b[n - 6] ^= 1
                },
                2,
                "a flipped bit in the last record's data",
            ),
        ];
        for (damage, kept, why) in cases {
            let mut b = bytes.clone();
            damage(&mut b);
            let got = records(&b);
            assert!(got.torn_tail, "{why}");
            assert_eq!(got.frames.len(), kept, "{why}");
        }
    }
}
