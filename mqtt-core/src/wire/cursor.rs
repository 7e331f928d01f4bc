//! Bounds-checked reading and writing of packet fields; nothing here can panic.

use super::{DecodeError, EncodeError};
use crate::PacketId;

/// Reads fields from the body of one packet.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) const fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        let (&byte, rest) = self.buf.split_first().ok_or(DecodeError::Truncated)?;
        self.buf = rest;
        Ok(byte)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        let (bytes, rest) = self
            .buf
            .split_first_chunk::<2>()
            .ok_or(DecodeError::Truncated)?;
        self.buf = rest;
        Ok(u16::from_be_bytes(*bytes))
    }

    pub(crate) fn packet_id(&mut self) -> Result<PacketId, DecodeError> {
        PacketId::new(self.u16()?).ok_or(DecodeError::ZeroPacketId)
    }

    pub(crate) fn bytes(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        let (bytes, rest) = self
            .buf
            .split_at_checked(len)
            .ok_or(DecodeError::Truncated)?;
        self.buf = rest;
        Ok(bytes)
    }

    /// A field with a two-byte length prefix: binary data, or a string still to be checked.
    pub(crate) fn prefixed(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u16()?;
        self.bytes(usize::from(len))
    }

    /// Everything that is left.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.buf)
    }

    pub(crate) const fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Ends the packet: the remaining length must match its content exactly.
    pub(crate) const fn finish(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }
}

/// Writes the fields of one packet into a buffer already checked to be large enough.
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
}

impl<'a> Writer<'a> {
    /// A writer over exactly the first `len` bytes of `buf`.
    pub(crate) fn new(buf: &'a mut [u8], len: usize) -> Result<Self, EncodeError> {
        match buf.get_mut(..len) {
            Some(buf) => Ok(Self { buf }),
            None => Err(EncodeError::BufferTooSmall { needed: len }),
        }
    }

    pub(crate) fn bytes(&mut self, src: &[u8]) {
        // The buffer was sized from `encoded_len`, so the split cannot fail; if that sum were
        // ever wrong, the field is dropped and `finish` reports it, rather than a panic.
        if let Some((head, tail)) = core::mem::take(&mut self.buf).split_at_mut_checked(src.len()) {
            head.copy_from_slice(src);
            self.buf = tail;
        }
    }

    pub(crate) fn u8(&mut self, value: u8) {
        self.bytes(&[value]);
    }

    pub(crate) fn u16(&mut self, value: u16) {
        self.bytes(&value.to_be_bytes());
    }

    /// A remaining length, written in place; callers guarantee `value <= MAX_REMAINING_LEN`.
    pub(crate) fn varint(&mut self, value: usize) {
        let buf = core::mem::take(&mut self.buf);
        let len = super::header::write_varint_into(buf, value);
        self.buf = buf.get_mut(len..).unwrap_or_default();
    }

    /// A field with a two-byte length prefix; callers guarantee `src.len() <= 65535`.
    pub(crate) fn prefixed(&mut self, src: &[u8]) {
        self.u16(src.len() as u16);
        self.bytes(src);
    }

    /// Whether every byte was written, as `encoded_len` promised.
    pub(crate) const fn is_full(&self) -> bool {
        self.buf.is_empty()
    }
}
