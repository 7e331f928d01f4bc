//! Validated MQTT strings, topic names and topic filters, and filter matching.
//!
//! Each type is checked once, when it is built, so holding one is proof that the rules hold:
//! well-formed UTF-8 without U+0000 [MQTT-1.5.3-1/2], at most 65,535 bytes [MQTT-4.7.3-3],
//! and for topics, the wildcard rules of [MQTT-4.7.1-1/2/3] and [MQTT-4.7.3-1].

use core::fmt;

/// Why a string is not a valid MQTT string, topic name or topic filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StringError {
    /// Not well-formed UTF-8, or an encoded surrogate [MQTT-1.5.3-1].
    #[error("not well-formed UTF-8 [MQTT-1.5.3-1]")]
    InvalidUtf8,
    /// Contains U+0000 [MQTT-1.5.3-2].
    #[error("contains U+0000 [MQTT-1.5.3-2]")]
    ContainsNul,
    /// Longer than 65,535 bytes [MQTT-4.7.3-3].
    #[error("longer than 65535 bytes")]
    TooLong,
    /// A topic name or filter must have at least one character [MQTT-4.7.3-1].
    #[error("empty topic [MQTT-4.7.3-1]")]
    EmptyTopic,
    /// A topic name contains `+` or `#` [MQTT-3.3.2-2, MQTT-4.7.1-1].
    #[error("wildcard in a topic name [MQTT-3.3.2-2]")]
    WildcardInTopicName,
    /// `#` is not alone in the last level, or `+` does not fill a whole level
    /// [MQTT-4.7.1-2/3].
    #[error("misplaced wildcard in a topic filter [MQTT-4.7.1-2/3]")]
    InvalidWildcard,
}

/// The longest string MQTT can carry: its length prefix is 16 bits.
const MAX_LEN: usize = u16::MAX as usize;

/// What one pass over a string found.
#[derive(Clone, Copy)]
struct Scan {
    /// A U+0000, `+` or `#` byte.
    special: bool,
}

/// Looks for U+0000, `+` and `#` in one pass, eight bytes at a time.
///
/// Topics are short and sit at arbitrary offsets in a packet, so this word-at-a-time test
/// (SWAR) is much cheaper than byte loops. `#` (0x23) and `+` (0x2B) differ only in bit 3, so
/// setting that bit lets one comparison find both. Callers find out which byte it was, on the
/// rare failure, with a plain scan.
#[inline]
fn scan(bytes: &[u8]) -> Scan {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const BIT3: u64 = u64::from_ne_bytes([0x08; 8]);
    const PLUS: u64 = u64::from_ne_bytes([b'+'; 8]);
    // High bit set in some byte iff a byte of `word` is zero or one of `+`, `#`.
    let test = |word: [u8; 8]| {
        let word = u64::from_ne_bytes(word);
        let wild = (word | BIT3) ^ PLUS;
        (word.wrapping_sub(ONES) & !word) | (wild.wrapping_sub(ONES) & !wild)
    };
    let (words, tail) = bytes.as_chunks::<8>();
    let mut special = words.iter().fold(0, |acc, &word| acc | test(word));
    if !tail.is_empty() {
        special |= match bytes.last_chunk::<8>() {
            // The last eight bytes, overlapping words already tested.
            Some(&word) => test(word),
            None => {
                tail.iter()
                    .fold(0, |acc, &b| acc | u64::from(b == 0 || b | 0x08 == b'+'))
                    << 7
            }
        };
    }
    Scan {
        special: special & HIGHS != 0,
    }
}

/// Whether `bytes` holds U+0000, `+` or `#`.
#[cfg(test)]
fn has_nul_or_wildcard(bytes: &[u8]) -> bool {
    scan(bytes).special
}

/// Checks UTF-8 well-formedness and U+0000, and returns `bytes` as `str`.
fn to_str(bytes: &[u8], found: Scan) -> Result<&str, StringError> {
    let text = core::str::from_utf8(bytes).map_err(|_| StringError::InvalidUtf8)?;
    check_nul(bytes, found)?;
    Ok(text)
}

