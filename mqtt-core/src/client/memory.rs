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

impl Memory<'_> {
    /// Whether the buffer is known to hold only zeros: owned memory is allocated zeroed,
    /// and its pages stay untouched (not resident) until used.
    pub(crate) const fn is_zeroed(&self) -> bool {
        match self {
            Self::Borrowed(_) => false,
            #[cfg(feature = "alloc")]
            Self::Owned(_) => true,
        }
    }
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
