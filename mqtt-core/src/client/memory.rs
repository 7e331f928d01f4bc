//! The engine's two buffers: borrowed from the caller, or, with the `alloc` feature, owned.

use core::ops::{Deref, DerefMut};

/// A buffer the engine works in. Borrowed on microcontrollers (static buffers); owned by
/// host bindings, so that a client can live in a shared, `'static` place.
#[derive(Debug)]
pub(crate) enum Memory<'b> {
    Borrowed(&'b mut [u8]),
    #[cfg(feature = "alloc")]
    Owned(alloc::boxed::Box<[u8]>),
}

impl Default for Memory<'_> {
    fn default() -> Self {
        Self::Borrowed(&mut [])
    }
}

impl Deref for Memory<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Self::Borrowed(buf) => buf,
            #[cfg(feature = "alloc")]
            Self::Owned(buf) => buf,
        }
    }
}

impl DerefMut for Memory<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        match self {
            Self::Borrowed(buf) => buf,
            #[cfg(feature = "alloc")]
            Self::Owned(buf) => buf,
        }
    }
}