/// U+0000 can only appear as the byte 0: UTF-8 never uses it inside a longer sequence. (A
/// plain loop, not `contains`: this runs only on the rare suspect string, and `memchr` would
/// cost microcontroller users 170 bytes of flash.)
fn check_nul(bytes: &[u8], found: Scan) -> Result<(), StringError> {
    if found.special {
        for &byte in bytes {
            if byte == 0 {
                return Err(StringError::ContainsNul);
            }
        }
    }
    Ok(())
}

fn check_utf8(bytes: &[u8]) -> Result<&str, StringError> {
    if bytes.len() > MAX_LEN {
        return Err(StringError::TooLong);
    }
    to_str(bytes, scan(bytes))
}

/// A UTF-8 string as MQTT carries it: no U+0000, at most 65,535 bytes.
///
/// Used for the client identifier and the user name.
///
/// ```
/// use mqtt_core::MqttStr;
/// assert_eq!(MqttStr::new("sensor-7").map(MqttStr::as_str), Ok("sensor-7"));
/// assert!(MqttStr::new("a\0b").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MqttStr<'a>(&'a str);

impl<'a> MqttStr<'a> {
    /// Checks `text` against the MQTT string rules.
    pub fn new(text: &'a str) -> Result<Self, StringError> {
        check_utf8(text.as_bytes()).map(Self)
    }

    /// Checks raw bytes against the MQTT string rules, including UTF-8 well-formedness.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, StringError> {
        check_utf8(bytes).map(Self)
    }

    /// The string.
    pub const fn as_str(self) -> &'a str {
        self.0
    }
}

/// A topic name, as published to: no wildcards, at least one character.
///
/// ```
/// use mqtt_core::TopicName;
/// assert!(TopicName::new("sensors/7/temperature").is_ok());
/// assert!(TopicName::new("sensors/+/temperature").is_err()); // [MQTT-3.3.2-2]
/// assert!(TopicName::new("").is_err()); // [MQTT-4.7.3-1]
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TopicName<'a>(&'a str);

impl<'a> TopicName<'a> {
    /// Checks `name` against the topic name rules.
    pub fn new(name: &'a str) -> Result<Self, StringError> {
        Self::from_bytes(name.as_bytes())
    }

    /// Checks raw bytes against the topic name rules, including UTF-8 well-formedness.
    #[inline(always)] // On the hot path of every received PUBLISH.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, StringError> {
        let found = Self::check_rules(bytes)?;
        to_str(bytes, found).map(Self)
    }

    /// Checks every rule without producing the string: `from_utf8` runs only when the name
    /// is not plain ASCII. For a name to be built later with [`from_checked`](Self::from_checked).
    #[inline(always)]
    pub(crate) fn check(bytes: &[u8]) -> Result<(), StringError> {
        let found = Self::check_rules(bytes)?;
        if !bytes.is_ascii() {
            core::str::from_utf8(bytes).map_err(|_| StringError::InvalidUtf8)?;
        }
        check_nul(bytes, found)
    }

    /// A name from bytes that passed [`check`](Self::check); `None` cannot happen.
    #[inline(always)]
    pub(crate) fn from_checked(bytes: &'a [u8]) -> Option<Self> {
        core::str::from_utf8(bytes).ok().map(Self)
    }

    /// Length and wildcard rules, and the scan the other checks use.
    #[inline(always)]
    fn check_rules(bytes: &[u8]) -> Result<Scan, StringError> {
        if bytes.is_empty() {
            return Err(StringError::EmptyTopic);
        }
        if bytes.len() > MAX_LEN {
            return Err(StringError::TooLong);
        }
        let found = scan(bytes);
        if found.special && bytes.iter().any(|&b| b == b'+' || b == b'#') {
            return Err(StringError::WildcardInTopicName);
        }
        Ok(found)
    }

    /// The name.
    pub const fn as_str(self) -> &'a str {
        self.0
    }
}

