//! PostgreSQL's binary COPY format, written straight from typed Arrow columns: no text
//! rendering on our side and no text parsing on the server's.
//!
//! Layout: the `PGCOPY\n\xff\r\n\0` signature, a flags word and a header-extension length, then
//! per tuple a 16-bit field count and per field a 32-bit length (-1 for NULL) followed by the
//! value in the type's binary send format; a tuple count of -1 ends the data.

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type, Int64Type, TimestampSecondType};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
/// Days from 1970-01-01 (Arrow) to 2000-01-01 (PostgreSQL).
const PG_EPOCH_DAYS: i32 = 10_957;
const PG_EPOCH_SECS: i64 = PG_EPOCH_DAYS as i64 * 86_400;

/// A COPY payload under construction.
pub struct CopyWriter {
    pub buf: Vec<u8>,
}

impl CopyWriter {
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(1 << 20);
        buf.extend_from_slice(SIGNATURE);
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags
        buf.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        CopyWriter { buf }
    }

    pub fn tuple(&mut self, fields: u16) {
        self.buf.extend_from_slice(&(fields as i16).to_be_bytes());
    }

    pub fn null(&mut self) {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }

    pub fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(&(v.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(v);
    }

    pub fn int4(&mut self, v: i32) {
        self.bytes(&v.to_be_bytes());
    }

    pub fn int8(&mut self, v: i64) {
        self.bytes(&v.to_be_bytes());
    }

    pub fn uuid(&mut self, v: &uuid::Uuid) {
        self.bytes(v.as_bytes());
    }

    /// Row `row` of a typed column, in the binary format of the column type the migration
    /// gives it (text, bigint, boolean, numeric, date, timestamp).
    pub fn value(&mut self, col: &ArrayRef, row: usize) {
        if col.is_null(row) {
            return self.null();
        }
        match col.data_type() {
            DataType::Utf8 => self.bytes(col.as_string::<i32>().value(row).as_bytes()),
            DataType::Int64 => self.int8(col.as_primitive::<Int64Type>().value(row)),
            DataType::Boolean => self.bytes(&[u8::from(col.as_boolean().value(row))]),
            DataType::Date32 => {
                let days = col.as_primitive::<Date32Type>().value(row);
                self.int4(days - PG_EPOCH_DAYS);
            }
            DataType::Timestamp(TimeUnit::Second, _) => {
                let secs = col.as_primitive::<TimestampSecondType>().value(row);
                self.int8((secs - PG_EPOCH_SECS) * 1_000_000);
            }
            DataType::Decimal128(_, scale) => {
                let v = col.as_primitive::<Decimal128Type>().value(row);
                let at = self.buf.len();
                self.buf.extend_from_slice(&0i32.to_be_bytes());
                numeric(v, *scale as u32, &mut self.buf);
                let len = (self.buf.len() - at - 4) as i32;
                self.buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
            }
            other => panic!("no PostgreSQL binary encoding for {other}"),
        }
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }
}

impl Default for CopyWriter {
    fn default() -> Self {
        Self::new()
    }
}

/// `v / 10^scale` in numeric's send format: digit count, weight of the first base-10000
/// digit, sign, display scale, then the digits, without leading or trailing zero digits.
fn numeric(v: i128, scale: u32, out: &mut Vec<u8>) {
    let neg = v < 0;
    let abs = v.unsigned_abs();
    let p = 10u128.pow(scale);
    let (mut int, frac) = (abs / p, abs % p);
    // The fraction as whole base-10000 digits: pad it to a multiple of four decimal places.
    let frac_groups = scale.div_ceil(4);
    let mut frac = frac * 10u128.pow(frac_groups * 4 - scale);
    let mut digits: Vec<i16> = Vec::new();
    let mut frac_digits = Vec::new();
    for _ in 0..frac_groups {
        frac_digits.push((frac % 10_000) as i16);
        frac /= 10_000;
    }
    frac_digits.reverse();
    while int > 0 {
        digits.push((int % 10_000) as i16);
        int /= 10_000;
    }
    digits.reverse();
    let mut weight = digits.len() as i16 - 1;
    digits.extend(frac_digits);
    // Strip zero digits at both ends (a leading zero moves the weight down).
    while digits.first() == Some(&0) {
        digits.remove(0);
        weight -= 1;
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        weight = 0;
    }
    let sign: u16 = if neg && !digits.is_empty() { 0x4000 } else { 0 };
    out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&(scale as i16).to_be_bytes());
    for d in digits {
        out.extend_from_slice(&d.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: i128) -> Vec<i16> {
        let mut out = Vec::new();
        numeric(v, 2, &mut out);
        out.chunks(2)
            .map(|c| i16::from_be_bytes([c[0], c[1]]))
            .collect()
    }

    #[test]
    fn numerics_in_base_10000() {
        // [ndigits, weight, sign, dscale, digits...] of amounts in cents
        assert_eq!(enc(0), vec![0, 0, 0, 2]);
        assert_eq!(enc(1234), vec![2, 0, 0, 2, 12, 3400]);
        assert_eq!(enc(-5), vec![1, -1, 0x4000, 2, 500]);
        assert_eq!(enc(143_366), vec![2, 0, 0, 2, 1433, 6600]);
        assert_eq!(enc(100_000_000), vec![1, 1, 0, 2, 100]);
        assert_eq!(enc(12_345_678_901), vec![4, 2, 0, 2, 1, 2345, 6789, 100]);
    }
}
