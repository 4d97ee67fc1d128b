//! Input text: decoding a file's bytes the way kustomize does, and cutting
//! echoed input down to a size fit for a one-line message.

use std::borrow::Cow;

use crate::ParseError;

const BOM: char = '\u{feff}';

/// Decodes the bytes of a YAML file as kustomize reads them.
///
/// - UTF-8, with a byte-order mark at the start dropped, and one right after a
///   `---` line dropped too (kustomize splits a file into documents before
///   decoding each, so a document may start with its own mark). A mark anywhere
///   else is content, as in kustomize.
/// - UTF-16 with a byte-order mark (little or big endian) is decoded. kustomize
///   only reads the first document of such a file (its document splitting looks
///   for an ASCII `---` line, which UTF-16 text does not contain, and the YAML
///   decoder then reads one document), so the text ends where a second
///   document would start.
///
/// Other bytes that are not UTF-8 are an error.
pub fn decode_text(bytes: Vec<u8>) -> Result<String, ParseError> {
    let utf16 = match bytes.get(..2) {
        Some([0xff, 0xfe]) => Some(u16::from_le_bytes as fn([u8; 2]) -> u16),
        Some([0xfe, 0xff]) => Some(u16::from_be_bytes as fn([u8; 2]) -> u16),
        _ => None,
    };
    if let Some(unit) = utf16 {
        let body = bytes.get(2..).unwrap_or_default();
        if body.len() % 2 != 0 {
            return Err(ParseError {
                message: "UTF-16 text has an odd number of bytes".to_owned(),
            });
        }
        let units = body.chunks_exact(2).map(|c| unit([c[0], c[1]]));
        let text: String = char::decode_utf16(units)
            .collect::<Result<_, _>>()
            .map_err(|e| ParseError {
                message: format!(
                    "UTF-16 text has an unpaired surrogate ({:#06x})",
                    e.unpaired_surrogate()
                ),
            })?;
        let text = text.strip_prefix(BOM).unwrap_or(&text);
        return Ok(first_document(text).to_owned());
    }
    let mut text = String::from_utf8(bytes).map_err(|_| ParseError {
        message: "file is not valid UTF-8".to_owned(),
    })?;
    if text.starts_with(BOM) {
        text.drain(..BOM.len_utf8());
    }
    // 0xEF starts every encoded mark; a plain byte scan keeps mark-free text
    // (the norm) from a substring search.
    if text.as_bytes().contains(&0xef) && text.contains("\n---\n\u{feff}") {
        text = text.replace("\n---\n\u{feff}", "\n---\n");
    }
    Ok(text)
}

/// The text up to the start of its second document: the first `---` or `...`
/// marker line after the first document's content (or its own `---`).
fn first_document(text: &str) -> &str {
    let mut started = false;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let marker = |m: &str| {
            line.strip_prefix(m)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\n', '\r']))
        };
        if marker("---") {
            if started {
                return text.get(..at).unwrap_or(text);
            }
            started = true;
        } else if marker("...") {
            if started {
                return text.get(..at).unwrap_or(text);
            }
        } else {
            let content = line.trim_start();
            if !content.is_empty() && !content.starts_with('#') && !line.starts_with('%') {
                started = true;
            }
        }
        at += line.len();
    }
    text
}

/// `text` cut to at most `max_chars` characters (on a character boundary), with
/// `...` and the number of characters left out appended when it was cut. For
/// error messages that quote input: a message stays one readable line however
/// large the input.
pub fn excerpt(text: &str, max_chars: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => {
            let rest = text.get(cut..).map_or(0, |r| r.chars().count());
            Cow::Owned(format!(
                "{}... ({rest} more characters)",
                text.get(..cut).unwrap_or_default()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut out = if big_endian {
            vec![0xfe, 0xff]
        } else {
            vec![0xff, 0xfe]
        };
        for u in text.encode_utf16() {
            out.extend(if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        out
    }

    #[test]
    fn utf16_is_decoded_up_to_the_second_document() {
        let text = "a: é\n---\nb: 2\n";
        for be in [false, true] {
            assert_eq!(decode_text(utf16(text, be)).unwrap(), "a: é\n");
        }
        assert_eq!(
            decode_text(utf16("# c\n---\na: 1\n...\nb: 2\n", false)).unwrap(),
            "# c\n---\na: 1\n"
        );
        assert!(decode_text(vec![0xff, 0xfe, 0x61]).is_err());
        assert!(decode_text(vec![0xff, 0xfe, 0x00, 0xd8]).is_err());
    }

    #[test]
    fn byte_order_marks_at_document_starts_are_dropped() {
        let text = "\u{feff}a: 1\n---\n\u{feff}b: 2\n".as_bytes().to_vec();
        assert_eq!(decode_text(text).unwrap(), "a: 1\n---\nb: 2\n");
        let inside = "a: 1\n\u{feff}b: 2\n".as_bytes().to_vec();
        assert_eq!(decode_text(inside).unwrap(), "a: 1\n\u{feff}b: 2\n");
        assert!(decode_text(vec![0x61, 0xff]).is_err());
    }

    #[test]
    fn excerpts_cut_on_characters() {
        assert_eq!(excerpt("abc", 3), "abc");
        assert_eq!(excerpt("ééééé", 2), "éé... (3 more characters)");
    }
}