/// A topic filter, as subscribed to: `+` fills one whole level, `#` is alone in the last.
///
/// ```
/// use mqtt_core::TopicFilter;
/// assert!(TopicFilter::new("sensors/+/temperature").is_ok());
/// assert!(TopicFilter::new("sensors/#").is_ok());
/// assert!(TopicFilter::new("sensors/#/x").is_err()); // [MQTT-4.7.1-2]
/// assert!(TopicFilter::new("sensors+").is_err()); // [MQTT-4.7.1-3]
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TopicFilter<'a>(&'a str);

impl<'a> TopicFilter<'a> {
    /// Checks `filter` against the topic filter rules.
    pub fn new(filter: &'a str) -> Result<Self, StringError> {
        Self::from_bytes(filter.as_bytes())
    }

    /// Checks raw bytes against the topic filter rules, including UTF-8 well-formedness.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, StringError> {
        if bytes.is_empty() {
            return Err(StringError::EmptyTopic);
        }
        if bytes.len() > MAX_LEN {
            return Err(StringError::TooLong);
        }
        let found = scan(bytes);
        if found.special {
            let mut levels = levels(bytes).peekable();
            while let Some(level) = levels.next() {
                let wild = level.iter().any(|&b| b == b'+' || b == b'#');
                let valid = !wild || level == b"+" || (level == b"#" && levels.peek().is_none());
                if !valid {
                    return Err(StringError::InvalidWildcard);
                }
            }
        }
        to_str(bytes, found).map(Self)
    }

    /// The filter.
    pub const fn as_str(self) -> &'a str {
        self.0
    }

    /// Whether the filter contains `+` or `#`.
    pub fn has_wildcards(self) -> bool {
        self.0.bytes().any(|b| b == b'+' || b == b'#')
    }
}

/// Whether `name` matches `filter`, by the rules of MQTT 3.1.1 section 4.7.
///
/// A filter that starts with a wildcard does not match a name that starts with `$`
/// [MQTT-4.7.2-1], and `sport/#` also matches its parent `sport`.
///
/// ```
/// use mqtt_core::{TopicFilter, TopicName, topic_matches};
/// let matches = |f, n| topic_matches(TopicFilter::new(f).unwrap(), TopicName::new(n).unwrap());
/// assert!(matches("sport/+/player1", "sport/tennis/player1"));
/// assert!(matches("sport/#", "sport"));
/// assert!(!matches("sport/+", "sport"));
/// assert!(!matches("#", "$SYS/uptime"));
/// assert!(matches("$SYS/#", "$SYS/uptime"));
/// ```
pub fn topic_matches(filter: TopicFilter<'_>, name: TopicName<'_>) -> bool {
    let (filter, name) = (filter.as_str().as_bytes(), name.as_str().as_bytes());
    if name.first() == Some(&b'$') && matches!(filter.first(), Some(b'+' | b'#')) {
        return false;
    }
    let mut filter_levels = levels(filter);
    let mut name_levels = levels(name);
    loop {
        match (filter_levels.next(), name_levels.next()) {
            (Some(b"#"), _) | (None, None) => return true,
            (Some(b"+"), Some(_)) => {}
            (Some(f), Some(n)) if f == n => {}
            _ => return false,
        }
    }
}

/// The levels of a topic name or filter: the pieces between `/` separators.
fn levels(topic: &[u8]) -> impl Iterator<Item = &[u8]> {
    topic.split(|&b| b == b'/')
}

macro_rules! impl_text {
    ($($ty:ident),*) => {$(
        impl fmt::Debug for $ty<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.0, f)
            }
        }

        impl fmt::Display for $ty<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }

        impl<'a> TryFrom<&'a str> for $ty<'a> {
            type Error = StringError;

            fn try_from(text: &'a str) -> Result<Self, StringError> {
                Self::new(text)
            }
        }

        impl AsRef<str> for $ty<'_> {
            fn as_ref(&self) -> &str {
                self.0
            }
        }
    )*};
}

impl_text!(MqttStr, TopicName, TopicFilter);

#[cfg(test)]
mod tests {
    use std::vec;

    use super::*;

    fn matches(filter: &str, name: &str) -> bool {
        topic_matches(
            TopicFilter::new(filter).unwrap(),
            TopicName::new(name).unwrap(),
        )
    }

    #[test]
    fn spec_examples_of_multi_level_wildcard() {
        // MQTT 3.1.1 section 4.7.1.2.
        for name in [
            "sport/tennis/player1",
            "sport/tennis/player1/ranking",
            "sport/tennis/player1/score/wimbledon",
        ] {
            assert!(matches("sport/tennis/player1/#", name), "{name}");
        }
        assert!(matches("sport/#", "sport"));
        assert!(matches("#", "anything/at/all"));
    }

    #[test]
    fn spec_examples_of_single_level_wildcard() {
        // MQTT 3.1.1 section 4.7.1.3.
        assert!(matches("sport/tennis/+", "sport/tennis/player1"));
        assert!(matches("sport/tennis/+", "sport/tennis/player2"));
        assert!(!matches("sport/tennis/+", "sport/tennis/player1/ranking"));
        assert!(!matches("sport/+", "sport"));
        assert!(matches("sport/+", "sport/"));
        assert!(matches("+/+", "/finance"));
        assert!(matches("/+", "/finance"));
        assert!(!matches("+", "/finance"));
        assert!(matches("+/tennis/#", "sport/tennis/player1"));
    }

    #[test]
    fn mqtt_4_7_2_1_leading_wildcards_do_not_match_dollar_topics() {
        assert!(!matches("#", "$SYS/broker/uptime"));
        assert!(!matches("+/monitor/Clients", "$SYS/monitor/Clients"));
        assert!(matches("$SYS/#", "$SYS/broker/uptime"));
        assert!(matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
    }

    #[test]
    fn topic_names_and_filters_are_case_and_space_sensitive() {
        // MQTT 3.1.1 section 4.7.3: no normalisation.
        assert!(!matches("ACCOUNTS", "Accounts"));
        assert!(matches("Accounts payable", "Accounts payable"));
        assert!(!matches("a/b", "a/b/"));
    }

    #[test]
    fn filter_syntax() {
        for ok in [
            "#", "+", "+/+", "/+", "a/#", "a/+/b", "/", "//", "a//b", "+/#",
        ] {
            assert!(TopicFilter::new(ok).is_ok(), "{ok}");
        }
        for bad in ["a#", "#/a", "a/#/b", "a+", "+a", "a/b+/c", "##", "++"] {
            assert_eq!(
                TopicFilter::new(bad),
                Err(StringError::InvalidWildcard),
                "{bad}"
            );
        }
        assert_eq!(TopicFilter::new(""), Err(StringError::EmptyTopic));
    }

    #[test]
    fn the_word_scan_finds_every_forbidden_byte_at_every_position() {
        // Every length across the word boundaries, every position, every byte value: the SWAR
        // scan must agree with a plain byte loop, including bytes next to 0x00, '+' and '#'.
        for len in 1..=40 {
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut text = vec![b'a'; len];
                    text[at] = byte;
                    let plain = text.iter().any(|&b| b == 0 || b == b'+' || b == b'#');
                    assert_eq!(
                        has_nul_or_wildcard(&text),
                        plain,
                        "len {len} at {at} byte {byte:#x}"
                    );
                }
            }
        }
        // Neighbours that could borrow into a match: 0x01 after 0x00, 0x2C after '+', etc.
        for pair in [
            [0x00, 0x01],
            [0x01, 0x00],
            [b'+', 0x2C],
            [0x22, b'#'],
            [0x80, 0x00],
        ] {
            let mut text = *b"abcdefghijklmnop";
            text[7..9].copy_from_slice(&pair);
            assert!(has_nul_or_wildcard(&text), "{pair:02x?}");
        }
    }

    #[test]
    fn strings_count_length_in_utf8_bytes() {
        let long = "é".repeat(32_768); // 65,536 bytes in 32,768 characters
        assert_eq!(MqttStr::new(&long), Err(StringError::TooLong));
        assert!(MqttStr::new(&long[2..]).is_ok());
    }
}
